/**
 * The OpenAI and Azure OpenAI simulators answer OpenAI's audio endpoints (speech, transcriptions,
 * translations) to the official `openai` SDK, with the fake audio model of openai/audio.ts:
 * speech of X is the bytes `FAKEAUDIO/<format>:X`, and transcribing those bytes gives X back.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI, toFile } from 'openai';
import { startOpenAISimulator, OPENAI_SIMULATOR_API_KEY } from './openai-simulator.ts';
import type { OpenAISimulator } from './openai-simulator.ts';
import { startAzureSimulator, AZURE_SIMULATOR_API_KEY } from './azure-simulator.ts';
import type { AzureSimulator } from './azure-simulator.ts';

const audioFile = (text: string, name = 'a.mp3') => toFile(Buffer.from(text), name);

/** The JSON payloads of an SSE body, failing on a `[DONE]` terminator (audio streams have none). */
function sseData(body: string): Array<Record<string, any>> {
  const frames = body.split('\n\n').filter(Boolean);
  return frames.map((frame) => {
    const data = frame.split('\n').find((line) => line.startsWith('data: '))!.slice(6);
    assert.notEqual(data, '[DONE]');
    return JSON.parse(data);
  });
}

async function rejection(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof OpenAI.APIError, String(error));
  return error;
}

describe('OpenAI simulator: audio', () => {
  let sim: OpenAISimulator;
  let client: OpenAI;
  before(async () => {
    sim = await startOpenAISimulator();
    client = new OpenAI({ apiKey: OPENAI_SIMULATOR_API_KEY, baseURL: sim.url, maxRetries: 0 });
  });
  after(() => sim.close());

  it('speaks text as FAKEAUDIO bytes with the content type of the format, and transcribes them back', async () => {
    const mp3 = await client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'hello world' });
    assert.equal(mp3.headers.get('content-type'), 'audio/mpeg');
    const bytes = Buffer.from(await mp3.arrayBuffer());
    assert.equal(bytes.toString(), 'FAKEAUDIO/mp3:hello world');
    assert.equal(sim.requests.at(-1)?.path, '/v1/audio/speech');

    const wav = await client.audio.speech.create({ model: 'tts-1', voice: 'nova', input: 'in wav', response_format: 'wav', speed: 1.5 });
    assert.equal(wav.headers.get('content-type'), 'audio/wav');
    assert.equal(await wav.text(), 'FAKEAUDIO/wav:in wav');

    const transcript = await client.audio.transcriptions.create({ file: await toFile(bytes, 'speech.mp3'), model: 'whisper-1' });
    assert.deepEqual(transcript, { text: 'hello world', usage: { type: 'duration', seconds: 1 } });
    const other = await client.audio.transcriptions.create({ file: await toFile(Buffer.from([1, 2, 3]), 'noise.wav'), model: 'whisper-1' });
    assert.equal(other.text, '(audio of 3 bytes)');
  });

  it('answers whisper-1 transcriptions as text, srt, vtt and verbose_json (segments, words on request)', async () => {
    const text = await client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:hello world'), model: 'whisper-1', response_format: 'text' });
    assert.equal(text, 'hello world\n');
    const srt = await client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:one two three'), model: 'whisper-1', response_format: 'srt' });
    assert.equal(srt, '1\n00:00:00,000 --> 00:00:01,500\none two three\n\n');
    const vtt = await client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:one two three'), model: 'whisper-1', response_format: 'vtt' });
    assert.equal(vtt, 'WEBVTT\n\n00:00:00.000 --> 00:00:01.500\none two three\n\n');

    const verbose = await client.audio.transcriptions.create({
      file: await audioFile('FAKEAUDIO/mp3:one two three'),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
      language: 'en',
    });
    assert.equal((verbose as unknown as { task: string }).task, 'transcribe');
    assert.equal(verbose.language, 'en');
    assert.equal(verbose.duration, 1.5);
    assert.equal(verbose.text, 'one two three');
    assert.deepEqual(verbose.words, [
      { word: 'one', start: 0, end: 0.5 },
      { word: 'two', start: 0.5, end: 1 },
      { word: 'three', start: 1, end: 1.5 },
    ]);
    assert.equal(verbose.segments?.length, 1);
    assert.deepEqual([verbose.segments![0].start, verbose.segments![0].end, verbose.segments![0].text], [0, 1.5, 'one two three']);
    assert.deepEqual(verbose.usage, { type: 'duration', seconds: 2 });

    const plainVerbose = await client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:x'), model: 'whisper-1', response_format: 'verbose_json' });
    assert.equal(plainVerbose.language, 'english');
    assert.equal(plainVerbose.words, undefined);
    assert.equal(plainVerbose.segments?.length, 1);
    const wordsOnly = await client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:x'), model: 'whisper-1', response_format: 'verbose_json', timestamp_granularities: ['word'] });
    assert.equal(wordsOnly.words?.length, 1);
    assert.equal(wordsOnly.segments, undefined);
  });

  it('bills gpt-4o-transcribe in tokens, and streams it as transcript.text.delta events then transcript.text.done', async () => {
    const json = await client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:hello streaming world'), model: 'gpt-4o-transcribe', prompt: 'a prompt!' });
    assert.deepEqual(json, {
      text: 'hello streaming world',
      usage: { type: 'tokens', input_tokens: 3 + 15, input_token_details: { text_tokens: 3, audio_tokens: 15 }, output_tokens: 6, total_tokens: 24 },
    });

    const stream = await client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:hello streaming world'), model: 'gpt-4o-transcribe', stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    assert.ok(events.length >= 3);
    const deltas = events.slice(0, -1);
    assert.ok(deltas.every((e) => e.type === 'transcript.text.delta'));
    assert.equal(deltas.map((e) => (e as { delta: string }).delta).join(''), 'hello streaming world');
    assert.deepEqual(events.at(-1), {
      type: 'transcript.text.done',
      text: 'hello streaming world',
      usage: { type: 'tokens', input_tokens: 15, input_token_details: { text_tokens: 0, audio_tokens: 15 }, output_tokens: 6, total_tokens: 21 },
    });

    const text = await client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:plain'), model: 'gpt-4o-mini-transcribe', response_format: 'text' });
    assert.equal(text, 'plain\n');
  });

  it('ignores stream for whisper-1, as the spec says, and its streams end without [DONE]', async () => {
    const form = new FormData();
    form.append('model', 'whisper-1');
    form.append('stream', 'true');
    form.append('file', new Blob([Buffer.from('FAKEAUDIO/mp3:not streamed')]), 'a.mp3');
    const res = await fetch(`${sim.url}/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${OPENAI_SIMULATOR_API_KEY}` }, body: form });
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal((await res.json()).text, 'not streamed');

    const raw = new FormData();
    raw.append('stream', 'true');
    raw.append('file', new Blob([Buffer.from('FAKEAUDIO/mp3:two words')]), 'a.mp3');
    raw.append('model', 'gpt-4o-mini-transcribe');
    const streamed = await fetch(`${sim.url}/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${OPENAI_SIMULATOR_API_KEY}` }, body: raw });
    const events = sseData(await streamed.text());
    assert.equal(events.at(-1)?.type, 'transcript.text.done');
  });

  it('translates with whisper-1 only: json {text} without usage, verbose_json with task translate', async () => {
    const json = await client.audio.translations.create({ file: await audioFile('FAKEAUDIO/mp3:guten tag'), model: 'whisper-1' });
    assert.deepEqual(json, { text: 'guten tag' });
    assert.equal(sim.requests.at(-1)?.path, '/v1/audio/translations');
    const verbose = (await client.audio.translations.create({ file: await audioFile('FAKEAUDIO/mp3:guten tag'), model: 'whisper-1', response_format: 'verbose_json' })) as OpenAI.Audio.TranslationVerbose;
    assert.equal((verbose as unknown as { task: string }).task, 'translate');
    assert.deepEqual([verbose.language, verbose.duration, verbose.text, verbose.segments?.length], ['english', 1, 'guten tag', 1]);
    const text = await client.audio.translations.create({ file: await audioFile('FAKEAUDIO/mp3:guten tag'), model: 'whisper-1', response_format: 'text' });
    assert.equal(text, 'guten tag\n');

    const wrongModel = await rejection(client.audio.translations.create({ file: await audioFile('FAKEAUDIO/mp3:x'), model: 'gpt-4o-transcribe' as 'whisper-1' }));
    assert.ok(wrongModel instanceof OpenAI.BadRequestError);
    assert.equal((wrongModel.error as { param: string }).param, 'model');
  });

  it('streams speech as speech.audio.delta events and a speech.audio.done with usage, without [DONE]', async () => {
    const res = await client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'stream this speech', stream_format: 'sse' });
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = sseData(await res.text());
    const deltas = events.slice(0, -1);
    assert.ok(deltas.length >= 2 && deltas.length <= 3);
    assert.ok(deltas.every((e) => e.type === 'speech.audio.delta'));
    assert.equal(Buffer.concat(deltas.map((e) => Buffer.from(e.audio, 'base64'))).toString(), 'FAKEAUDIO/mp3:stream this speech');
    assert.deepEqual(events.at(-1), { type: 'speech.audio.done', usage: { input_tokens: 5, output_tokens: 15, total_tokens: 20 } });

    const tts1 = await rejection(client.audio.speech.create({ model: 'tts-1-hd', voice: 'alloy', input: 'x', stream_format: 'sse' }));
    assert.ok(tts1 instanceof OpenAI.BadRequestError);
    assert.equal((tts1.error as { param: string }).param, 'stream_format');
  });

  it('refuses bad speech and transcription requests with OpenAI 400s', async () => {
    const noVoice = await rejection(client.audio.speech.create({ model: 'tts-1', input: 'x' } as never));
    assert.ok(noVoice instanceof OpenAI.BadRequestError);
    assert.deepEqual(noVoice.error, { message: "Missing required parameter: 'voice'.", type: 'invalid_request_error', param: 'voice', code: 'missing_required_parameter' });
    const noInput = await rejection(client.audio.speech.create({ model: 'tts-1', voice: 'alloy' } as never));
    assert.equal((noInput.error as { param: string }).param, 'input');
    const tooLong = await rejection(client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x'.repeat(4097) }));
    assert.ok(tooLong instanceof OpenAI.BadRequestError);
    assert.deepEqual([(tooLong.error as { param: string }).param, (tooLong.error as { code: string }).code], ['input', 'string_above_max_length']);
    const badFormat = await rejection(client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'ogg' as 'mp3' }));
    assert.equal((badFormat.error as { param: string }).param, 'response_format');

    const badExtension = await rejection(client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:x', 'a.txt'), model: 'whisper-1' }));
    assert.ok(badExtension instanceof OpenAI.BadRequestError);
    assert.equal(badExtension.error && (badExtension.error as { message: string }).message, "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']");
    const noModel = await rejection(client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:x') } as never));
    assert.deepEqual(noModel.error, { message: "Missing required parameter: 'model'.", type: 'invalid_request_error', param: 'model', code: 'missing_required_parameter' });
    const noFile = await rejection(client.audio.transcriptions.create({ model: 'whisper-1' } as never));
    assert.equal((noFile.error as { param: string }).param, 'file');
    const verbose4o = await rejection(client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:x'), model: 'gpt-4o-transcribe', response_format: 'verbose_json' }));
    assert.ok(verbose4o instanceof OpenAI.BadRequestError);
    assert.deepEqual(verbose4o.error, {
      message: "response_format 'verbose_json' is not compatible with model 'gpt-4o-transcribe'. Use 'json' or 'text' instead.",
      type: 'invalid_request_error',
      param: 'response_format',
      code: 'unsupported_value',
    });

    const failed = await rejection(client.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:FAIL:429'), model: 'whisper-1' }));
    assert.ok(failed instanceof OpenAI.RateLimitError);
    const failedSpeech = await rejection(client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'FAIL' }));
    assert.equal(failedSpeech.status, 400);
  });

  it('answers a file over 25 MB with the API\'s 413', async () => {
    const big = Buffer.alloc(26 * 1024 * 1024, 1);
    const tooBig = await rejection(client.audio.transcriptions.create({ file: await toFile(big, 'long.mp3'), model: 'whisper-1' }));
    assert.equal(tooBig.status, 413);
    const bytes = sim.requests.at(-1)!.bodyBytes;
    assert.ok(bytes > big.length);
    assert.deepEqual(tooBig.error, { message: `Maximum content size limit (26214400) exceeded (${bytes} bytes read)`, type: 'server_error', param: null, code: null });
  });

  it('answers 404 model_not_found for a model outside `models`', async () => {
    const only = await startOpenAISimulator({ models: ['whisper-1'] });
    try {
      const restricted = new OpenAI({ apiKey: OPENAI_SIMULATOR_API_KEY, baseURL: only.url, maxRetries: 0 });
      const speech = await rejection(restricted.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x' }));
      assert.ok(speech instanceof OpenAI.NotFoundError);
      assert.equal((speech.error as { code: string }).code, 'model_not_found');
      const transcription = await rejection(restricted.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:x'), model: 'gpt-4o-transcribe' }));
      assert.ok(transcription instanceof OpenAI.NotFoundError);
      assert.equal((await restricted.audio.transcriptions.create({ file: await audioFile('FAKEAUDIO/mp3:ok'), model: 'whisper-1' })).text, 'ok');
    } finally {
      await only.close();
    }
  });
});

describe('Azure OpenAI simulator: audio', () => {
  let sim: AzureSimulator;
  before(async () => {
    sim = await startAzureSimulator({ deployments: ['whisper', 'tts', 'gpt-4o-transcribe'] });
  });
  after(() => sim.close());
  const azure = (deployment: string) => new AzureOpenAI({ apiKey: AZURE_SIMULATOR_API_KEY, endpoint: sim.url, apiVersion: '2024-10-21', deployment, maxRetries: 0 });

  it('transcribes and speaks on /openai/deployments/{deployment}/audio/..., the deployment naming the model', async () => {
    const speech = await azure('tts').audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'from azure', response_format: 'flac' });
    assert.equal(speech.headers.get('content-type'), 'audio/flac');
    const bytes = Buffer.from(await speech.arrayBuffer());
    assert.equal(bytes.toString(), 'FAKEAUDIO/flac:from azure');
    assert.equal(sim.requests.at(-1)?.path, '/openai/deployments/tts/audio/speech');
    assert.equal(sim.requests.at(-1)?.query['api-version'], '2024-10-21');

    const transcript = await azure('whisper').audio.transcriptions.create({ file: await toFile(bytes, 'a.flac'), model: 'whisper-1' });
    assert.deepEqual(transcript, { text: 'from azure', usage: { type: 'duration', seconds: 1 } });
    assert.equal(sim.requests.at(-1)?.path, '/openai/deployments/whisper/audio/transcriptions');
    const tokens = await azure('gpt-4o-transcribe').audio.transcriptions.create({ file: await toFile(bytes, 'a.flac'), model: 'gpt-4o-transcribe' });
    assert.equal((tokens.usage as { type: string }).type, 'tokens');
    const translation = await azure('whisper').audio.translations.create({ file: await toFile(bytes, 'a.flac'), model: 'whisper-1' });
    assert.deepEqual(translation, { text: 'from azure' });

    const missing = await rejection(azure('nope').audio.transcriptions.create({ file: await toFile(bytes, 'a.flac'), model: 'whisper-1' }));
    assert.ok(missing instanceof OpenAI.NotFoundError);
    assert.equal((missing.error as { code: string }).code, 'DeploymentNotFound');
  });
});
