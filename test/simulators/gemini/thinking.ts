/**
 * Gemini's thinking as the Gemini API documents it (https://ai.google.dev/gemini-api/docs/thinking,
 * https://ai.google.dev/gemini-api/docs/thought-signatures):
 * - `generationConfig.thinkingConfig`: `thinkingBudget` (0 turns thinking off, -1 lets the model
 *   decide) or `thinkingLevel`, not both, and `includeThoughts` to get thought summaries back as
 *   parts with `thought: true`;
 * - Gemini 3 models sign their function calls (`thoughtSignature` on the first call part of a
 *   step) and refuse a request whose current turn (since the last user text) holds a model
 *   function call without its signature, or with one they did not issue.
 * The simulator signs with an HMAC of a key made when this module loads.
 */
import { createHmac, randomBytes } from 'node:crypto';

type Json = Record<string, unknown>;

const signingKey = randomBytes(32);
const THINKING_KEYS = new Set(['thinkingBudget', 'includeThoughts', 'thinkingLevel']);

export function signFunctionCall(call: Json): string {
  return createHmac('sha256', signingKey).update(`${String(call.name)}:${JSON.stringify(call.args ?? {})}`).digest('base64');
}

/** Models that sign their function calls and check the signatures sent back. */
export function signsFunctionCalls(model: string): boolean {
  return /^gemini-3/.test(model);
}

export function thinkingConfigProblem(config: unknown): string | null {
  if (config === undefined) return null;
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return "Invalid value at 'generation_config.thinking_config'";
  for (const key of Object.keys(config)) if (!THINKING_KEYS.has(key)) return `Invalid JSON payload received. Unknown name "${key}" at 'generation_config.thinking_config': Cannot find field.`;
  const { thinkingBudget, thinkingLevel, includeThoughts } = config as Json;
  if (thinkingBudget !== undefined && (!Number.isInteger(thinkingBudget) || (thinkingBudget as number) < -1)) return "Invalid value at 'generation_config.thinking_config.thinking_budget' (TYPE_INT32)";
  if (includeThoughts !== undefined && typeof includeThoughts !== 'boolean') return "Invalid value at 'generation_config.thinking_config.include_thoughts' (TYPE_BOOL)";
  if (thinkingBudget !== undefined && thinkingLevel !== undefined) return 'You can only set only one of thinking budget and thinking level.';
  return null;
}

/** The 400 a Gemini 3 model answers for an unsigned or altered function call in the current turn, or null. */
export function signatureProblem(contents: Json[]): string | null {
  const lastUserText = contents.findLastIndex((content) => content.role !== 'model' && (content.parts as Json[]).some((part) => typeof part.text === 'string'));
  for (let i = Math.max(lastUserText, 0); i < contents.length; i += 1) {
    const content = contents[i];
    if (content.role !== 'model') continue;
    const parts = content.parts as Json[];
    const position = parts.findIndex((part) => part.functionCall !== undefined);
    if (position < 0) continue;
    const part = parts[position];
    const call = part.functionCall as Json;
    if (typeof part.thoughtSignature !== 'string' || part.thoughtSignature !== signFunctionCall(call)) {
      return (
        'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. ' +
        `Additional data, function call \`default_api:${String(call.name)}\` , position ${position + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`
      );
    }
  }
  return null;
}

/** The thought summary part a model with `includeThoughts` answers first, or undefined. */
export function thoughtPartFor(config: Json, userText: string): Json | undefined {
  const thinking = config.thinkingConfig as Json | undefined;
  if (thinking?.includeThoughts !== true || thinking.thinkingBudget === 0) return undefined;
  return { text: `**Reading the question**\n\nThe user wrote "${userText}"; I will answer with those words.`, thought: true };
}
