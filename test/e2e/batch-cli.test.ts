/**
 * Issue 13, the batch CLI: `portico batch ...` run as a user runs it (a child process of
 * bin/portico.js) against a running Portico with a mock deployment and an OpenAI-compatible
 * server (the OpenAI simulator, where a line saying FAIL fails), through the `openai` SDK.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
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

const shellQuote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

/** `script` (util-linux) runs the CLI on a pseudo-terminal, as a user at a terminal runs it. */
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((path) => existsSync(path));

function cliOnTerminal(portico: PorticoWithStorage, args: string[]): Promise<CliRun> {
  const command = [NODE, BIN, 'batch', ...args, '--interval', '0.2'].map(shellQuote).join(' ');
  return new Promise((done, fail) => {
    // -q: no banner; -e: the command's exit code; -f: flush as written; the typescript to /dev/null.
    const child = spawn(SCRIPT!, ['-qefc', command, '/dev/null'], {
      cwd: REPO,
      env: { ...process.env, OPENAI_BASE_URL: portico.baseURL, OPENAI_API_KEY: MASTER_KEY },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
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

function jsonl(count: number, options: { model?: string; modelOf?: (i: number) => string; failing?: readonly number[]; prefix?: string } = {}): string {
  return (
    Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        custom_id: `${options.prefix ?? 'line'}-${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { ...(options.model && { model: options.model }), ...(options.modelOf && { model: options.modelOf(i) }), messages: [{ role: 'user', content: options.failing?.includes(i) ? 'FAIL' : `Say ${i}` }] },
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

    const again = join(dir, 'plain-download');
    const downloaded = await cli(portico, ['download', id, '--out', again]);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.deepEqual(await readdir(again), [`${id}_output.jsonl`]);
    assert.equal(await readFile(join(again, `${id}_output.jsonl`), 'utf8'), await readFile(join(out, `${id}_output.jsonl`), 'utf8'));
  });

  test('on a terminal the progress is a bar redrawn in place, with the rate and an ETA', { skip: SCRIPT === undefined && 'util-linux script(1) is not installed' }, async () => {
    const input = join(dir, 'terminal.jsonl');
    await writeFile(input, jsonl(12, { model: 'mock-slow', prefix: 'tty' }));
    const run = await cliOnTerminal(portico, ['submit', input, '--wait', '--out', join(dir, 'terminal-out')]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    // Each redraw returns to the line's start and clears it; the bar fills as lines are done.
    const redraws = run.stdout.split('\r\x1b[2K').slice(1);
    assert.ok(redraws.length >= 3, run.stdout);
    assert.ok(redraws.some((line) => /^in_progress\s+\[#*-+\]\s+\d+\/12 done\s+0 failed\s+[\d.]+ lines\/s\s+ETA \d+s/.test(line)), run.stdout);
    assert.ok(redraws.some((line) => /^completed\s+\[#{24}\]\s+12\/12 done\s+0 failed/.test(line)), run.stdout);
  });

  test('--model replaces the model of lines that name another, and says so; without it, lines naming several models are refused before upload', async () => {
    const input = join(dir, 'mixed.jsonl');
    await writeFile(input, jsonl(4, { modelOf: (i) => (i % 2 === 0 ? 'llama' : 'mock-fast'), prefix: 'mixed' }));
    const before = (await portico.client().files.list()).data.length;
    const refused = await cli(portico, ['submit', input]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /the lines name 2 models \((llama: 2, mock-fast: 2|mock-fast: 2, llama: 2)\), and a batch runs on one: pass --model M/);
    assert.equal((await portico.client().files.list()).data.length, before, 'nothing uploaded');

    const run = await cli(portico, ['submit', input, '--model', 'mock-fast', '--wait', '--out', join(dir, 'mixed-out')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /note: --model mock-fast replaces the model of 2 lines \(llama: 2\)/);
    const batch = await portico.client().batches.retrieve(batchIdIn(run.stdout));
    assert.equal((batch as { model?: string }).model, 'mock-fast');
    const sent = await (await portico.client().files.content(batch.input_file_id)).text();
    assert.deepEqual(new Set((await linesFromText(sent)).map((line) => (line as unknown as { body: { model: string } }).body.model)), new Set(['mock-fast']));
  });

  test('a batch the endpoint refuses: its message, exit 3, and the uploaded input deleted again', async () => {
    const input = join(dir, 'refused-endpoint.jsonl');
    await writeFile(input, jsonl(2, { model: 'mock-fast' }));
    const run = await cli(portico, ['submit', input, '--endpoint', '/v1/embeddings']);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /^portico batch: 400: The requests in the input file are for '\/v1\/chat\/completions', but the batch endpoint is '\/v1\/embeddings'\.\n$/);
    const files = (await portico.client().files.list()).data;
    assert.deepEqual(files.filter((file) => file.filename === 'refused-endpoint.jsonl'), []);
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

  test('retry-failed --input FILE --model M: the failed lines from the local file, run on another model', async () => {
    const input = join(dir, 'to-retry.jsonl');
    await writeFile(input, jsonl(4, { model: 'llama', failing: [0, 2], prefix: 'again' }));
    const first = await cli(portico, ['submit', input, '--wait', '--out', join(dir, 'to-retry-out')]);
    assert.equal(first.code, 4, first.stderr);
    const id = batchIdIn(first.stdout);
    const retry = await cli(portico, ['retry-failed', id, '--input', input, '--model', 'mock-fast', '--wait', '--out', join(dir, 'to-retry-out')]);
    assert.equal(retry.code, 0, retry.stderr);
    const retryId = batchIdIn(retry.stdout);
    assert.match(retry.stdout, new RegExp(`${retryId} created: 2 failed lines of ${id} on mock-fast`));
    assert.match(retry.stderr, /replaces the model of 2 lines \(llama: 2\)/);
    assert.deepEqual((await linesOf(join(dir, 'to-retry-out', `${retryId}_output.jsonl`))).map((l) => l.custom_id).sort(), ['again-0', 'again-2']);
    const missing = await cli(portico, ['retry-failed', id, '--input', join(dir, 'gone.jsonl')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*gone\.jsonl: no such file/);
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

  test('usage errors exit 2 with one line each: a missing file, an unknown flag, a flag of another command, an unknown command, a bad limit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['submit', join(dir, 'nope.jsonl'), '--model', 'mock-fast'], /cannot read .*nope\.jsonl: no such file/],
      [['list', '--frobnicate'], /Unknown option '--frobnicate'/],
      [['status', 'batch_x', '--model', 'mock-fast'], /"portico batch status" takes no --model/],
      [['resubmit', 'batch_x'], /Unknown command "resubmit"/],
      [['list', '--limit', '0'], /--limit must be an integer from 1 to 100, not "0"/],
      [['cancel'], /"portico batch cancel" takes one batch id/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(portico, args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  test('an endpoint that cannot be reached: exit 3, said in one line', async () => {
    // A port nobody listens on: one the system just gave out and took back.
    const server = createServer();
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const { port } = server.address() as AddressInfo;
    await new Promise((closed) => server.close(closed));
    const run = await cli(portico, ['status', 'batch_x', '--base-url', `http://127.0.0.1:${port}/v1`]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /^portico batch: cannot reach the endpoint: Connection error\..*ECONNREFUSED.*\n$/);
  });
});

async function linesFromText(text: string): Promise<Array<{ custom_id: string }>> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { custom_id: string });
}
