/**
 * The simulated model behind `generateContent`, `streamGenerateContent`, `batchEmbedContents`
 * and batch requests, answering GenerateContentResponse shapes from the REST reference
 * (https://ai.google.dev/api/generate-content; docs/specs/gemini-api.md). Deterministic, on the
 * shared fake model (`common/fake-model.ts`): the reply echoes the last user text; `FAIL` /
 * `FAIL:<status>` fail the request; `use tool` with function declarations calls the first one;
 * a text with `UNSAFE` is stopped for SAFETY; a text with `think` reports 5 thought tokens; a
 * system instruction seen before counts as cached content (`cachedContentTokenCount`); thinking
 * and thought signatures as `thinking.ts` has them.
 */
import { randomBase62 } from '../common/ids.ts';
import { countTokens, embeddingVector, requestedFailureStatus, streamPieces, toolArguments, truncateToTokens, TOOL_TRIGGER } from '../common/fake-model.ts';
import { googleStatus } from './errors.ts';
import { signatureProblem, signFunctionCall, signsFunctionCalls, thinkingConfigProblem, thoughtPartFor } from './thinking.ts';

type Json = Record<string, unknown>;

export interface GenerateContext {
  /** `null` when the model is served, else its 404 message. */
  modelError(model: string): string | null;
  /** System instructions seen, for implicit caching. */
  promptCache: Set<string>;
}

export type GenerateOutcome = { response: Json } | { error: Record<string, unknown> };

const ROLES = new Set(['user', 'model', 'function']);
const PART_FIELDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];
const TYPES = new Set(['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);
const GENERATION_CONFIG_KEYS = new Set([
  'stopSequences', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'responseModalities', 'candidateCount', 'maxOutputTokens', 'temperature', 'topP', 'topK',
  'seed', 'presencePenalty', 'frequencyPenalty', 'responseLogprobs', 'logprobs', 'thinkingConfig', 'mediaResolution', 'speechConfig', 'enableEnhancedCivicAnswers',
]);

/** The 400 message for a request Google would refuse, or null. */
export function validateGenerateRequest(body: unknown): string | null {
  if (!isRecord(body)) return 'Invalid JSON payload received.';
  if (!Array.isArray(body.contents) || body.contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified';
  for (const [i, content] of body.contents.entries()) {
    if (!isRecord(content) || !Array.isArray(content.parts) || content.parts.length === 0) return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`;
    if (content.role !== undefined && !ROLES.has(String(content.role))) return `Please use a valid role: user, model.`;
    for (const [j, part] of content.parts.entries()) {
      const fields = isRecord(part) ? PART_FIELDS.filter((field) => part[field] !== undefined) : [];
      if (fields.length !== 1) return `* GenerateContentRequest.contents[${i}].parts[${j}].data: required oneof field 'data' must have one initialized field`;
      if (isRecord(part) && isRecord(part.functionResponse) && !isRecord(part.functionResponse.response)) return `* GenerateContentRequest.contents[${i}].parts[${j}].function_response.response: must be an object`;
      if (isRecord(part) && isRecord(part.inlineData) && (typeof part.inlineData.mimeType !== 'string' || typeof part.inlineData.data !== 'string')) return `* GenerateContentRequest.contents[${i}].parts[${j}].inline_data: mime_type and data are required`;
    }
  }
  if (body.generationConfig !== undefined) {
    if (!isRecord(body.generationConfig)) return 'Invalid value at \'generation_config\'';
    for (const key of Object.keys(body.generationConfig)) if (!GENERATION_CONFIG_KEYS.has(key)) return `Invalid JSON payload received. Unknown name "${key}" at 'generation_config': Cannot find field.`;
    const thinkingProblem = thinkingConfigProblem(body.generationConfig.thinkingConfig);
    if (thinkingProblem) return thinkingProblem;
    const schema = body.generationConfig.responseSchema;
    if (schema !== undefined) {
      const problem = schemaProblem(schema, 'generation_config.response_schema');
      if (problem) return problem;
      if (body.generationConfig.responseMimeType !== 'application/json' && body.generationConfig.responseMimeType !== 'text/x.enum') return 'response_mime_type must be application/json when response_schema is set.';
    }
  }
  for (const tool of Array.isArray(body.tools) ? body.tools : []) {
    for (const fn of isRecord(tool) && Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations : []) {
      if (!isRecord(fn) || typeof fn.name !== 'string') return '* GenerateContentRequest.tools[0].function_declarations[0].name: Name cannot be empty.';
      if (fn.parameters !== undefined) {
        const problem = schemaProblem(fn.parameters, `tools.function_declarations[${fn.name}].parameters`);
        if (problem) return problem;
      }
    }
  }
  return null;
}

/** Gemini's Schema is OpenAPI 3.0: JSON-Schema-only keywords are unknown fields. */
function schemaProblem(schema: unknown, path: string): string | null {
  if (!isRecord(schema)) return `Invalid value at '${path}'`;
  for (const key of ['additionalProperties', '$ref', '$defs', 'const', 'allOf', '$schema']) {
    if (key in schema) return `Invalid JSON payload received. Unknown name "${key}" at '${path}': Cannot find field.`;
  }
  if (schema.type !== undefined && !TYPES.has(String(schema.type).toUpperCase())) return `Invalid value at '${path}.type'`;
  if (String(schema.type).toUpperCase() === 'OBJECT' && isRecord(schema.properties) && Object.keys(schema.properties).length === 0) {
    return `* ${path}.properties: should be non-empty for OBJECT type`;
  }
  for (const [name, property] of Object.entries(isRecord(schema.properties) ? schema.properties : {})) {
    const problem = schemaProblem(property, `${path}.properties[${name}]`);
    if (problem) return problem;
  }
  if (schema.items !== undefined) return schemaProblem(schema.items, `${path}.items`);
  return null;
}

export function generate(model: string, body: Json, ctx: GenerateContext): GenerateOutcome {
  const modelError = ctx.modelError(model);
  if (modelError) return { error: googleStatus(404, modelError) };
  const invalid = validateGenerateRequest(body);
  if (invalid) return { error: googleStatus(400, invalid) };
  const contents = body.contents as Json[];
  const unsigned = signsFunctionCalls(model) ? signatureProblem(contents) : null;
  if (unsigned) return { error: googleStatus(400, unsigned) };
  const lastUser = [...contents].reverse().find((content) => content.role !== 'model');
  const userText = textOfParts(lastUser?.parts);
  const failure = requestedFailureStatus(userText);
  if (failure !== null) return { error: googleStatus(failure, failure === 400 ? 'Request contains an invalid argument.' : undefined) };

  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  const systemText = isRecord(body.systemInstruction) ? textOfParts(body.systemInstruction.parts) : '';
  const promptText = [systemText, ...contents.map((content) => textOfParts(content.parts))].join('\n');
  const cached = systemText !== '' && ctx.promptCache.has(systemText) ? countTokens(systemText) : 0;
  if (systemText !== '') ctx.promptCache.add(systemText);

  const functions = (Array.isArray(body.tools) ? body.tools : []).flatMap((tool) => (isRecord(tool) && Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations : [])) as Json[];
  const mode = isRecord(body.toolConfig) && isRecord(body.toolConfig.functionCallingConfig) ? body.toolConfig.functionCallingConfig.mode : 'AUTO';
  const callTool = functions.length > 0 && mode !== 'NONE' && (mode === 'ANY' || TOOL_TRIGGER.test(userText));
  const candidateCount = typeof config.candidateCount === 'number' ? config.candidateCount : 1;
  const thought = thoughtPartFor(config, userText);
  const thoughts = thought !== undefined ? countTokens(String(thought.text)) : /think/i.test(userText) ? 5 : 0;
  let outputTokens = 0;
  const candidates: Json[] = [];
  for (let index = 0; index < candidateCount; index += 1) {
    let parts: Json[];
    let finishReason = 'STOP';
    if (callTool) {
      const allowed = isRecord(body.toolConfig) && isRecord(body.toolConfig.functionCallingConfig) && Array.isArray(body.toolConfig.functionCallingConfig.allowedFunctionNames) ? body.toolConfig.functionCallingConfig.allowedFunctionNames : undefined;
      const fn = functions.find((f) => allowed === undefined || allowed.includes(f.name)) ?? functions[0];
      const args = toolArguments(lowerSchema(fn.parameters), userText);
      const call = { name: fn.name, args };
      parts = [signsFunctionCalls(model) ? { functionCall: call, thoughtSignature: signFunctionCall(call) } : { functionCall: call }];
      outputTokens += countTokens(JSON.stringify(args));
    } else if (/UNSAFE/.test(userText)) {
      parts = [];
      finishReason = 'SAFETY';
    } else {
      const reply = config.responseMimeType === 'application/json' ? JSON.stringify({ echo: userText }) : userText;
      const { text, truncated } = truncateToTokens(reply, typeof config.maxOutputTokens === 'number' ? config.maxOutputTokens : undefined);
      parts = [{ text }];
      if (truncated) finishReason = 'MAX_TOKENS';
      outputTokens += countTokens(text);
    }
    if (thought !== undefined) parts.unshift(thought);
    const candidate: Json = { content: { parts, role: 'model' }, finishReason, index };
    if (finishReason === 'SAFETY') candidate.safetyRatings = [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }];
    candidates.push(candidate);
  }
  const promptTokens = countTokens(promptText);
  const usageMetadata: Json = { promptTokenCount: promptTokens, candidatesTokenCount: outputTokens, totalTokenCount: promptTokens + outputTokens + thoughts };
  if (cached > 0) usageMetadata.cachedContentTokenCount = cached;
  if (thoughts > 0) usageMetadata.thoughtsTokenCount = thoughts;
  return { response: { candidates, usageMetadata, modelVersion: model, responseId: randomBase62(22) } };
}

/** A response as `streamGenerateContent` sends it: text in pieces, the finish and usage last. */
export function streamChunks(response: Json): Json[] {
  const candidate = (response.candidates as Json[])[0];
  const parts = ((candidate.content as Json).parts as Json[]) ?? [];
  const base = { modelVersion: response.modelVersion, responseId: response.responseId };
  // A thought summary comes in a chunk of its own, before the answer.
  const thought = parts[0]?.thought === true ? parts[0] : undefined;
  const rest = thought === undefined ? parts : parts.slice(1);
  const usage = response.usageMetadata as Json;
  const thoughtChunks: Json[] = thought === undefined ? [] : [{ ...base, candidates: [{ content: { parts: [thought], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount } }];
  const text = rest.length === 1 && typeof rest[0].text === 'string' ? rest[0].text : undefined;
  if (text === undefined) return thought === undefined ? [{ ...response }] : [...thoughtChunks, { ...response, candidates: [{ ...candidate, content: { ...(candidate.content as Json), parts: rest } }] }];
  const pieces = streamPieces(text);
  return [...thoughtChunks, ...pieces.map((piece, i) => {
    const last = i === pieces.length - 1;
    const chunk: Json = { ...base, candidates: [{ content: { parts: [{ text: piece }], role: 'model' }, index: 0, ...(last ? { finishReason: candidate.finishReason } : {}) }] };
    // Usage grows as the answer does; the last chunk counts all of it.
    chunk.usageMetadata = last ? usage : { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount };
    return chunk;
  })];
}

export function embed(model: string, body: unknown, ctx: GenerateContext): { embeddings: Json[]; usageMetadata: Json } | { error: Record<string, unknown> } {
  const modelError = ctx.modelError(model);
  if (modelError) return { error: googleStatus(404, modelError) };
  if (!isRecord(body) || !Array.isArray(body.requests) || body.requests.length === 0) return { error: googleStatus(400, '* BatchEmbedContentsRequest.requests: requests is not specified') };
  if (body.requests.length > 100) return { error: googleStatus(400, '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch') };
  const embeddings: Json[] = [];
  let tokens = 0;
  for (const [i, request] of body.requests.entries()) {
    if (!isRecord(request) || request.model !== `models/${model}`) return { error: googleStatus(400, `* BatchEmbedContentsRequest.requests[${i}].model: model must be models/${model}.`) };
    const text = isRecord(request.content) ? textOfParts(request.content.parts) : '';
    if (text === '') return { error: googleStatus(400, `* BatchEmbedContentsRequest.requests[${i}].content: content is not specified`) };
    tokens += countTokens(text);
    const dimensions = typeof request.outputDimensionality === 'number' ? request.outputDimensionality : 3072;
    embeddings.push({ values: embeddingVector(text, dimensions) });
  }
  return { embeddings, usageMetadata: { promptTokenCount: tokens, totalTokenCount: tokens } };
}

export function textOfParts(parts: unknown): string {
  if (!Array.isArray(parts)) return '';
  return parts.flatMap((part) => (isRecord(part) && typeof part.text === 'string' ? [part.text] : [])).join('\n');
}

/** Gemini's upper-case types, read by the fake model's lower-case schema walker. */
function lowerSchema(schema: unknown): unknown {
  if (!isRecord(schema)) return schema;
  const properties = isRecord(schema.properties) ? Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, lowerSchema(v)])) : undefined;
  return { ...schema, ...(typeof schema.type === 'string' ? { type: schema.type.toLowerCase() } : {}), ...(properties ? { properties } : {}) };
}

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
