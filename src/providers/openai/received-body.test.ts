// What the OpenAI provider sends upstream for a client's body: its received text when nothing
// changes it, a serialisation of the changed body otherwise (spec/received-json.ts).
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { quickJsonParse } from '../../server/json-body-parser.ts';
import type { ProviderClient } from '../../spec/provider.ts';
import { collectText, deploymentFrom, withSettings } from '../testing/provider-test-helpers.ts';
import { openaiProvider } from './index.ts';

const ANSWER = { id: 'c', object: 'chat.completion', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };

describe('the OpenAI provider sends the received text when the body is unchanged', () => {
  let server: Server;
  let client: ProviderClient;
  const sent: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        sent.push(text);
        if ((JSON.parse(text) as { stream?: boolean }).stream === true) {
          res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [] })}\n\ndata: [DONE]\n\n`);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ANSWER));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    client = openaiProvider.createClient(...withSettings(deploymentFrom(`{model: openai/gpt-4o-mini, api_base: "${url}", api_key: sk-test}`, 'mini')));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function receivedBody(text: string): Record<string, unknown> {
    const body = quickJsonParse(text);
    assert.equal(typeof body, 'object');
    return body as Record<string, unknown>;
  }

  it('a chat body naming the upstream model goes as its received text, spacing included', async () => {
    const text = '{ "model" : "gpt-4o-mini",\n  "messages": [{"role": "user", "content": "hi"}], "temperature": 0.50 }';
    await client.chatCompletions(receivedBody(text));
    assert.equal(sent.at(-1), text);
  });

  it('a streamed chat body with stream: true goes as its received text', async () => {
    const text = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}';
    await collectText((await client.chatCompletionsStream(receivedBody(text))).body);
    assert.equal(sent.at(-1), text);
  });

  it('a changed body is serialised: model alias rewritten, stream keys dropped, a shaped copy, model given twice', async () => {
    await client.chatCompletions(receivedBody('{"model":"mini","messages":[]}'));
    assert.deepEqual(JSON.parse(sent.at(-1)!), { model: 'gpt-4o-mini', messages: [] });

    await client.chatCompletions(receivedBody('{"model":"gpt-4o-mini","messages":[],"stream":false,"stream_options":null}'));
    assert.deepEqual(JSON.parse(sent.at(-1)!), { model: 'gpt-4o-mini', messages: [] });

    const shaped: Record<string, unknown> = { ...receivedBody('{"model":"gpt-4o-mini","messages":[],"seed":1}'), temperature: 0 };
    delete shaped.seed;
    await client.chatCompletions(shaped);
    assert.deepEqual(JSON.parse(sent.at(-1)!), { model: 'gpt-4o-mini', messages: [], temperature: 0 });

    await client.chatCompletions(receivedBody('{"model":"gpt-4o","model":"gpt-4o-mini","messages":[]}'));
    assert.equal(sent.at(-1), '{"model":"gpt-4o-mini","messages":[]}');

    await collectText((await client.chatCompletionsStream(receivedBody('{"model":"mini","messages":[],"stream":true}'))).body);
    assert.deepEqual(JSON.parse(sent.at(-1)!), { model: 'gpt-4o-mini', messages: [], stream: true });
  });

  it('an embeddings body goes as received when its model is the upstream one', async () => {
    const text = '{"model": "gpt-4o-mini", "input": "hello"}';
    await client.embeddings!(receivedBody(text));
    assert.equal(sent.at(-1), text);
    await client.embeddings!(receivedBody('{"model":"mini","input":"hello"}'));
    assert.deepEqual(JSON.parse(sent.at(-1)!), { model: 'gpt-4o-mini', input: 'hello' });
  });
});
