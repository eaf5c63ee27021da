/**
 * Upstream faults, seen through a real Portico process: connections reset mid-answer and
 * mid-stream, upstreams that hang (the deployment timeout fires, retries and fallbacks take
 * over), 5xx storms (cooldowns), garbage bodies, and a slow stream relayed as it trickles in.
 *
 * Every case checks what the client gets (a status Portico did not invent: never a 500 of its
 * own, always OpenAI's envelope), and the suite ends with Portico's descriptors back near their
 * baseline, no upstream exchange left open, no internal error logged, and the gateway serving.
 * On SQLite with in-memory cooldowns, and on PostgreSQL with Redis (cooldowns shared there).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALL_DIALECTS } from '../helpers/databases.ts';
import {
  assertEnvelope,
  assertServes,
  call,
  chat,
  faultModel,
  LOCKSTEP_CHUNKS,
  openStream,
  parseSse,
  SLOW_GENERATION_CHUNKS,
  startFaultPortico,
  startFaultUpstream,
  type FaultBehaviour,
  type FaultPortico,
  type FaultUpstream,
} from './fault-helpers-net.ts';

const CHAT = '/v1/chat/completions';

/** The same faults behind Anthropic's own HTTP client (the upstream answers whatever path it is sent). */
const ANTHROPIC_CASES: Array<{ behaviour: FaultBehaviour; status: number; code?: string }> = [
  { behaviour: 'reset-mid-body', status: 502, code: 'upstream_connection_error' },
  { behaviour: 'not-http', status: 502, code: 'upstream_connection_error' },
  { behaviour: 'hang', status: 504, code: 'timeout' },
  { behaviour: 'status-503', status: 503 },
  { behaviour: 'html-502', status: 502 },
  { behaviour: 'html-200', status: 502 },
  { behaviour: 'truncated-json', status: 502 },
];

function anthropicModel(group: string, behaviour: FaultBehaviour, upstream: FaultUpstream): string {
  return `
  - model_name: ${group}
    litellm_params: { model: anthropic/${behaviour}, api_base: "${upstream.url.replace(/\/v1$/, '')}", api_key: os.environ/FAULTS_UPSTREAM_KEY, timeout: 1, max_retries: 0 }
    model_info: { id: ${group} }`;
}

for (const dialect of ALL_DIALECTS) {
  describe(`upstream faults [${dialect}]`, () => {
    let upstream: FaultUpstream;
    let portico: FaultPortico;
    let baselineFds: number;

    before(async () => {
      upstream = await startFaultUpstream();
      const models = [
        faultModel('healthy', 'ok', upstream),
        faultModel('reset-body', 'reset-mid-body', upstream, 'max_retries: 0'),
        faultModel('reset-stream', 'reset-mid-stream', upstream, 'max_retries: 0'),
        // Two deployments: one resets every connection, retries land on the other.
        faultModel('mixed', 'reset-before-headers', upstream, 'max_retries: 2'),
        faultModel('mixed', 'ok', upstream, 'max_retries: 2'),
        faultModel('reset-then-fallback', 'reset-before-headers', upstream, 'max_retries: 0'),
        faultModel('hang', 'hang', upstream, 'timeout: 1, max_retries: 0'),
        faultModel('hang-then-fallback', 'hang', upstream, 'timeout: 1, max_retries: 0'),
        faultModel('hang-stream', 'hang-mid-stream', upstream, 'timeout: 1, max_retries: 0'),
        faultModel('slow-generation', 'slow-generation', upstream, 'timeout: 1, max_retries: 0'),
        faultModel('storm', 'status-503', upstream, 'max_retries: 1'),
        faultModel('storm', 'ok', upstream, 'max_retries: 1'),
        faultModel('storm-only', 'status-503', upstream, 'max_retries: 1'),
        faultModel('html', 'html-200', upstream, 'max_retries: 0'),
        faultModel('not-http', 'not-http', upstream, 'max_retries: 0'),
        faultModel('limited', 'status-429', upstream, 'max_retries: 0'),
        faultModel('proxy-502', 'html-502', upstream, 'max_retries: 0'),
        faultModel('truncated', 'truncated-json', upstream, 'max_retries: 0'),
        faultModel('json-for-stream', 'json-for-stream', upstream, 'max_retries: 0'),
        faultModel('lockstep', 'lockstep', upstream),
        ...ANTHROPIC_CASES.map(({ behaviour }) => anthropicModel(`anthropic-${behaviour}`, behaviour, upstream)),
      ].join('');
      portico = await startFaultPortico({
        dialect,
        models,
        extraYaml: `
router_settings:
  allowed_fails: 1
  cooldown_time: 60
  fallbacks: [{reset-then-fallback: [healthy]}, {hang-then-fallback: [healthy]}]
`,
      });
      // Warm up every path once (database pool, Redis, lazily loaded modules) before the baseline.
      await assertServes(portico, 'healthy');
      assert.equal((await call(portico, 'GET', '/v1/models')).status, 200);
      baselineFds = await portico.fds();
    });

    after(async () => {
      await portico?.dispose();
      await upstream?.close();
    });

    it('a connection reset mid-answer is a 502 in the envelope', async () => {
      const error = assertEnvelope(await call(portico, 'POST', CHAT, chat('reset-body')), 502);
      assert.equal(error.code, 'upstream_connection_error');
      assert.doesNotMatch(error.message, /127\.0\.0\.1|sk-faults/, 'no upstream address or key');
    });

    it('a connection reset before the answer is retried on the healthy deployment of the group', async () => {
      for (let i = 0; i < 4; i++) {
        const answer = await call(portico, 'POST', CHAT, chat('mixed', `mixed ${i}`));
        assert.equal(answer.status, 200, answer.text);
        assert.match(answer.text, new RegExp(`mixed ${i}`));
      }
    });

    it('a connection reset before the first streamed byte falls back to another group', async () => {
      const answer = await call(portico, 'POST', CHAT, chat('reset-then-fallback', 'fell back', { stream: true }));
      assert.equal(answer.status, 200, answer.text);
      const sse = parseSse(answer.text);
      assert.equal(sse.content, 'ok fell back');
      assert.equal(sse.done, true);
    });

    it('a connection reset mid-stream ends the stream with an error event after the chunks that arrived', async () => {
      const answer = await call(portico, 'POST', CHAT, chat('reset-stream', 'x', { stream: true }));
      assert.equal(answer.status, 200);
      assert.match(String(answer.headers['content-type']), /text\/event-stream/);
      const sse = parseSse(answer.text);
      assert.equal(sse.content, 'first second ');
      assert.equal(sse.done, false, 'no [DONE] after a broken stream');
      assert.ok(sse.error, `an error event ends the stream: ${answer.text}`);
      assert.equal(sse.error.type, 'api_error');
    });

    it('an upstream that hangs: the deployment timeout answers 504 in the envelope and closes the upstream call, plain or streamed', async () => {
      for (const stream of [false, true]) {
        const startedAt = Date.now();
        const error = assertEnvelope(await call(portico, 'POST', CHAT, chat('hang', 'x', { stream })), 504);
        assert.equal(error.code, 'timeout');
        assert.ok(Date.now() - startedAt < 10_000, 'the 1 s timeout fired (not the 15 min safety net)');
        await upstream.waitForNoOpenExchanges();
      }
    });

    it('an upstream that hangs: the fallback group answers once the timeout fired', async () => {
      const answer = await call(portico, 'POST', CHAT, chat('hang-then-fallback', 'after the hang'));
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.text, /after the hang/);
      await upstream.waitForNoOpenExchanges();
    });

    it('an upstream that hangs mid-stream: the stream ends with a timeout error event and the upstream call is closed', async () => {
      const answer = await call(portico, 'POST', CHAT, chat('hang-stream', 'x', { stream: true }));
      assert.equal(answer.status, 200);
      const sse = parseSse(answer.text);
      assert.equal(sse.content, 'only ');
      assert.equal(sse.error?.type, 'timeout_error', answer.text);
      await upstream.waitForNoOpenExchanges();
    });

    it('a stream that keeps trickling in for longer than the deployment timeout is relayed to its end', async () => {
      // 8 chunks 250 ms apart (2 s) with `timeout: 1`: the timeout counts from the last chunk, as
      // the SDKs' and LiteLLM's read timeouts do, so only a stall cuts a stream.
      const answer = await call(portico, 'POST', CHAT, chat('slow-generation', 'x', { stream: true }));
      assert.equal(answer.status, 200);
      const sse = parseSse(answer.text);
      assert.equal(sse.error, undefined, answer.text);
      assert.equal(sse.content, Array.from({ length: SLOW_GENERATION_CHUNKS }, (_, i) => `s${i} `).join(''));
      assert.equal(sse.done, true);
    });

    it('a 5xx storm on one deployment cools it down: every request succeeds and the failing deployment is left alone', async () => {
      const before = upstream.hits('status-503');
      for (let i = 0; i < 20; i++) {
        const answer = await call(portico, 'POST', CHAT, chat('storm', `storm ${i}`));
        assert.equal(answer.status, 200, answer.text);
      }
      // Without a cooldown, the shuffle sends about half of the 20 requests to it first.
      assert.ok(upstream.hits('status-503') - before <= 2, `the failing deployment got ${upstream.hits('status-503') - before} requests`);
    });

    it("a group whose every deployment fails answers the upstream's 503, never a 500 of Portico's", async () => {
      for (let i = 0; i < 4; i++) {
        const answer = await call(portico, 'POST', CHAT, chat('storm-only'));
        const error = assertEnvelope(answer, 503);
        assert.match(error.message, /overloaded/);
      }
    });

    it("an upstream's 429 is relayed with its retry-after, in the envelope", async () => {
      const answer = await call(portico, 'POST', CHAT, chat('limited'));
      const error = assertEnvelope(answer, 429);
      assert.equal(error.code, 'rate_limit_exceeded');
      assert.equal(answer.headers['retry-after'], '7');
    });

    it('an upstream that does not speak HTTP is a 502 in the envelope, plain or streamed', async () => {
      for (const stream of [false, true]) {
        const error = assertEnvelope(await call(portico, 'POST', CHAT, chat('not-http', 'x', { stream })), 502);
        assert.equal(error.code, 'upstream_connection_error');
      }
    });

    it('a 200 answer that is not JSON (an HTML page) is a 502 bad_upstream_response', async () => {
      const error = assertEnvelope(await call(portico, 'POST', CHAT, chat('html')), 502);
      assert.equal(error.code, 'bad_upstream_response');
    });

    it('a 200 answer whose JSON is cut short is a 502 bad_upstream_response', async () => {
      const error = assertEnvelope(await call(portico, 'POST', CHAT, chat('truncated')), 502);
      assert.equal(error.code, 'bad_upstream_response');
    });

    it("a proxy's 502 HTML page is relayed as a 502 in the envelope, without the HTML", async () => {
      const answer = await call(portico, 'POST', CHAT, chat('proxy-502'));
      const error = assertEnvelope(answer, 502);
      assert.doesNotMatch(answer.text, /<html|<center/i);
      assert.ok(error.message.length > 0);
    });

    it('a streamed request answered with something that is not an event stream is a 502 in the envelope, not an empty stream', async () => {
      for (const model of ['json-for-stream', 'html']) {
        const answer = await call(portico, 'POST', CHAT, chat(model, 'x', { stream: true }));
        const error = assertEnvelope(answer, 502);
        assert.equal(error.code, 'bad_upstream_response', `${model}: ${answer.text}`);
      }
    });

    it('a slow stream is relayed chunk by chunk as it trickles in, not buffered', async () => {
      // The upstream sends its next chunk only after the client received the previous one:
      // a gateway that held chunks back would never let this stream finish.
      const stream = await openStream(portico, CHAT, chat('lockstep', 'x', { stream: true }));
      assert.equal(stream.status, 200);
      let content = '';
      for (let i = 0; i < LOCKSTEP_CHUNKS; i++) {
        const event = await stream.nextEvent(5_000);
        assert.equal(upstream.lockstepSent(), i + 1, 'the client has every chunk the upstream sent, and no more');
        content += parseSse(`${event}\n\n`).content;
        upstream.releaseChunk();
      }
      assert.equal(content, 'l0 l1 l2 l3 l4 ');
      assert.equal((await stream.nextEvent(5_000)).trim(), 'data: [DONE]');
    });

    it('Anthropic deployments: resets, hangs, garbage and error pages are 5xx in the envelope, the upstream call closed', async () => {
      for (const { behaviour, status, code } of ANTHROPIC_CASES) {
        for (const stream of [false, true]) {
          const answer = await call(portico, 'POST', CHAT, chat(`anthropic-${behaviour}`, 'x', { stream, max_tokens: 16 }));
          const error = assertEnvelope(answer, status);
          if (code !== undefined) assert.equal(error.code, code, `${behaviour} (stream: ${stream}): ${answer.text}`);
          assert.doesNotMatch(answer.text, /<html|<center/i, `${behaviour} (stream: ${stream})`);
        }
      }
      await upstream.waitForNoOpenExchanges();
    });

    it('afterwards: no upstream call left open, no internal error, descriptors back near baseline, still serving', async () => {
      await upstream.waitForNoOpenExchanges();
      await portico.expectDescriptorsNear(baselineFds);
      await assertServes(portico, 'healthy');
      const internal = portico.logs.filter((line) => line.msg === 'request failed with an internal error' || line.status === 500);
      assert.deepEqual(internal, [], 'Portico caused no 500');
    });
  });
}
