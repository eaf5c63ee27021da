import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { silentWav } from '../../spec/audio.ts';
import { InvalidRequestError } from '../../spec/errors.ts';
import { UpstreamAbortedError } from '../http/transport-errors.ts';
import { chatStreamText, collectSseData, deploymentFrom, withSettings } from '../testing/provider-test-helpers.ts';
import { mockProvider } from './index.ts';

describe('the mock provider', () => {
  const echo = mockProvider.createClient(...withSettings(deploymentFrom('{model: mock/gpt-4o-mini}', 'gpt-4o-mini')));
  const canned = mockProvider.createClient(...withSettings(deploymentFrom('{model: mock/gpt-4o-mini, mock_response: "Canned answer."}')));

  it('answers a chat completion deterministically, echoing the prompt', async () => {
    const body = { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'What is 2+2?' }] };
    const first = (await echo.chatCompletions(body)).body as { object: string; model: string; choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { total_tokens: number } };
    const second = (await echo.chatCompletions(body)).body as typeof first;
    assert.equal(first.object, 'chat.completion');
    assert.equal(first.model, 'gpt-4o-mini');
    assert.equal(first.choices[0].message.content, 'Mock response to: What is 2+2?');
    assert.equal(first.choices[0].finish_reason, 'stop');
    assert.ok(first.usage.total_tokens > 0);
    assert.equal(second.choices[0].message.content, first.choices[0].message.content);
  });

  it('answers with mock_response when configured', async () => {
    const answer = (await canned.chatCompletions({ messages: [{ role: 'user', content: 'anything' }] })).body as { choices: Array<{ message: { content: string } }> };
    assert.equal(answer.choices[0].message.content, 'Canned answer.');
  });

  it('streams several chunks and [DONE], with a usage chunk only when stream_options.include_usage asks', async () => {
    const messages = [{ role: 'user', content: 'one two three four five six seven eight nine ten' }];
    const plain = await collectSseData((await echo.chatCompletionsStream({ messages })).body);
    assert.equal(plain.at(-1), '[DONE]');
    assert.ok(plain.length >= 6);
    assert.equal(chatStreamText(plain), 'Mock response to: one two three four five six seven eight nine ten');
    assert.ok(plain.every((event) => event === '[DONE]' || !('usage' in (event as object))), 'no usage unless asked');

    const events = await collectSseData((await echo.chatCompletionsStream({ messages, stream_options: { include_usage: true } })).body);
    assert.equal(chatStreamText(events), chatStreamText(plain));
    const usage = events.at(-2) as { choices: unknown[]; usage: { total_tokens: number } };
    assert.deepEqual(usage.choices, []);
    assert.ok(usage.usage.total_tokens > 0);
    assert.ok(events.slice(0, -2).every((event) => (event as { usage: unknown }).usage === null), 'the other chunks carry usage: null');
  });

  it('refuses embeddings larger than the model or with too many inputs: the gateway computes them (found by the fuzz suite)', async () => {
    for (const dimensions of [1537, 43_246_067, 1e308, 0, -1, 1.5, '8']) {
      await assert.rejects(echo.embeddings!({ input: 'a', dimensions }), (error: unknown) => error instanceof InvalidRequestError && error.param === 'dimensions', String(dimensions));
    }
    await assert.rejects(echo.embeddings!({ input: Array.from({ length: 2049 }, () => 'a') }), (error: unknown) => error instanceof InvalidRequestError && error.param === 'input');
    const full = (await echo.embeddings!({ input: 'a', dimensions: 1536 })).body as { data: Array<{ embedding: number[] }> };
    assert.equal(full.data[0].embedding.length, 1536);
  });

  it('answers embeddings with deterministic unit vectors, as floats or base64', async () => {
    const floats = (await echo.embeddings!({ input: ['a', 'b'], dimensions: 8 })).body as { data: Array<{ embedding: number[] }> };
    assert.equal(floats.data.length, 2);
    assert.equal(floats.data[0].embedding.length, 8);
    const norm = Math.sqrt(floats.data[0].embedding.reduce((sum, v) => sum + v * v, 0));
    assert.ok(Math.abs(norm - 1) < 1e-5);
    assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding);
    const base64 = (await echo.embeddings!({ input: 'a', dimensions: 8, encoding_format: 'base64' })).body as { data: Array<{ embedding: string }> };
    const raw = Buffer.from(base64.data[0].embedding, 'base64');
    const decoded = Array.from(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4));
    assert.deepEqual(decoded, floats.data[0].embedding);
  });

  it('answers the Responses API, plain and streamed', async () => {
    const response = (await echo.responses!({ input: 'Hi' })).body as { object: string; status: string; output: Array<{ content: Array<{ text: string }> }> };
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.output[0].content[0].text, 'Mock response to: Hi');
    const stream = await echo.responsesStream!({ input: 'Hi' });
    const events = (await collectSseData(stream.body)) as Array<{ type: string; delta?: string }>;
    assert.equal(events[0].type, 'response.created');
    assert.equal(events.at(-1)?.type, 'response.completed');
    assert.equal(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join(''), 'Mock response to: Hi');
  });

  it('has no files and emulates batches', () => {
    assert.equal(echo.files, undefined);
    assert.equal(echo.batches, undefined);
    assert.equal(mockProvider.defaultBatchMode, 'emulate');
  });

  it('waits mock_latency_ms and stops when aborted', async () => {
    const slow = mockProvider.createClient(...withSettings(deploymentFrom('{model: mock/m, mock_latency_ms: 5000}')));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(slow.chatCompletions({ messages: [] }, { signal: controller.signal }), UpstreamAbortedError);
  });
  describe('audio', () => {
    const read = async (body: AsyncIterable<Uint8Array>): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks);
    };
    const upload = (file: Buffer, fields: Array<[string, string]> = []) => ({
      fields,
      file: { filename: 'a.wav', contentType: 'audio/wav', bytes: file.byteLength, open: () => Readable.from([file]) },
    });

    it('speaks silence as a WAV file 60 ms a character long (raw samples for pcm)', async () => {
      const speech = await echo.audioSpeech!({ input: 'ten chars!', voice: 'alloy' });
      assert.equal(speech.contentType, 'audio/wav');
      const wav = await read(speech.body);
      assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
      assert.equal(wav.byteLength, 44 + 0.6 * 32_000);
      const pcm = await echo.audioSpeech!({ input: 'ten chars!', voice: 'alloy', response_format: 'pcm' });
      assert.equal(pcm.contentType, 'audio/pcm');
      assert.equal((await read(pcm.body)).byteLength, 0.6 * 32_000);
      await assert.rejects(echo.audioSpeech!({ voice: 'alloy' }), InvalidRequestError);
    });

    it('transcribes a file to a sentence about it, in the format asked for, its duration from a WAV header', async () => {
      const wav = silentWav(2_500);
      const json = JSON.parse((await read((await echo.audioTranscriptions!(upload(wav))).body)).toString()) as { text: string; usage: { type: string; seconds: number } };
      assert.match(json.text, /transcript of 80044 bytes \(2\.5 s\)/);
      assert.deepEqual(json.usage, { type: 'duration', seconds: 3 });
      const text = await echo.audioTranscriptions!(upload(wav, [['response_format', 'text']]));
      assert.match(text.contentType, /^text\/plain/);
      assert.equal((await read(text.body)).toString(), `${json.text}\n`);
      const srt = (await read((await echo.audioTranscriptions!(upload(wav, [['response_format', 'srt']]))).body)).toString();
      assert.match(srt, /^1\n00:00:00,000 --> 00:00:02,500\n/);
      const verbose = JSON.parse((await read((await canned.audioTranslations!(upload(wav, [['response_format', 'verbose_json']]))).body)).toString()) as { task: string; text: string; duration: number };
      assert.deepEqual([verbose.task, verbose.text, verbose.duration], ['translate', 'Canned answer.', 2.5]);
      const stream = await echo.audioTranscriptions!(upload(wav, [['stream', 'true']]));
      const events = await collectSseData(stream.body);
      assert.equal((events.at(-1) as { type: string }).type, 'transcript.text.done');
      await assert.rejects(echo.audioTranscriptions!(upload(wav, [['response_format', 'mp3']])), InvalidRequestError);
    });
  });
});
