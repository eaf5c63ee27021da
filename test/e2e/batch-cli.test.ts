/**
 * Issue 13, the batch CLI: `portico batch ...` run as a user runs it (a child process of
 * bin/portico.js) against a running Portico with a mock deployment and an OpenAI-compatible
 * server (the OpenAI simulator, where a line saying FAIL fails), through the `openai` SDK.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startPorticoWithStorage, type PorticoWithStorage } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = join(REPO, 'node_modules/.bin/node');
const BIN = join(REPO, 'bin/portico.js');
const MASTER_KEY = 'sk-batch-cli-master-0123456789';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface CliOptions {
  /** Called with stdout so far on every chunk; answer true to send SIGINT (once). */
  interruptWhen?: (stdout: string) => boolean;
}

function cli(portico: PorticoWithStorage, args: string[], options: CliOptions = {}): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(NODE, [BIN, 'batch', ...args, '--interval', '0.2'], {
      cwd: REPO,
      env: { ...process.env, OPENAI_BASE_URL: portico.baseURL, OPENAI_API_KEY: MASTER_KEY },
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (!interrupted && options.interruptWhen?.(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function jsonl(count: number, options: { model?: string; failing?: readonly number[]; prefix?: string } = {}): string {
  return (
    Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        custom_id: `${options.prefix ?? 'line'}-${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { ...(options.model && { model: options.model }), messages: [{ role: 'user', content: options.failing?.includes(i) ? 'FAIL' : `Say ${i}` }] },
      }),
    ).join('\n') + '\n'
  );
}

function batchIdIn(text: string): string {
  const match = /(batch_[A-Za-z0-9]+) created/.exec(text);
  assert.ok(match, `no batch id in: ${text}`);
  return match[1];
}

async function linesOf(path: string): Promise<Array<{ custom_id: string }>> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { custom_id: string });
}

describe('portico batch (the batch CLI)', () => {
  let upstream: OpenAISimulator;
  let portico: PorticoWithStorage;
  let dir: string;

  before(async () => {
    upstream = await startOpenAISimulator();
    dir = await mkdtemp(join(tmpdir(), 'portico-batch-cli-'));
    portico = await startPorticoWithStorage(
      (storageDir) => `
model_list:
  - model_name: mock-fast
    litellm_params:
      model: mock/fast
      mock_latency_ms: 20
  - model_name: mock-slow
    litellm_params:
      model: mock/slow
      mock_latency_ms: 250
      batch_concurrency: 2
  - model_name: llama
    litellm_params:
      model: hosted_vllm/llama-3.1-8b
      api_base: ${upstream.url}
      api_key: ${OPENAI_SIMULATOR_API_KEY}
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files:
    storage_dir: ${storageDir}
  batch:
    refresh_after_seconds: 0
    poll_interval_ms: 100
`,
    );
  });
  after(async () => {
    await portico?.close();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('submit --wait with --model: progress lines, the output file downloaded, exit 0', async () => {
    const input = join(dir, 'plain.jsonl');
    await writeFile(input, jsonl(6));
    const out = join(dir, 'plain-out');
    const run = await cli(portico, ['submit', input, '--model', 'mock-fast', '--wait', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const id = batchIdIn(run.stdout);
    // Not a terminal: plain lines, no carriage returns or escape sequences.
    assert.doesNotMatch(run.stdout, /\r|\x1b/);
    assert.match(run.stdout, /completed\s+6\/6 done\s+0 failed/);
    assert.match(run.stdout, new RegExp(`${id} completed \\(6/6 completed, 0 failed\\)`));
    assert.deepEqual(await readdir(out), [`${id}_output.jsonl`]);
    assert.deepEqual((await linesOf(join(out, `${id}_output.jsonl`))).map((l) => l.custom_id).sort(), Array.from({ length: 6 }, (_, i) => `line-${i}`).sort());
    const batch = await portico.client().batches.retrieve(id);
    assert.equal(batch.status, 'completed');
  });

  test('a batch with failed lines exits 4 with its error file; retry-failed runs just those lines', async () => {
    const input = join(dir, 'failing.jsonl');
    await writeFile(input, jsonl(5, { model: 'llama', failing: [1, 3], prefix: 'req' }));
    const out = join(dir, 'failing-out');
    const run = await cli(portico, ['submit', input, '--wait', '--out', out]);
    assert.equal(run.code, 4, run.stderr);
    const id = batchIdIn(run.stdout);
    assert.match(run.stdout, new RegExp(`${id} completed with 2 failed lines`));
    assert.deepEqual((await linesOf(join(out, `${id}_errors.jsonl`))).map((l) => l.custom_id).sort(), ['req-1', 'req-3']);
    assert.equal((await linesOf(join(out, `${id}_output.jsonl`))).length, 3);

    const status = await cli(portico, ['status', id]);
    assert.equal(status.code, 4);
    assert.match(status.stdout, /status\s+completed/);
    assert.match(status.stdout, /requests\s+3\/5 completed, 2 failed/);

    const retry = await cli(portico, ['retry-failed', id, '--wait', '--out', join(dir, 'retry-out')]);
    const retryId = batchIdIn(retry.stdout);
    assert.match(retry.stdout, new RegExp(`${retryId} created: 2 failed lines of ${id}`));
    // The same lines fail again, and only they ran.
    assert.equal(retry.code, 4, retry.stderr);
    const again = await portico.client().batches.retrieve(retryId);
    assert.deepEqual(again.request_counts, { total: 2, completed: 0, failed: 2 });
    assert.equal(again.metadata?.retry_of, id);
    const retriedInput = await (await portico.client().files.content(again.input_file_id)).text();
    assert.deepEqual((await linesFromText(retriedInput)).map((l) => l.custom_id).sort(), ['req-1', 'req-3']);

    const listed = await cli(portico, ['list', '--limit', '50']);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, new RegExp(`${id}\\s+completed\\s+3/5 completed, 2 failed`));
    assert.match(listed.stdout, new RegExp(retryId));
  });

  test('cancel: the batch ends cancelled, and watching it exits 7', async () => {
    const input = join(dir, 'long.jsonl');
    await writeFile(input, jsonl(40, { model: 'mock-slow', prefix: 'long' }));
    const submitted = await cli(portico, ['submit', input]);
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = batchIdIn(submitted.stdout);
    const cancelled = await cli(portico, ['cancel', id]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, new RegExp(`${id} (cancelling|cancelled)`));
    const watched = await cli(portico, ['watch', id, '--out', join(dir, 'cancel-out')]);
    assert.equal(watched.code, 7, watched.stderr);
    assert.match(watched.stdout, new RegExp(`${id} cancelled`));
  });

  test('Ctrl-C while watching leaves the batch running and says how to resume; a resumed watch finishes it', async () => {
    const input = join(dir, 'interrupted.jsonl');
    await writeFile(input, jsonl(12, { model: 'mock-slow', prefix: 'int' }));
    const interrupted = await cli(portico, ['submit', input, '--wait', '--out', join(dir, 'int-out')], { interruptWhen: (stdout) => /in_progress\s+\d+\/12 done/.test(stdout) });
    assert.equal(interrupted.code, 130, interrupted.stderr);
    const id = batchIdIn(interrupted.stdout);
    assert.match(interrupted.stderr, new RegExp(`portico batch watch ${id}`));
    const meanwhile = await portico.client().batches.retrieve(id);
    assert.ok(['in_progress', 'finalizing', 'completed'].includes(meanwhile.status), meanwhile.status);
    assert.notEqual(meanwhile.status, 'cancelled');

    const resumed = await cli(portico, ['watch', id, '--out', join(dir, 'int-out')]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((await linesOf(join(dir, 'int-out', `${id}_output.jsonl`))).length, 12);
  });

  test('bad input is a usage error (exit 2) naming the line; an unknown batch is the API error (exit 3)', async () => {
    const input = join(dir, 'bad.jsonl');
    await writeFile(input, `${jsonl(1, { model: 'mock-fast' })}{"custom_id": "x", "method": "POST"\n`);
    const bad = await cli(portico, ['submit', input]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /line 2: not valid JSON/);
    const noModel = join(dir, 'no-model.jsonl');
    await writeFile(noModel, jsonl(1));
    const missing = await cli(portico, ['submit', noModel]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /names no model; pass --model/);
    const unknown = await cli(portico, ['status', 'batch_doesnotexist']);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /^portico batch: 404: /);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /, 'no stack trace');
  });
});

async function linesFromText(text: string): Promise<Array<{ custom_id: string }>> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { custom_id: string });
}
