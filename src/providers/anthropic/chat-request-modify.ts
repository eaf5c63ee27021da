/**
 * LiteLLM's `modify_params` for Anthropic: when a deployment (or `litellm_settings`) sets it, a
 * request Anthropic would refuse for the shape of its conversation is fixed up instead, the way
 * LiteLLM does it. Without `modify_params` nothing here runs and Anthropic answers the 400.
 * Every change is a translation warning, so the client sees it (`x-portico-warnings`) and the
 * log has it.
 *
 * Taken from LiteLLM (BerriAI/litellm):
 * - no message left after the system prompt: a user message "Please continue." is added
 *   (`anthropic_messages_pt` and `DEFAULT_USER_CONTINUE_MESSAGE_TYPED` in
 *   litellm/litellm_core_utils/prompt_templates/factory.py at 00814e431474c9ac0bed03c3c45cc902dd478ce8);
 * - tool calls or tool results in the history but no `tools`: a placeholder tool `dummy_tool` is
 *   added, since Anthropic requires tools to be defined then (`AnthropicConfig.transform_request`
 *   in litellm/llms/anthropic/chat/transformation.py at 005e5efa45f0895fb072ab7a28e887bd51685027,
 *   `add_dummy_tool` in litellm/utils.py).
 * What LiteLLM's other Anthropic fix-ups cover, Portico's translation does whatever the setting:
 * consecutive same-role messages are merged and empty text is left out (chat-request-messages.ts).
 */
import type { AnthropicMessageParams, AnthropicTextBlockParam, AnthropicToolParam } from './wire-types.ts';
import type { TranslationWarning } from './warnings.ts';

/** LiteLLM's placeholder user turn. */
export const CONTINUE_TEXT = 'Please continue.';

/** LiteLLM's placeholder tool (`add_dummy_tool`). */
export const DUMMY_TOOL: Readonly<AnthropicToolParam> = Object.freeze({
  name: 'dummy_tool',
  description: 'This is a dummy tool call',
  input_schema: { type: 'object', properties: {} },
});

/** Fixes up `params` in place, recording each change in `warnings`. */
export function applyModifyParams(params: AnthropicMessageParams, warnings: TranslationWarning[]): void {
  if (params.messages.length === 0) {
    const placeholder: AnthropicTextBlockParam = { type: 'text', text: CONTINUE_TEXT };
    params.messages.push({ role: 'user', content: [placeholder] });
    warnings.push({
      param: 'messages',
      message: `no message is left after the system prompt; a user message '${CONTINUE_TEXT}' was added (modify_params).`,
    });
  }
  if (params.tools === undefined && hasToolBlocks(params)) {
    params.tools = [{ ...DUMMY_TOOL, input_schema: { type: 'object', properties: {} } }];
    warnings.push({
      param: 'tools',
      message: `the messages hold tool calls but the request has no tools; a placeholder tool '${DUMMY_TOOL.name}' was added (modify_params).`,
    });
  }
}

function hasToolBlocks(params: AnthropicMessageParams): boolean {
  return params.messages.some((message) => message.content.some((block) => block.type === 'tool_use' || block.type === 'tool_result'));
}
