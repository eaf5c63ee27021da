/**
 * OpenAI's audio endpoints through Portico with the `openai` SDK: speech (bytes and events),
 * transcriptions (every response format, a transcript stream) and translations, on OpenAI, Azure
 * OpenAI (under its deployment) and an OpenAI-compatible server; the form received whole and sent
 * again on a retry; a spend row per request priced as LiteLLM prices audio (per character, per
 * second, per token); the refusals a client can cause, each a 4xx in OpenAI's envelope, with no
 * temporary file left behind.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { silentWav } from '../../src/spec/audio.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, type AnthropicSimulator, startAnthropicSimulator } from '../simulators/anthropic-simulator.ts';
import { AZURE_SIMULATOR_API_KEY, type AzureSimulator, startAzureSimulator } from '../simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';

const MASTER_KEY = 'sk-audio-master-0123456789';

/** The simulators' fake audio: the bytes of `FAKEAUDIO/<format>:<text>` transcribe to `<text>`. */
const fakeAudio = (text: string, format = 'mp3'): Buffer => Buffer.from(`FAKEAUDIO/${format}:${text}`);

describe('audio: speech, transcriptions and translations', () => {
  let openai: OpenAISimulator;
  let compatible: OpenAISimulator;
  let azure: AzureSimulator;
  let anthropic: AnthropicSimulator;
  let portico: PorticoUnderTest;
  let client: OpenAI;
  let spoolDir: string;
  let previousTmpdir: string | undefined;

  before(async () => {
    // Portico's temporary audio files go to a directory of this test's own, to see them removed.
    spoolDir = await mkdtemp(join(tmpdir(), 'portico-audio-test-'));
    previousTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = spoolDir;
    [openai, compatible, azure, anthropic] = await Promise.all([
      startOpenAISimulator(),
      startOpenAISimulator(),
      startAzureSimulator({ deployments: ['whisper', 'tts'] }),
      startAnthropicSimulator(),
    ]);
    portico = await startPortico(`
model_list:
  - {model_name: whisper, litellm_params: {model: openai/whisper-1, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: transcribe, litellm_params: {model: openai/gpt-4o-transcribe, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: tts, litellm_params: {model: openai/tts-1, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: mini-tts, litellm_params: {model: openai/gpt-4o-mini-tts, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: azure-whisper, litellm_params: {model: azure/whisper, api_base: "${azure.url}", api_key: ${AZURE_SIMULATOR_API_KEY}, api_version: "2024-10-21"}, model_info: {base_model: azure/whisper-1}}
  - {model_name: azure-tts, litellm_params: {model: azure/tts, api_base: "${azure.url}", api_key: ${AZURE_SIMULATOR_API_KEY}, api_version: "2024-10-21"}, model_info: {mode: audio_speech, input_cost_per_character: 0.00002}}
  - {model_name: local-whisper, litellm_params: {model: hosted_vllm/whisper-large-v3, api_base: "${compatible.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}, input_cost_per_second: 0.001}}
  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}}}
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  spend_logs: { flush_interval_ms: 20 }
`);
    client = portico.client();
  });
  after(async () => {
    await portico.close();
    await Promise.all([openai.close(), compatible.close(), azure.close(), anthropic.close()]);
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
    await rm(spoolDir, { recursive: true, force: true });
  });

  /** The request's spend row. */
  async function spendRow(requestId: string): Promise<{ call_type: string; spend: number; model_group: string; status: string; total_tokens: number }> {
    await portico.services.spend!.ledger.flushAll();
    const response = await portico.fetch(`/spend/logs?request_id=${requestId}`);
    assert.equal(response.status, 200);
    const rows = (await response.json()) as Array<{ call_type: string; spend: number; model_group: string; status: string; total_tokens: number }>;
    assert.equal(rows.length, 1, requestId);
    return rows[0];
  }

  /** What is left in Portico's temporary directory, once the responses have closed (their audio files are removed then). */
  async function spooled(): Promise<string[]> {
    const left = async () => (await readdir(spoolDir)).filter((name) => name.startsWith('portico-audio-'));
    const deadline = Date.now() + 5_000;
    while ((await left()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return left();
  }

  const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;

  it('speech: the audio bytes as the upstream sent them, the deployment’s model upstream, priced per character', async () => {
    const response = await client.audio.speech.create({ model: 'tts', input: 'Hello there', voice: 'alloy' }, { headers: { 'x-request-id': 'speech-tts' } });
    assert.equal(response.headers.get('content-type'), 'audio/mpeg');
    assert.equal(Buffer.from(await response.arrayBuffer()).toString(), 'FAKEAUDIO/mp3:Hello there');
    const upstream = openai.requests.at(-1)!;
    assert.equal(upstream.path, '/v1/audio/speech');
    assert.deepEqual(upstream.json, { model: 'tts-1', input: 'Hello there', voice: 'alloy' });
    const row = await spendRow('speech-tts');
    assert.deepEqual([row.call_type, row.model_group, row.status], ['/audio/speech', 'tts', 'success']);
    assert.ok(close(row.spend, 11 * 1.5e-5), String(row.spend));

    const wav = await client.audio.speech.create({ model: 'tts', input: 'x', voice: 'alloy', response_format: 'wav' });
    assert.equal(wav.headers.get('content-type'), 'audio/wav');
    assert.equal(Buffer.from(await wav.arrayBuffer()).toString(), 'FAKEAUDIO/wav:x');
  });

  it('speech as events (`stream_format: "sse"`): relayed as sent, priced by the tokens of its last event', async () => {
    const response = await client.audio.speech.create({ model: 'mini-tts', input: 'Streamed speech here', voice: 'alloy', stream_format: 'sse' }, { headers: { 'x-request-id': 'speech-sse' } });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = (await response.text())
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: '))
      .map((frame) => JSON.parse(frame.slice(6)) as { type: string; audio?: string; usage?: { input_tokens: number; output_tokens: number } });
    const audio = Buffer.concat(events.filter((event) => event.type === 'speech.audio.delta').map((event) => Buffer.from(event.audio!, 'base64'))).toString();
    assert.equal(audio, 'FAKEAUDIO/mp3:Streamed speech here');
    const done = events.at(-1)!;
    assert.equal(done.type, 'speech.audio.done');
    const row = await spendRow('speech-sse');
    assert.equal(row.status, 'success');
    assert.ok(row.total_tokens > 0);
    assert.ok(close(row.spend, done.usage!.input_tokens * 2.5e-6 + done.usage!.output_tokens * 1e-5), String(row.spend));
  });

  it('transcription (json): the form sent upstream with the deployment’s model and the whole file, priced per second of audio', async () => {
    const transcript = await client.audio.transcriptions.create(
      { file: await toFile(fakeAudio('hello wide world'), 'speech.mp3', { type: 'audio/mpeg' }), model: 'whisper', language: 'en' },
      { headers: { 'x-request-id': 'transcribe-whisper' } },
    );
    assert.equal(transcript.text, 'hello wide world');
    const upstream = openai.requests.at(-1)!;
    assert.equal(upstream.path, '/v1/audio/transcriptions');
    const body = upstream.form!.toString('latin1');
    assert.match(body, /name="model"\r\n\r\nwhisper-1\r\n/);
    assert.match(body, /name="language"\r\n\r\nen\r\n/);
    assert.match(body, /name="file"; filename="speech.mp3"\r\nContent-Type: audio\/mpeg\r\n\r\nFAKEAUDIO\/mp3:hello wide world\r\n/);
    const row = await spendRow('transcribe-whisper');
    assert.deepEqual([row.call_type, row.model_group, row.status], ['/audio/transcriptions', 'whisper', 'success']);
    // Three words: 1.5 s of fake audio, reported as 2 s (`usage.seconds`), at $0.0001 a second.
    assert.ok(close(row.spend, 2 * 1e-4), String(row.spend));
    assert.deepEqual(await spooled(), []);
  });

  it('transcription in the other formats: text, subtitles, and verbose JSON with repeated array fields', async () => {
    const file = await toFile(fakeAudio('plain words'), 'a.wav');
    const text = await client.audio.transcriptions.create({ file, model: 'whisper', response_format: 'text' });
    assert.equal(String(text).trim(), 'plain words');
    const srt = await client.audio.transcriptions.create({ file: await toFile(fakeAudio('sub title'), 'a.wav'), model: 'whisper', response_format: 'srt' });
    assert.match(String(srt), /-->/);
    assert.match(String(srt), /sub title/);
    const verbose = await client.audio.transcriptions.create({
      file: await toFile(fakeAudio('every word timed'), 'a.ogg'),
      model: 'whisper',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });
    assert.equal(verbose.text, 'every word timed');
    assert.equal(verbose.words?.length, 3);
    assert.ok((verbose.segments?.length ?? 0) >= 1);
    const body = openai.requests.at(-1)!.form!.toString('latin1');
    assert.equal(body.match(/name="timestamp_granularities\[\]"/g)?.length, 2, 'both elements of the array field go upstream');
  });

  it('a transcript stream (`stream: true`): its events relayed, priced by the tokens of `transcript.text.done`', async () => {
    const stream = await client.audio.transcriptions.create(
      { file: await toFile(fakeAudio('streamed transcript words'), 'a.mp3'), model: 'transcribe', stream: true },
      { headers: { 'x-request-id': 'transcribe-stream' } },
    );
    const events: Array<{ type: string; delta?: string; text?: string; usage?: { input_tokens: number; output_tokens: number } }> = [];
    for await (const event of stream) events.push(event as never);
    assert.equal(events.filter((event) => event.type === 'transcript.text.delta').map((event) => event.delta).join(''), 'streamed transcript words');
    const done = events.at(-1)!;
    assert.equal(done.type, 'transcript.text.done');
    const row = await spendRow('transcribe-stream');
    assert.equal(row.status, 'success');
    assert.ok(close(row.spend, done.usage!.input_tokens * 2.5e-6 + done.usage!.output_tokens * 1e-5), String(row.spend));
  });

  it('translation, and both endpoints on Azure OpenAI under the deployment and on an OpenAI-compatible server', async () => {
    const translation = await client.audio.translations.create({ file: await toFile(fakeAudio('bonjour le monde'), 'fr.mp3'), model: 'whisper' });
    assert.equal(translation.text, 'bonjour le monde');
    assert.equal(openai.requests.at(-1)!.path, '/v1/audio/translations');

    const onAzure = await client.audio.transcriptions.create({ file: await toFile(fakeAudio('azure words'), 'a.mp3'), model: 'azure-whisper' }, { headers: { 'x-request-id': 'azure-whisper' } });
    assert.equal(onAzure.text, 'azure words');
    assert.equal(azure.requests.at(-1)!.path, '/openai/deployments/whisper/audio/transcriptions');
    assert.ok(close((await spendRow('azure-whisper')).spend, 1e-4), 'base_model azure/whisper-1: the catalogue’s per-second price');
    const speech = await client.audio.speech.create({ model: 'azure-tts', input: 'azure speech', voice: 'nova' }, { headers: { 'x-request-id': 'azure-tts' } });
    assert.equal(Buffer.from(await speech.arrayBuffer()).toString(), 'FAKEAUDIO/mp3:azure speech');
    assert.equal(azure.requests.at(-1)!.path, '/openai/deployments/tts/audio/speech');
    assert.ok(close((await spendRow('azure-tts')).spend, 12 * 2e-5));

    const local = await client.audio.transcriptions.create({ file: await toFile(fakeAudio('local words here'), 'a.mp3'), model: 'local-whisper' }, { headers: { 'x-request-id': 'local-whisper' } });
    assert.equal(local.text, 'local words here');
    assert.match(compatible.requests.at(-1)!.form!.toString('latin1'), /name="model"\r\n\r\nwhisper-large-v3\r\n/);
    assert.ok(close((await spendRow('local-whisper')).spend, 2 * 0.001), 'litellm_params.input_cost_per_second');
  });

  it('an answer that says no duration (text, a translation) is priced by the seconds of the audio file itself', async () => {
    // 2.5 s of silence as WAV, and 100 frames of a 128 kbit/s MP3 (2.612 s).
    const frame = Buffer.alloc(417);
    frame.set([0xff, 0xfb, 0x90, 0x00]);
    const mp3 = Buffer.concat(Array.from({ length: 100 }, () => frame));
    await client.audio.transcriptions.create({ file: await toFile(silentWav(2_500), 'quiet.wav'), model: 'whisper', response_format: 'text' }, { headers: { 'x-request-id': 'measured-wav' } });
    await client.audio.translations.create({ file: await toFile(mp3, 'frames.mp3'), model: 'whisper' }, { headers: { 'x-request-id': 'measured-mp3' } });
    await client.audio.transcriptions.create({ file: await toFile(fakeAudio('not really audio'), 'fake.mp3'), model: 'whisper', response_format: 'text' }, { headers: { 'x-request-id': 'unmeasurable' } });
    const settled = async (requestId: string) => {
      // The measurement finishes after the answer went out: its row follows.
      const deadline = Date.now() + 5_000;
      for (;;) {
        await portico.services.spend!.ledger.flushAll();
        const rows = (await (await portico.fetch(`/spend/logs?request_id=${requestId}`)).json()) as unknown[];
        if (rows.length > 0 || Date.now() > deadline) return spendRow(requestId);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    assert.ok(close((await settled('measured-wav')).spend, 2.5 * 1e-4), 'WAV: 2.5 s at $0.0001');
    assert.ok(close((await settled('measured-mp3')).spend, (100 * 1152) / 44_100 * 1e-4), 'MP3: 100 frames of 1,152 samples at 44.1 kHz');
    const unmeasurable = await settled('unmeasurable');
    assert.deepEqual([unmeasurable.status, unmeasurable.spend], ['success', 0]);
    assert.deepEqual(await spooled(), []);
  });

  it('a retried attempt sends the whole file again', async () => {
    openai.failNext({ status: 500, match: { path: /audio\/transcriptions$/ } });
    const before = openai.requests.length;
    const transcript = await client.audio.transcriptions.create({ file: await toFile(fakeAudio('second time lucky'), 'a.mp3'), model: 'whisper' });
    assert.equal(transcript.text, 'second time lucky');
    const attempts = openai.requests.slice(before).filter((entry) => entry.path === '/v1/audio/transcriptions');
    assert.equal(attempts.length, 2);
    for (const attempt of attempts) assert.match(attempt.form!.toString('latin1'), /FAKEAUDIO\/mp3:second time lucky\r\n/);
  });

  it('refuses what the client got wrong with 4xx in OpenAI’s envelope, and leaves no temporary file', async () => {
    const noModel = await portico.fetch('/v1/audio/transcriptions', { method: 'POST', body: formOf({ file: fakeAudio('x') }) });
    assert.equal(noModel.status, 400);
    assert.equal(((await noModel.json()) as { error: { param: string } }).error.param, 'model');
    const noFile = await portico.fetch('/v1/audio/transcriptions', { method: 'POST', body: formOf({ model: 'whisper' }) });
    assert.equal(noFile.status, 400);
    assert.equal(((await noFile.json()) as { error: { param: string } }).error.param, 'file');
    const notAForm = await portico.fetch('/v1/audio/transcriptions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'whisper' }) });
    assert.equal(notAForm.status, 400);
    const unknown = await client.audio.transcriptions.create({ file: await toFile(fakeAudio('x'), 'a.mp3'), model: 'no-such-model' }).catch((error: unknown) => error);
    assert.ok(unknown instanceof OpenAI.NotFoundError);
    const onClaude = await client.audio.transcriptions.create({ file: await toFile(fakeAudio('x'), 'a.mp3'), model: 'claude' }).catch((error: unknown) => error);
    assert.ok(onClaude instanceof OpenAI.BadRequestError);
    assert.match(onClaude.message, /does not support \/v1\/audio\/transcriptions/);
    const speechOnClaude = await client.audio.speech.create({ model: 'claude', input: 'x', voice: 'alloy' }).catch((error: unknown) => error);
    assert.ok(speechOnClaude instanceof OpenAI.BadRequestError);
    const noInput = await client.audio.speech.create({ model: 'tts', voice: 'alloy' } as never).catch((error: unknown) => error);
    assert.ok(noInput instanceof OpenAI.BadRequestError);
    // The upstream's own refusal (a file type it does not take) reaches the client as it gave it.
    const badType = await client.audio.transcriptions.create({ file: await toFile(fakeAudio('x'), 'notes.txt'), model: 'whisper' }).catch((error: unknown) => error);
    assert.ok(badType instanceof OpenAI.BadRequestError);
    assert.match(badType.message, /Invalid file format/);
    // Over OpenAI's 25 MB: a 413 from Portico, nothing sent upstream.
    const before = openai.requests.length;
    const tooLarge = await client.audio.transcriptions
      .create({ file: await toFile(Buffer.alloc(25 * 1024 * 1024 + 1, 0x61), 'big.mp3'), model: 'whisper' })
      .catch((error: unknown) => error);
    assert.ok(tooLarge instanceof OpenAI.APIError);
    assert.equal(tooLarge.status, 413);
    assert.equal(openai.requests.length, before);
    assert.deepEqual(await spooled(), []);
  });

  it('a key without the model is refused after its form, and an upload cut short leaves nothing behind', async () => {
    const { key } = await portico.generateKey({ models: ['tts'] });
    const refused = await portico
      .client(key)
      .audio.transcriptions.create({ file: await toFile(fakeAudio('x'), 'a.mp3'), model: 'whisper' })
      .catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.PermissionDeniedError);
    assert.deepEqual(await spooled(), []);

    // Half a form, then the connection closes.
    const url = new URL('/v1/audio/transcriptions', portico.url);
    const boundary = 'cut-short-boundary';
    await new Promise<void>((resolve) => {
      const req = httpRequest(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(10 * 1024 * 1024) },
      });
      req.on('error', () => resolve());
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n\r\n`);
      req.write(Buffer.alloc(256 * 1024, 0x61), () => setTimeout(() => req.destroy(), 100));
      req.on('close', () => resolve());
    });
    assert.deepEqual(await spooled(), []);
  });

  it('a key’s rpm_limit counts audio requests as it counts the other model routes', async () => {
    const { key } = await portico.generateKey({ rpm_limit: 1 });
    const limited = portico.client(key);
    await (await limited.audio.speech.create({ model: 'tts', input: 'one', voice: 'alloy' })).arrayBuffer();
    const second = await limited.audio.transcriptions.create({ file: await toFile(fakeAudio('two'), 'a.mp3'), model: 'whisper' }).catch((error: unknown) => error);
    assert.ok(second instanceof OpenAI.RateLimitError);
    assert.deepEqual(await spooled(), []);
  });

  it('GET /health checks an audio deployment with its own endpoint (mode from the catalogue or model_info)', async () => {
    for (const model of ['whisper', 'tts', 'azure-tts']) {
      const response = await portico.fetch(`/health?model=${model}`);
      assert.equal(response.status, 200);
      const health = (await response.json()) as { healthy_count: number; unhealthy_endpoints: unknown[] };
      assert.equal(health.healthy_count, 1, `${model}: ${JSON.stringify(health.unhealthy_endpoints)}`);
    }
    assert.equal(azure.requests.at(-1)!.path, '/openai/deployments/tts/audio/speech');
  });
});

function formOf(parts: { model?: string; file?: Buffer }): FormData {
  const form = new FormData();
  if (parts.model !== undefined) form.append('model', parts.model);
  if (parts.file !== undefined) form.append('file', new Blob([new Uint8Array(parts.file)]), 'a.mp3');
  return form;
}
