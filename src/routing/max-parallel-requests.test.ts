/**
 * LiteLLM's deployment `max_parallel_requests` (and `router_settings.default_max_parallel_requests`)
 * through the router, against the OpenAI simulator: never more live requests open on a deployment
 * than its bound, the rest waiting their turn in order; a stream holds its slot until the upstream
 * has sent its body to the end (an OpenAI-compatible server in this test that streams at the
 * test's pace); a group's deployment with room is picked before anyone waits; a wait the client gives up
 * or the timeout ends takes no slot and leaves none behind; calls pinned to a deployment (the batch
 * engine's) take none.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../../test/simulators/openai-simulator.ts';
import { parseConfig } from '../config/load-config.ts';
import { UpstreamAbortedError } from '../providers/http/transport-errors.ts';
import { chatStreamText, collectSseData } from '../providers/testing/provider-test-helpers.ts';
import { RateLimitError } from '../spec/errors.ts';
import type { CallOptions, ProviderClient, UpstreamJsonResponse } from '../spec/provider.ts';
import { Router } from './router.ts';

function contentOf(answer: UpstreamJsonResponse): string {
  return (answer.body as { choices: Array<{ message: { content: string } }> }).choices[0].message.content;
}

const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

describe('max_parallel_requests', () => {
  let simA: OpenAISimulator;
  let simB: OpenAISimulator;
  /** An OpenAI-compatible server whose streams send one chunk, then the rest when the test says. */
  let streamer: Server;
  let streamerUrl: string;
  const openStreams: ServerResponse[] = [];
  const finishStreams = () => {
    for (const response of openStreams.splice(0)) response.end(`${chunk('rest')}data: [DONE]\n\n`);
  };
  before(async () => {
    [simA, simB] = await Promise.all([startOpenAISimulator(), startOpenAISimulator()]);
    streamer = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk('first '));
        openStreams.push(res);
      });
    });
    await new Promise<void>((resolve) => streamer.listen(0, '127.0.0.1', resolve));
    streamerUrl = `http://127.0.0.1:${(streamer.address() as AddressInfo).port}/v1`;
  });
  after(async () => {
    finishStreams();
    await Promise.all([simA.close(), simB.close(), new Promise((resolve) => streamer.close(resolve))]);
  });
  beforeEach(() => {
    for (const sim of [simA, simB]) {
      sim.requests.length = 0;
      sim.setLatency(0);
    }
  });

  const entry = (sim: OpenAISimulator, id: string, extra = '') =>
    `  - {model_name: g, litellm_params: {model: openai/gpt-4o-mini, api_base: "${sim.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}${extra}}, model_info: {id: ${id}}}\n`;
  const routerOf = (modelList: string, routerSettings = '{num_retries: 0}') => new Router(parseConfig(`model_list:\n${modelList}router_settings: ${routerSettings}\n`, {}), { random: () => 0 });

  /** A chat call that records how many calls were open on the upstream at once, and in what order they started. */
  function tracked() {
    let open = 0;
    const peak = { value: 0 };
    const started: string[] = [];
    const call = (text: string) => async (client: ProviderClient, options: CallOptions) => {
      open += 1;
      peak.value = Math.max(peak.value, open);
      started.push(text);
      try {
        return await client.chatCompletions({ messages: [{ role: 'user', content: text }] }, options);
      } finally {
        open -= 1;
      }
    };
    return { call, peak, started };
  }

  it('keeps at most max_parallel_requests open on the deployment; the others wait, served in the order they came', async () => {
    const r = routerOf(entry(simA, 'a', ', max_parallel_requests: 2'));
    simA.setLatency(80);
    const { call, peak, started } = tracked();
    const answers = await Promise.all(['r1', 'r2', 'r3', 'r4', 'r5'].map((text) => r.send('g', call(text))));
    assert.deepEqual(answers.map(contentOf), ['r1', 'r2', 'r3', 'r4', 'r5']);
    assert.equal(peak.value, 2);
    assert.deepEqual(started, ['r1', 'r2', 'r3', 'r4', 'r5']);
    assert.equal(simA.requests.length, 5);
    assert.equal(r.parallelRequestsOf('a'), 0, 'every slot given back');
  });

  it("router_settings.default_max_parallel_requests bounds the deployments without their own; a deployment's own wins", async () => {
    const config = parseConfig(`model_list:\n${entry(simA, 'a')}${entry(simB, 'b', ', max_parallel_requests: 7')}router_settings: {default_max_parallel_requests: 3}\n`, {});
    assert.deepEqual(
      config.deployments.map((d) => [d.id, d.maxParallelRequests]),
      [
        ['a', 3],
        ['b', 7],
      ],
    );
    assert.deepEqual(config.warnings, []);
    const none = parseConfig(`model_list:\n${entry(simA, 'a')}`, {});
    assert.equal(none.deployments[0].maxParallelRequests, undefined);
  });

  it('holds a stream\'s slot until the upstream has sent it to the end', async () => {
    const r = routerOf(`  - {model_name: g, litellm_params: {model: openai/m, api_base: "${streamerUrl}", api_key: k, max_parallel_requests: 1}, model_info: {id: s}}\n`);
    const streamed = (client: ProviderClient, options: CallOptions) => client.chatCompletionsStream({ messages: [{ role: 'user', content: 'x' }] }, options);
    const first = await r.send('g', streamed, { stream: true });
    assert.equal(r.parallelRequestsOf('s'), 1, 'the open stream holds the slot');
    let secondOpen = false;
    const second = r.send('g', streamed, { stream: true }).then((stream) => {
      secondOpen = true;
      return stream;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(secondOpen, false, 'waits while the first stream is open');
    assert.equal(openStreams.length, 1, 'and was not sent');
    finishStreams();
    assert.equal(chatStreamText(await collectSseData(first.body)), 'first rest');
    const next = await second;
    assert.equal(r.parallelRequestsOf('s'), 1);
    finishStreams();
    assert.equal(chatStreamText(await collectSseData(next.body)), 'first rest');
    assert.equal(r.parallelRequestsOf('s'), 0);
  });

  it('sends to a deployment of the group with room before anyone waits', async () => {
    const r = routerOf(entry(simA, 'a', ', max_parallel_requests: 1') + entry(simB, 'b', ', max_parallel_requests: 1'));
    simA.setLatency(100);
    simB.setLatency(100);
    const started = Date.now();
    const { call, peak } = tracked();
    await Promise.all([r.send('g', call('one')), r.send('g', call('two'))]);
    assert.equal(simA.requests.length, 1);
    assert.equal(simB.requests.length, 1);
    assert.equal(peak.value, 2);
    assert.ok(Date.now() - started < 190, 'side by side, not one after the other');
  });

  it('a client that gives up while waiting takes no slot, and the next in line is served', async () => {
    const r = routerOf(entry(simA, 'a', ', max_parallel_requests: 1'));
    simA.setLatency(150);
    const { call } = tracked();
    const first = r.send('g', call('first'));
    const controller = new AbortController();
    const quitter = r.send('g', call('quitter'), { signal: controller.signal });
    const third = r.send('g', call('third'));
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(quitter, UpstreamAbortedError);
    assert.deepEqual([contentOf(await first), contentOf(await third)], ['first', 'third']);
    assert.deepEqual(
      simA.requests.map((request) => (request.json as { messages: Array<{ content: string }> }).messages[0].content),
      ['first', 'third'],
    );
    assert.equal(r.parallelRequestsOf('a'), 0);
  });

  it("a wait longer than the deployment's timeout is a 429, not a failure of the deployment, and leaves no slot behind", async () => {
    const r = routerOf(
      `  - {model_name: g, litellm_params: {model: openai/m, api_base: "${streamerUrl}", api_key: k, max_parallel_requests: 1, timeout: 0.3, stream_timeout: 30}, model_info: {id: s}}\n`,
      '{num_retries: 0, allowed_fails: 0}',
    );
    const stream = await r.send('g', (client, options) => client.chatCompletionsStream({ messages: [{ role: 'user', content: 'x' }] }, options), { stream: true });
    const started = Date.now();
    const late = r.send('g', (client, options) => client.chatCompletions({ messages: [{ role: 'user', content: 'late' }] }, options));
    await assert.rejects(late, (error: unknown) => error instanceof RateLimitError && error.httpStatus === 429 && /max_parallel_requests/.test(error.message));
    assert.ok(Date.now() - started >= 250, 'after the timeout');
    assert.equal(openStreams.length, 1, 'the late request was never sent');
    finishStreams();
    assert.equal(chatStreamText(await collectSseData(stream.body)), 'first rest');
    assert.equal(r.parallelRequestsOf('s'), 0);
    const again = await r.send('g', (client, options) => client.chatCompletionsStream({ messages: [{ role: 'user', content: 'x' }] }, options), { stream: true });
    assert.equal(r.parallelRequestsOf('s'), 1, 'not cooled down: served');
    finishStreams();
    await collectSseData(again.body);
  });

  it('calls pinned to a deployment (files, batches, the batch engine) take no slot', async () => {
    const r = routerOf(entry(simA, 'a', ', max_parallel_requests: 1'));
    simA.setLatency(80);
    const { call, peak } = tracked();
    await Promise.all([r.sendTo('a', call('x')), r.sendTo('a', call('y')), r.sendTo('a', call('z'))]);
    assert.equal(peak.value, 3);
    assert.equal(r.parallelRequestsOf('a'), 0);
  });
});
