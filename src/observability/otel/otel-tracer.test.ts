/**
 * LiteLLM's `litellm_settings.redact_user_api_key_info` as Portico reads it: spans exported over
 * OTLP/HTTP (to a receiver in this test, which decodes them) carry nothing about the caller's
 * key, and keep every other attribute; without it the key's id is exported.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../config/load-config.ts';
import { KEY_INFO_ATTRIBUTES } from '../tracing.ts';
import { createOtelTracer } from './otel-tracer.ts';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; boolValue?: boolean };
}

describe('redact_user_api_key_info', () => {
  const exported: Array<{ name: string; attributes: OtlpAttribute[] }> = [];
  let receiver: Server;

  before(async () => {
    receiver = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string; attributes: OtlpAttribute[] }> }> }> };
        for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) exported.push(...scope.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    // The OTLP exporter reads its endpoint from the process's environment, as in production.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  async function exportOneRequest(name: string, withheld?: ReadonlySet<string>): Promise<Record<string, unknown>> {
    const tracer = createOtelTracer(process.env, withheld === undefined ? {} : { withheld });
    const span = tracer.startRequest(name, undefined, { 'http.request.method': 'POST', 'portico.key_id': 'key-at-start' });
    tracer.setAttributes(span, { 'portico.key_id': 'key-7', 'portico.master_key': true, 'gen_ai.request.model': 'gpt-4o' });
    tracer.end(span);
    await tracer.shutdown();
    const found = exported.find((candidate) => candidate.name === name);
    assert.ok(found, `span ${name} exported`);
    return Object.fromEntries(found.attributes.map(({ key, value }) => [key, value.stringValue ?? value.boolValue]));
  }

  it('leaves the key out of exported spans, and nothing else', async () => {
    const attributes = await exportOneRequest('POST /v1/chat/completions redacted', KEY_INFO_ATTRIBUTES);
    assert.deepEqual(attributes, { 'http.request.method': 'POST', 'gen_ai.request.model': 'gpt-4o' });
  });

  it('exports the key without it', async () => {
    const attributes = await exportOneRequest('POST /v1/chat/completions plain');
    assert.equal(attributes['portico.key_id'], 'key-7');
    assert.equal(attributes['portico.master_key'], true);
  });

  it('is read from litellm_settings, beside telemetry and turn_off_message_logging, which Portico already keeps', () => {
    const entry = 'model_list: [{model_name: m, litellm_params: {model: openai/gpt-4o-mini, api_key: k}}]\n';
    const on = parseConfig(`${entry}litellm_settings: {redact_user_api_key_info: true, telemetry: false, turn_off_message_logging: true}\n`, {});
    assert.equal(on.redactKeyInfo, true);
    assert.deepEqual(on.warnings, []);
    const off = parseConfig(`${entry}litellm_settings: {telemetry: true, turn_off_message_logging: false}\n`, {});
    assert.equal(off.redactKeyInfo, false);
    assert.equal(off.warnings.length, 1);
    assert.match(off.warnings[0], /turn_off_message_logging: false: Portico never puts prompts or answers/);
  });
});
