/**
 * A file uploaded through Portico, named by id in a model request as the OpenAI SDKs let you (a
 * chat `file` part, a Responses `input_file` / `input_image`), reaches every provider: the
 * gateway's id means nothing upstream, so the file's bytes are sent inline. Driven by the
 * official `openai` SDK against an Anthropic simulator (chat, a PDF as a document block) and an
 * OpenAI simulator (the Responses API); another tenant's file is a 404, an id the gateway never
 * issued goes upstream as sent, and too many bytes for one request is a 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { MAX_INLINE_BYTES } from '../../../src/managed/files/file-references.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, type AnthropicSimulator, startAnthropicSimulator } from '../../simulators/anthropic-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../../simulators/openai-simulator.ts';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

describe('files named by id in model requests, on every provider', () => {
  let anthropic: AnthropicSimulator;
  let openai: OpenAISimulator;
  let portico: PorticoUnderTest;
  let teamA: OpenAI;
  let teamB: OpenAI;
  let pdfId: string;
  let pngId: string;

  before(async () => {
    [anthropic, openai] = await Promise.all([startAnthropicSimulator(), startOpenAISimulator()]);
    portico = await startPortico(`
model_list:
  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}}}
  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
general_settings:
  master_key: sk-file-references-master-0123
`);
    teamA = portico.client((await portico.generateKey({ team_id: 'files-a' })).key);
    teamB = portico.client((await portico.generateKey({ team_id: 'files-b' })).key);
    pdfId = (await teamA.files.create({ file: await toFile(PDF, 'contract.pdf'), purpose: 'user_data' })).id;
    pngId = (await teamA.files.create({ file: await toFile(PNG, 'dot.png'), purpose: 'vision' })).id;
  });
  after(async () => {
    await portico?.close();
    await Promise.all([anthropic?.close(), openai?.close()]);
  });

  it('a chat file part reaches Anthropic as a document with the file\'s bytes', async () => {
    const completion = await teamA.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarise the contract.' }, { type: 'file', file: { file_id: pdfId } }] }],
    });
    assert.ok(completion.choices[0]!.message.content);
    const sent = anthropic.requests.at(-1)!.json as { messages: Array<{ content: Array<Record<string, unknown>> }> };
    const document = sent.messages[0]!.content.find((block) => block.type === 'document') as { source: { type: string; media_type: string; data: string } };
    assert.deepEqual([document.source.type, document.source.media_type], ['base64', 'application/pdf']);
    assert.deepEqual(Buffer.from(document.source.data, 'base64'), PDF);
  });

  it('a Responses input_file and input_image reach OpenAI inline, named as uploaded', async () => {
    await teamA.responses.create({
      model: 'gpt-4o',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Read these.' }, { type: 'input_file', file_id: pdfId }, { type: 'input_image', file_id: pngId, detail: 'low' }] }],
    });
    const sent = openai.requests.findLast((request) => request.path === '/v1/responses')!.json as { input: Array<{ content: Array<Record<string, unknown>> }> };
    const [, file, image] = sent.input[0]!.content;
    assert.equal(file!.file_id, undefined);
    assert.equal(file!.filename, 'contract.pdf');
    assert.equal(file!.file_data, `data:application/pdf;base64,${PDF.toString('base64')}`);
    assert.deepEqual(image, { type: 'input_image', detail: 'low', image_url: `data:image/png;base64,${PNG.toString('base64')}` });
  });

  it("another tenant's file is a 404; an id the gateway never issued goes upstream as sent", async () => {
    const refused = await teamB.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: pdfId } }] }] })
      .catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.NotFoundError);
    assert.equal((refused.error as { message: string }).message, `No such File object: ${pdfId}`);

    const foreign = 'file-AbCdEfGhIjKlMnOpQrStUvWx';
    await teamA.responses.create({ model: 'gpt-4o', input: [{ role: 'user', content: [{ type: 'input_file', file_id: foreign }] }] });
    const sent = openai.requests.findLast((request) => request.path === '/v1/responses')!.json as { input: Array<{ content: Array<Record<string, unknown>> }> };
    assert.deepEqual(sent.input[0]!.content[0], { type: 'input_file', file_id: foreign });
  });

  it('more bytes than one request may carry inline is a 400 before any upstream call', async () => {
    const big = (await teamA.files.create({ file: await toFile(Buffer.from('%PDF-1.4 small'), 'big.pdf'), purpose: 'user_data' })).id;
    // Recorded as larger than the limit: refused on the recorded size, before its bytes are read.
    await portico.services.database.kysely.updateTable('files').set({ bytes: MAX_INLINE_BYTES + 1 }).where('id', '=', big).execute();
    const calls = anthropic.requests.length;
    const refused = await teamA.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: big } }] }] })
      .catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.BadRequestError);
    assert.equal(refused.code, 'file_too_large');
    assert.equal(anthropic.requests.length, calls);
  });
});
