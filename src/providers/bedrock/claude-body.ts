/**
 * Claude's native InvokeModel body on Bedrock: Anthropic's Messages API params with
 * `anthropic_version: "bedrock-2023-05-31"` in the body and no `model` (the URL or the job names
 * it), and no `metadata` (not among Bedrock's Claude fields)
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html,
 * `docs/specs/bedrock.md` §Claude on InvokeModel). Batch jobs take it as each record's `modelInput`.
 */
import type { TranslationWarning } from '../../spec/provider.ts';
import { DEFAULT_MAX_TOKENS, translateChatRequest } from '../anthropic/chat-request.ts';

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** Claude models and their inference profiles (`anthropic.claude-...`, `us.anthropic.claude-...`). */
export function isClaudeModel(modelId: string): boolean {
  return /(^|\.)anthropic\.claude-/.test(modelId);
}

export function claudeInvokeBody(body: Record<string, unknown>, options: { defaultMaxTokens?: number; modifyParams: boolean }): { modelInput: Record<string, unknown>; warnings: TranslationWarning[] } {
  const { params, warnings } = translateChatRequest(body, { model: '', defaultMaxTokens: options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS, modifyParams: options.modifyParams });
  const { model: _model, metadata, stream: _stream, ...rest } = params;
  const all = [...warnings];
  if (metadata !== undefined) all.push({ param: 'user', message: "'user' is not supported by Claude on Amazon Bedrock and was dropped." });
  return { modelInput: { anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...rest }, warnings: all };
}
