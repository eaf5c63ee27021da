/**
 * The deterministic content of the built-in mock provider (like LiteLLM's fake endpoint):
 * the same request always gets the same text and the same embedding.
 */
import { createHash } from 'node:crypto';

/** Rough token count (4 characters a token), never zero. */
export function approximateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) => {
        if (typeof part === 'string') return part;
        if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') return (part as { text: string }).text;
        return '';
      })
      .join('');
  }
  return '';
}

/** All prompt text of a chat request, for token counting. */
export function chatPromptText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  return messages.map((message: unknown) => (message && typeof message === 'object' ? textOfContent((message as { content?: unknown }).content) : '')).join('\n');
}

/** The last user message of a chat request. */
export function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown } | null;
    if (message && message.role === 'user') return textOfContent(message.content);
  }
  return '';
}

/** The prompt text of a Responses request (`input` is a string or a list of items). */
export function responsesInputText(body: Record<string, unknown>): string {
  const input = body.input;
  if (typeof input === 'string') return input;
  if (Array.isArray(input)) {
    for (let i = input.length - 1; i >= 0; i--) {
      const item = input[i] as { role?: unknown; content?: unknown } | null;
      if (item && (item.role === undefined || item.role === 'user')) return textOfContent(item.content);
    }
  }
  return '';
}

/** `mock_response` when configured, else an echo of the prompt. */
export function mockAnswer(mockResponse: unknown, prompt: string): string {
  if (mockResponse !== undefined && mockResponse !== null) return String(mockResponse);
  const echo = prompt.trim().replace(/\s+/g, ' ');
  if (echo.length === 0) return 'This is a mock response from Portico.';
  return `Mock response to: ${echo.length > 200 ? `${echo.slice(0, 200)}...` : echo}`;
}

/** Splits text into a few stream pieces that concatenate back to it. */
export function streamPieces(text: string, maxPieces = 8): string[] {
  const words = text.split(/(?<=\s)/);
  const perPiece = Math.max(1, Math.ceil(words.length / maxPieces));
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += perPiece) pieces.push(words.slice(i, i + perPiece).join(''));
  return pieces.length > 0 ? pieces : [''];
}

/** A unit-length vector derived from the model and the input: stable across runs. */
export function mockEmbedding(model: string, input: unknown, dimensions: number): Float32Array {
  const seed = createHash('sha256').update(model).update('\0').update(JSON.stringify(input)).digest();
  let state = seed.readUInt32LE(0) || 1;
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    // xorshift32: cheap, deterministic, good enough to spread values.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const value = state / 0xffffffff - 0.5;
    vector[i] = value;
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dimensions; i++) vector[i] *= scale;
  return vector;
}

/** The `embedding` field in the format asked for (the openai SDK asks for base64 by default). */
export function encodeEmbedding(vector: Float32Array, format: unknown): number[] | string {
  if (format === 'base64') return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
  return Array.from(vector);
}
