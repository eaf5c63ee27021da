/**
 * The `portico` command as a user runs it: a child process of bin/portico.js on the pinned Node.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = join(REPO, 'node_modules/.bin/node');
const BIN = join(REPO, 'bin/portico.js');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(NODE, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns Portico and waits for its "listening" log line. */
function startProcess(args: string[], env: NodeJS.ProcessEnv, nodeFlags: string[] = []): Promise<Started> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(NODE, [...nodeFlags, BIN, ...args], { cwd: REPO, env: { ...process.env, LOG_LEVEL: 'info', ...env } });
    let output = '';
    const exited = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Portico did not start within 20 s:\n${output}`));
    }, 20_000);
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      for (const line of output.split('\n')) {
        if (!line.includes('Portico is listening')) continue;
        clearTimeout(timer);
        resolvePromise({ child, url: (JSON.parse(line) as { url: string }).url, output: () => output, exited });
        return;
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Portico exited with ${code} before listening:\n${output}`));
    });
  });
}

describe('the portico command', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('--help documents every flag and environment variable', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    for (const word of ['--config', '--port', '--host', '--help', 'DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'PORTICO_CONFIG', 'LOG_LEVEL', 'PORTICO_METRICS_PUBLIC', './portico.db', 'postgres://', 'file:']) {
      assert.ok(stdout.includes(word), `--help does not mention ${word}`);
    }
  });

  it('a bad config exits 1 with a message naming the file and the config path, without a stack trace', async () => {
    const configPath = join(dir, 'bad.yaml');
    await writeFile(configPath, 'model_list:\n  - model_name: x\n    litellm_params:\n      model: azur/my-deployment\n');
    const { code, stderr } = await run(['--config', configPath], { DATABASE_URL: `file:${join(dir, 'bad.db')}` });
    assert.equal(code, 1);
    assert.ok(stderr.includes(configPath), stderr);
    assert.match(stderr, /model_list\[0\]\.litellm_params\.model/);
    assert.match(stderr, /azur/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('blob_store: database on SQLite exits 1 saying it needs PostgreSQL', async () => {
    const configPath = join(dir, 'database-blobs.yaml');
    await writeFile(configPath, 'model_list:\n  - {model_name: x, litellm_params: {model: mock/x}}\nportico_settings: {files: {blob_store: database}}\n');
    const { code, stderr } = await run(['--config', configPath], { DATABASE_URL: `file:${join(dir, 'blobs.db')}` });
    assert.equal(code, 1);
    assert.match(stderr, /blob_store: "database" needs PostgreSQL/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('a master key from an empty environment variable exits 1 naming general_settings.master_key, without listening', async () => {
    const configPath = join(dir, 'blank-master.yaml');
    await writeFile(configPath, 'model_list:\n  - {model_name: x, litellm_params: {model: mock/x}}\ngeneral_settings:\n  master_key: os.environ/BLANK_MASTER_KEY\n');
    const { code, stdout, stderr } = await run(['--config', configPath, '--port', '0', '--host', '127.0.0.1'], {
      BLANK_MASTER_KEY: '',
      DATABASE_URL: `file:${join(dir, 'blank-master.db')}`,
    });
    assert.equal(code, 1, stdout + stderr);
    assert.ok(stderr.includes(configPath), stderr);
    assert.match(stderr, /general_settings\.master_key: must not be empty/);
    assert.doesNotMatch(stdout, /Portico is listening/);
  });

  it('without a master key it runs open and says so loudly: in the log at warn, and on stderr even with LOG_LEVEL=silent', async () => {
    const configPath = join(dir, 'open.yaml');
    await writeFile(configPath, 'model_list:\n  - {model_name: x, litellm_params: {model: mock/x}}\n');
    const args = ['--config', configPath, '--port', '0', '--host', '127.0.0.1'];
    const started = await startProcess(args, { DATABASE_URL: `file:${join(dir, 'open.db')}` });
    try {
      const lines = started.output().split('\n').filter((line) => line.includes('NO MASTER KEY CONFIGURED'));
      assert.ok(lines.some((line) => line.startsWith('portico: WARNING:') && /runs OPEN/.test(line)), 'on stderr');
      assert.ok(lines.some((line) => line.startsWith('{') && (JSON.parse(line) as { level: string }).level === 'warn'), 'in the log, at warn');
    } finally {
      started.child.kill('SIGTERM');
    }
    assert.equal(await started.exited, 0, started.output());

    const silent = spawn(NODE, [BIN, ...args], { cwd: REPO, env: { ...process.env, LOG_LEVEL: 'silent', DATABASE_URL: `file:${join(dir, 'open-silent.db')}` } });
    let stderr = '';
    const warned = new Promise<void>((resolveWarned) => {
      silent.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (stderr.includes('\n')) resolveWarned();
      });
    });
    const exited = new Promise<number | null>((resolveExit) => silent.on('close', resolveExit));
    const timer = setTimeout(() => silent.kill('SIGKILL'), 20_000);
    await Promise.race([warned, exited]);
    silent.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
    assert.match(stderr, /^portico: WARNING: NO MASTER KEY CONFIGURED .*runs OPEN/);
  });

  it('a missing config file exits 1 naming it', async () => {
    const missing = join(dir, 'nope.yaml');
    const { code, stderr } = await run(['--config', missing]);
    assert.equal(code, 1);
    assert.ok(stderr.includes(missing), stderr);
  });

  it('no config at all exits 1 and says how to give one', async () => {
    const { code, stderr } = await run([], { PORTICO_CONFIG: '' });
    assert.equal(code, 1);
    assert.match(stderr, /--config/);
  });

  it("npm start's command line boots with config.example.yaml and serves a mock chat completion, then stops on SIGTERM", async () => {
    const script = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    // `VAR=value ... node [flags] bin/portico.js [args]`: the environment it sets, then the command.
    const allWords = script.split(' ');
    const assignments = allWords.slice(0, allWords.findIndex((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word)));
    const scriptEnv = Object.fromEntries(assignments.map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]));
    const [command, ...words] = allWords.slice(assignments.length);
    assert.equal(command, 'node');
    const binAt = words.findIndex((word) => !word.startsWith('--'));
    const nodeFlags = words.slice(0, binAt);
    assert.equal(resolve(REPO, words[binAt]), BIN);
    const started = await startProcess(words.slice(binAt + 1), { ...scriptEnv, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${join(dir, 'start.db')}` }, nodeFlags);
    try {
      const client = new OpenAI({ apiKey: 'sk-portico-example', baseURL: `${started.url}/v1`, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello from npm start' }] });
      assert.equal(completion.object, 'chat.completion');
      assert.ok((completion.choices[0].message.content ?? '').length > 0);
    } finally {
      started.child.kill('SIGTERM');
    }
    assert.equal(await started.exited, 0, started.output());
  });

  it("a LiteLLM config's database_url and redis_host/redis_port are used in place of DATABASE_URL and REDIS_URL", async () => {
    const configPath = join(dir, 'litellm-state.yaml');
    const dbPath = join(dir, 'named-by-config.db');
    await writeFile(
      configPath,
      [
        'model_list:',
        '  - {model_name: m, litellm_params: {model: mock/m}}',
        'general_settings:',
        '  master_key: sk-state-test-master',
        '  database_url: os.environ/STATE_TEST_DB',
        'router_settings:',
        '  redis_host: os.environ/STATE_TEST_REDIS_HOST',
        '  redis_port: 6379',
        '',
      ].join('\n'),
    );
    const env = { DATABASE_URL: '', REDIS_URL: '', STATE_TEST_DB: `file:${dbPath}`, STATE_TEST_REDIS_HOST: '127.0.0.1', PORTICO_REDIS_PREFIX: `cli-state-${process.pid}:` };
    const started = await startProcess(['--config', configPath, '--port', '0', '--host', '127.0.0.1'], env);
    try {
      const listening = started.output().split('\n').find((line) => line.includes('Portico is listening'));
      const fields = JSON.parse(listening ?? '{}') as { database?: string; shared_state?: string };
      assert.deepEqual([fields.database, fields.shared_state], ['sqlite', 'redis']);
      assert.ok(existsSync(dbPath), 'the SQLite file is where the config said');
      assert.doesNotMatch(started.output(), /fail open/i, 'Redis was reached');
    } finally {
      started.child.kill('SIGTERM');
    }
    assert.equal(await started.exited, 0, started.output());
  });

  it('SIGTERM lets an in-flight request finish before exiting', async () => {
    const configPath = join(dir, 'slow.yaml');
    await writeFile(
      configPath,
      'model_list:\n  - model_name: slow\n    litellm_params:\n      model: mock/slow\n      mock_latency_ms: 1000\ngeneral_settings:\n  master_key: sk-drain-test-master\n',
    );
    const started = await startProcess(['--config', configPath, '--port', '0', '--host', '127.0.0.1'], { DATABASE_URL: `file:${join(dir, 'drain.db')}` });
    const client = new OpenAI({ apiKey: 'sk-drain-test-master', baseURL: `${started.url}/v1`, maxRetries: 0 });
    const inFlight = client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'finish me' }] });
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    const signalledAt = Date.now();
    started.child.kill('SIGTERM');
    const completion = await inFlight;
    assert.equal(completion.object, 'chat.completion');
    assert.equal(await started.exited, 0, started.output());
    // Well under the 25 s grace: the drain ends when the last request does.
    assert.ok(Date.now() - signalledAt < 5_000, `exit took ${Date.now() - signalledAt} ms`);
  });
});
