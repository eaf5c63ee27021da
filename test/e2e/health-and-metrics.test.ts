/** Probes and Prometheus metrics of a running Portico. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { E2E_ENV, envelopeOf, gatewayConfig, startUpstreams, type Upstreams } from './fixtures.ts';

describe('health probes and metrics', () => {
  let upstreams: Upstreams;
  let portico: PorticoUnderTest;

  before(async () => {
    upstreams = await startUpstreams();
    portico = await startPortico(gatewayConfig(upstreams), { env: E2E_ENV });
  });
  after(async () => {
    await portico?.close();
    await upstreams?.close();
  });

  it('answers liveliness and readiness without a key', async () => {
    const live = await portico.fetch('/health/liveliness', { apiKey: null });
    assert.equal(live.status, 200);
    const ready = await portico.fetch('/health/readiness', { apiKey: null });
    assert.equal(ready.status, 200);
    assert.equal((await ready.json()).status, 'ready');
  });

  it('refuses /metrics without a key and with a virtual key', async () => {
    assert.equal((await portico.fetch('/metrics', { apiKey: null })).status, 401);
    const { key } = await portico.generateKey({});
    const response = await portico.fetch('/metrics', { apiKey: key });
    assert.equal(response.status, 403);
    envelopeOf(await response.json());
  });

  it('exposes requests, latency, upstream latency and the overhead histogram after a proxied request', async () => {
    await portico.client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'measure me' }] });
    const response = await portico.fetch('/metrics');
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /# TYPE portico_overhead_seconds histogram/);
    assert.match(text, /portico_overhead_seconds_count\{route="\/v1\/chat\/completions"\} [1-9]/);
    assert.match(text, /portico_upstream_duration_seconds_count\{model="gpt-4o-mini"\} [1-9]/);
    assert.match(text, /portico_request_duration_seconds_count\{route="\/v1\/chat\/completions",model="gpt-4o-mini",status="200"\} [1-9]/);
    assert.match(text, /portico_requests_total\{route="\/v1\/chat\/completions",model="gpt-4o-mini",status="200"\} [1-9]/);
    assert.match(text, /portico_upstream_attempts_total\{model="gpt-4o-mini",deployment="[^"]+",result="ok"\} [1-9]/);
    assert.match(text, /portico_process_resident_memory_bytes/);
  });

  it('answers readiness 503 in the envelope once the database is gone, while liveliness stays 200', async () => {
    await portico.services.database.close();
    const ready = await portico.fetch('/health/readiness', { apiKey: null });
    assert.equal(ready.status, 503);
    envelopeOf(await ready.json());
    assert.equal((await portico.fetch('/health/liveliness', { apiKey: null })).status, 200);
  });
});

describe('metrics made public', () => {
  let portico: PorticoUnderTest;
  before(async () => {
    portico = await startPortico(
      'model_list: [{model_name: m, litellm_params: {model: mock/m}}]\ngeneral_settings: {master_key: sk-public-metrics-master}\n',
      { metricsPublic: true },
    );
  });
  after(() => portico?.close());

  it('serves /metrics without a key when PORTICO_METRICS_PUBLIC is set', async () => {
    const response = await portico.fetch('/metrics', { apiKey: null });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /portico_requests_total/);
  });
});

describe('open mode (no master key)', () => {
  let portico: PorticoUnderTest;
  before(async () => {
    portico = await startPortico('model_list: [{model_name: m, litellm_params: {model: mock/m}}]\n');
  });
  after(() => portico?.close());

  it('treats every request as the master', async () => {
    const response = await portico.fetch('/v1/models', { apiKey: null });
    assert.equal(response.status, 200);
    const minted = await portico.fetch('/key/generate', { apiKey: null, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(minted.status, 200);
  });
});
