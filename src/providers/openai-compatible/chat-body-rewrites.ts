/**
 * What some OpenAI-compatible services need changed in a chat request, as LiteLLM changes it for
 * them (`presets.ts` says which service needs which):
 *
 * - `max_tokens` only: OpenAI's newer `max_completion_tokens` is sent as `max_tokens`, which these
 *   servers know (LiteLLM's `OpenAILikeChatConfig` and the `param_mappings` of its
 *   `openai_like/providers.json`);
 * - text as a string: a message whose content is a list of text parts only is sent as one string
 *   (LiteLLM's `convert_content_list_to_str`, joined without a separator); a list with an image or
 *   audio part is left as it is.
 */
export interface ChatBodyRewrites {
  readonly maxTokensOnly?: boolean;
  readonly textContentAsString?: boolean;
}

function isTextPart(part: unknown): part is { type: 'text'; text: string } {
  return typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string';
}

function withTextContentAsString(messages: unknown): unknown {
  if (!Array.isArray(messages)) return messages;
  let changed = false;
  const rewritten = messages.map((message: unknown) => {
    const content = (message as { content?: unknown } | null)?.content;
    if (!Array.isArray(content) || content.length === 0 || !content.every(isTextPart)) return message;
    changed = true;
    return { ...(message as object), content: content.map((part) => part.text).join('') };
  });
  return changed ? rewritten : messages;
}

/** The request as the service takes it; the same object when nothing needs changing. */
export function rewriteChatBody(body: Record<string, unknown>, rewrites: ChatBodyRewrites): Record<string, unknown> {
  let out = body;
  if (rewrites.maxTokensOnly && body.max_completion_tokens !== undefined) {
    const { max_completion_tokens: maxCompletionTokens, ...rest } = body;
    out = rest.max_tokens === undefined ? { ...rest, max_tokens: maxCompletionTokens } : rest;
  }
  if (rewrites.textContentAsString) {
    const messages = withTextContentAsString(out.messages);
    if (messages !== out.messages) out = { ...out, messages };
  }
  return out;
}

/** Whether `rewrites` ever change a request. */
export function rewritesChat(rewrites: ChatBodyRewrites): boolean {
  return rewrites.maxTokensOnly === true || rewrites.textContentAsString === true;
}
