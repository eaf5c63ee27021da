import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withResponseIdsInEvents } from './response-events.ts';

async function collect(chunks: string[], rewrite = (response: Record<string, unknown>) => ({ ...response, id: `ours-${String(response.id)}` })): Promise<string> {
  const encoder = new TextEncoder();
  async function* source() {
    for (const chunk of chunks) yield encoder.encode(chunk);
  }
  const decoder = new TextDecoder();
  let out = '';
  for await (const bytes of withResponseIdsInEvents(source(), rewrite)) out += decoder.decode(bytes, { stream: true });
  return out;
}

const created = 'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress"}}\n\n';
const delta = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"say \\"response\\":{ \\"id\\": 1}"}\n\n';
const done = 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","status":"completed"}}\n\n';

describe('response ids in a Responses event stream', () => {
  it('rewrites the response object of the lifecycle events; other events pass byte for byte', async () => {
    const out = await collect([created, delta, done]);
    const events = out.split('\n\n').filter(Boolean);
    assert.equal(events.length, 3);
    assert.equal(JSON.parse(events[0]!.split('\ndata: ')[1]!).response.id, 'ours-resp_1');
    assert.equal(events[0]!.split('\n')[0], 'event: response.created', 'the event line is kept');
    assert.equal(`${events[1]}\n\n`, delta, 'a delta whose text looks like a response object is untouched');
    assert.equal(JSON.parse(events[2]!.split('\ndata: ')[1]!).response.status, 'completed');
  });

  it('events split anywhere across chunks, multi-byte characters included, and CRLF framing', async () => {
    const text = created + delta.replace('say', 'sáy ✓') + done;
    const whole = await collect([text]);
    for (const size of [1, 3, 7, 50]) {
      const chunks: string[] = [];
      for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size));
      assert.equal(await collect(chunks), whole, `chunks of ${size}`);
    }
    const crlf = await collect([created.replaceAll('\n', '\r\n')]);
    assert.match(crlf, /^event: response.created\r\ndata: \{.*"id":"ours-resp_1".*\}\r\n\r\n$/);
  });

  it('an unfinished last event, data that is not JSON, and a response without an id pass unchanged', async () => {
    const odd = ['data: {"response":{"status":"x"}}\n\n', 'data: {"response": not json}\n\n', 'data: [DONE]\n\n', 'data: {"type":"response.completed","response":{"id":"resp_9"}}'];
    const out = await collect(odd);
    assert.ok(out.startsWith(odd[0]! + odd[1]! + odd[2]!));
    assert.match(out.slice((odd[0]! + odd[1]! + odd[2]!).length), /"id":"ours-resp_9"/, 'the last event, without its blank line, is still rewritten');
  });
});
