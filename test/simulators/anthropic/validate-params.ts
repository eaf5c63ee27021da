/**
 * Validation of a Messages API body the way Anthropic reports it: a 400 `invalid_request_error`
 * whose message names the field path (`messages.1.content: ...`, `max_tokens: Field required`).
 * Used synchronously by `POST /v1/messages` and asynchronously for each Message Batch request
 * (where a failure becomes an `errored` result).
 *
 * Rules (API reference "Messages" and the `CreateMessageParams` schema): `model`, `messages`,
 * `max_tokens` (integer >= 1) required; unknown top-level fields rejected; roles are `user` /
 * `assistant` only (system prompts go in top-level `system`); consecutive turns of the same role
 * are allowed (merged); every message but an optional final assistant one has non-empty content;
 * `tool_use` blocks need matching `tool_result` blocks in the next message and vice versa, and a
 * request holding either must define `tools`; tools
 * need a `name` matching `^[a-zA-Z0-9_-]{1,64}$` and an object `input_schema`; extended thinking's
 * rules are `thinking.ts`'s.
 */

import { validateThinking } from './thinking.ts';

type Json = Record<string, unknown>;

export interface ParamsError {
  status: number;
  message: string;
}

const KNOWN_FIELDS = new Set([
  'model', 'messages', 'max_tokens', 'metadata', 'stop_sequences', 'stream', 'system', 'temperature', 'tool_choice', 'tools',
  'top_k', 'top_p', 'thinking', 'service_tier', 'container', 'mcp_servers', 'context_management',
]);
const BLOCK_TYPES = new Set(['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking', 'search_result']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const bad = (message: string): ParamsError => ({ status: 400, message });

export function validateMessageParams(body: Json, options: { batch: boolean }): ParamsError | null {
  for (const key of Object.keys(body)) if (!KNOWN_FIELDS.has(key)) return bad(`${key}: Extra inputs are not permitted`);
  for (const field of ['model', 'messages', 'max_tokens'] as const) if (body[field] === undefined) return bad(`${field}: Field required`);
  if (typeof body.model !== 'string') return bad('model: Input should be a valid string');
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens)) return bad('max_tokens: Input should be a valid integer');
  if (body.max_tokens < 1) return bad('max_tokens: Input should be greater than or equal to 1');
  if (options.batch && body.stream === true) return bad('stream: Streaming is not supported in the Message Batches API');
  if (body.temperature !== undefined && (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 1)) {
    return bad('temperature: Input should be less than or equal to 1');
  }
  const systemError = validateSystem(body.system);
  if (systemError) return systemError;
  const toolsError = validateTools(body.tools);
  if (toolsError) return toolsError;
  return validateMessages(body.messages, Array.isArray(body.tools) && body.tools.length > 0) ?? validateThinking(body);
}

function validateSystem(system: unknown): ParamsError | null {
  if (system === undefined || typeof system === 'string') return null;
  if (!Array.isArray(system)) return bad('system: Input should be a valid string');
  const i = system.findIndex((b) => !b || (b as Json).type !== 'text' || typeof (b as Json).text !== 'string');
  return i < 0 ? null : bad(`system.${i}: Input should be a valid dictionary or object with type 'text'`);
}

function validateTools(tools: unknown): ParamsError | null {
  if (tools === undefined) return null;
  if (!Array.isArray(tools)) return bad('tools: Input should be a valid list');
  for (const [i, t] of (tools as Json[]).entries()) {
    if (!t || typeof t !== 'object') return bad(`tools.${i}: Input should be a valid dictionary`);
    if (typeof t.type === 'string' && t.type !== 'custom') continue; // server / versioned tools (web_search_..., bash_...)
    if (typeof t.name !== 'string') return bad(`tools.${i}.name: Field required`);
    if (!TOOL_NAME.test(t.name)) return bad(`tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
    const schema = t.input_schema as Json | undefined;
    if (schema === undefined) return bad(`tools.${i}.input_schema: Field required`);
    if (!schema || typeof schema !== 'object' || schema.type !== 'object') return bad(`tools.${i}.input_schema.type: Input should be 'object'`);
  }
  return null;
}

function blocksOf(content: unknown): Json[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content as Json[]) : [];
}

function validateMessages(messages: unknown, hasTools: boolean): ParamsError | null {
  if (!Array.isArray(messages)) return bad('messages: Input should be a valid list');
  if (messages.length === 0) return bad('messages: at least one message is required');
  const list = messages as Json[];
  for (const [i, m] of list.entries()) {
    if (!m || typeof m !== 'object') return bad(`messages.${i}: Input should be a valid dictionary`);
    if (m.role === 'system') {
      return bad('messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.');
    }
    if (m.role !== 'user' && m.role !== 'assistant') return bad(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) return bad(`messages.${i}.content: Input should be a valid string or list`);
    const isFinalAssistant = i === list.length - 1 && m.role === 'assistant';
    if (blocksOf(m.content).length === 0 && !isFinalAssistant) {
      return bad(`messages.${i}: all messages must have non-empty content except for the optional final assistant message`);
    }
    for (const [j, b] of blocksOf(m.content).entries()) {
      if (!b || typeof b !== 'object' || !BLOCK_TYPES.has(String(b.type))) {
        return bad(`messages.${i}.content.${j}.type: Input tag '${String(b?.type)}' found using 'type' does not match any of the expected tags: ${[...BLOCK_TYPES].map((t) => `'${t}'`).join(', ')}`);
      }
      if (b.type === 'text' && typeof b.text !== 'string') return bad(`messages.${i}.content.${j}.text: Field required`);
      if (b.type === 'tool_use' && m.role !== 'assistant') return bad(`messages.${i}.content.${j}: tool_use blocks may only appear in assistant messages`);
      if (b.type === 'tool_result' && m.role !== 'user') return bad(`messages.${i}.content.${j}: tool_result blocks may only appear in user messages`);
      if ((b.type === 'tool_use' || b.type === 'tool_result') && !hasTools) {
        return bad(`messages.${i}.content.${j}: Requests which include \`tool_use\` or \`tool_result\` blocks must define tools.`);
      }
    }
  }
  return validateToolPairs(mergeTurns(list));
}

/** Consecutive messages of one role form one turn (Anthropic combines them). */
function mergeTurns(list: Json[]): Array<{ index: number; role: string; blocks: Json[] }> {
  const turns: Array<{ index: number; role: string; blocks: Json[] }> = [];
  list.forEach((m, index) => {
    const last = turns.at(-1);
    if (last && last.role === m.role) last.blocks.push(...blocksOf(m.content));
    else turns.push({ index, role: String(m.role), blocks: [...blocksOf(m.content)] });
  });
  return turns;
}

function validateToolPairs(turns: Array<{ index: number; role: string; blocks: Json[] }>): ParamsError | null {
  for (const [t, turn] of turns.entries()) {
    const uses = turn.role === 'assistant' ? turn.blocks.filter((b) => b.type === 'tool_use').map((b) => String(b.id)) : [];
    const next = turns[t + 1];
    if (uses.length > 0 && next) {
      const answered = new Set(next.blocks.filter((b) => b.type === 'tool_result').map((b) => String(b.tool_use_id)));
      const missing = uses.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return bad(
          `messages.${next.index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
    if (turn.role === 'user') {
      const previous = turns[t - 1];
      const known = new Set(previous ? previous.blocks.filter((b) => b.type === 'tool_use').map((b) => String(b.id)) : []);
      const orphans = turn.blocks.filter((b) => b.type === 'tool_result' && !known.has(String(b.tool_use_id))).map((b) => String(b.tool_use_id));
      if (orphans.length > 0) {
        return bad(
          `messages.${turn.index}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${orphans.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    }
  }
  return null;
}
