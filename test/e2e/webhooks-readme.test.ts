/**
 * The README's webhook receiver, run as written (its code block taken from the README; only the
 * port changed) against a Portico configured as the README shows: a batch's end is printed once,
 * a request with a forged signature is refused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { toFile } from 'openai';
import { startPortico } from '../helpers/portico.ts';
import { refusingPort } from '../helpers/webhook-receiver.ts';
import { PINNED_NODE, REPO_ROOT } from '../scale-out/portico-process.ts';

const SECRET = `whsec_${Buffer.from('the readme secret of 32 bytes...').toString('base64')}`;

async function readmeBlock(heading: string, language: string): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const start = section.indexOf('```' + language + '\n') + language.length + 4;
  return section.slice(start, section.indexOf('```', start));
}

test("the README's receiver verifies Portico's webhook with the openai SDK, prints each event once and refuses a forged one", async () => {
  const port = await refusingPort();
  const code = await readmeBlock('### Webhooks when batches end', 'js');
  assert.match(code, /listen\(8787\)/);
  // Inside the repository, so that `import OpenAI from 'openai'` resolves.
  const file = join(REPO_ROOT, 'test', 'e2e', `.readme-receiver-${process.pid}.mjs`);
  await writeFile(file, code.replace('listen(8787)', `listen(${port}, '127.0.0.1')`));
  const receiver = spawn(PINNED_NODE, [file], { env: { ...process.env, PORTICO_WEBHOOK_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  receiver.stdout.setEncoding('utf8').on('data', (text: string) => (printed += text));
  receiver.stderr.setEncoding('utf8').on('data', (text: string) => (printed += text));
  const portico = await startPortico(
    `model_list:
  - model_name: mock-model
    litellm_params: { model: mock/mock-model, mock_latency_ms: 5 }
general_settings:
  master_key: sk-readme-webhooks-0123456789
portico_settings:
  batch: { refresh_after_seconds: 0, poll_interval_ms: 100 }
  webhooks:
    - url: http://127.0.0.1:${port}/
      secret: os.environ/PORTICO_WEBHOOK_SECRET
  webhook_delivery: { retry_first_seconds: 0.1, retry_max_seconds: 0.5, poll_interval_ms: 50 }
`,
    { env: { ...process.env, PORTICO_WEBHOOK_SECRET: SECRET } },
  );
  try {
    const client = portico.client();
    const jsonl = JSON.stringify({ custom_id: 'r0', method: 'POST', url: '/v1/chat/completions', body: { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] } });
    const input = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const deadline = Date.now() + 20_000;
    // The receiver may start after the event is written: the first attempts are refused, then retried.
    while (!printed.includes(`batch.completed ${batch.id}`)) {
      if (Date.now() > deadline) throw new Error(`the receiver printed: ${printed}`);
      await client.batches.retrieve(batch.id);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const forged = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'webhook-id': 'evt_forged', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,bm90IGEgc2lnbmF0dXJl' },
      body: JSON.stringify({ object: 'event', id: 'evt_forged', type: 'batch.completed', created_at: 1, data: { id: 'batch_forged' } }),
    });
    assert.equal(forged.status, 400);
    assert.equal(printed.split('\n').filter((line) => line === `batch.completed ${batch.id}`).length, 1);
    assert.doesNotMatch(printed, /batch_forged/);
  } finally {
    await portico.close();
    receiver.kill();
    await rm(file, { force: true });
  }
});
