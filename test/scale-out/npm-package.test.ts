/**
 * Issue 14, an installable package: `npm pack` builds the JavaScript (`npm run build`, prepack)
 * and packs bin/ and dist/; installed from the tarball into an empty project, its `portico`
 * starts the gateway and the batch CLI, driven here with the `openai` SDK. Dependencies come from
 * npm's cache first (`--prefer-offline`: CI's `npm ci` filled it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { toFile } from 'openai';
import { PINNED_NODE, REPO_ROOT, spawnPortico, type PorticoProcess } from './portico-process.ts';

const run = promisify(execFile);
const NPM_ENV = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

describe('the npm package, installed from its tarball into an empty project', () => {
  let dir: string;
  let app: string;
  let tarball: string;
  let entries: string[];
  let portico: PorticoProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-package-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO_ROOT, env: NPM_ENV, maxBuffer: 16 * 1024 * 1024 });
    const packed = (JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0];
    tarball = join(dir, packed.filename);
    entries = packed.files.map((file) => file.path);
    app = join(dir, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'empty-project', version: '1.0.0', private: true }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, env: NPM_ENV, maxBuffer: 16 * 1024 * 1024 });
  });
  after(async () => {
    await portico?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the tarball holds the built JavaScript, not the sources, tests or benchmarks', () => {
    assert.ok(entries.includes('bin/portico.js'));
    assert.ok(entries.includes('dist/cli.js'));
    assert.ok(entries.includes('dist/batch-cli/main.js'));
    assert.ok(entries.includes('config.example.yaml'));
    assert.ok(entries.includes('ui/index.html') && entries.includes('ui/app.js'), 'the web console ships as it is');
    assert.deepEqual(entries.filter((path) => /^(src|test|bench)\//.test(path) || path.endsWith('.ts') || path.endsWith('.test.js')), []);
  });

  test('its portico serves the example config to the openai SDK: chat, a file, a batch', async () => {
    const installed = join(app, 'node_modules', 'portico');
    assert.deepEqual((await readdir(installed)).filter((name) => name === 'src'), [], 'no sources installed: the build runs');
    portico = await spawnPortico({
      bin: join(installed, 'bin', 'portico.js'),
      cwd: app,
      configPath: join(installed, 'config.example.yaml'),
      masterKey: 'sk-portico-example',
      env: { DATABASE_URL: `file:${join(app, 'portico.db')}` },
      name: 'installed',
    });
    const client = portico.client();
    const chat = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    // The example config's group has two mock deployments: one echoes, the other answers its mock_response.
    assert.match(chat.choices[0].message.content ?? '', /hello|Hello from the second mock deployment/);
    const lines = [0, 1].map((i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `q${i}` }] } }));
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'in.jsonl'), purpose: 'batch' });
    let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    for (let i = 0; i < 100 && batch.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      batch = await client.batches.retrieve(batch.id);
    }
    assert.equal(batch.status, 'completed');
    assert.deepEqual(batch.request_counts, { total: 2, completed: 2, failed: 0 });

    // The web console of the installed package: its page and the vendored modules from the project's node_modules.
    for (const path of ['/ui', '/ui/assets/app.js', '/ui/vendor/preact.js', '/ui/vendor/htm.js']) {
      assert.equal((await fetch(`${portico.url}${path}`)).status, 200, path);
    }

    // The batch CLI of the same package.
    const { stdout } = await run(PINNED_NODE, [join(installed, 'bin', 'portico.js'), 'batch', 'status', batch.id], {
      cwd: app,
      env: { ...process.env, OPENAI_BASE_URL: portico.baseURL, OPENAI_API_KEY: 'sk-portico-example' },
    });
    assert.match(stdout, /status\s+completed/);
  });
});
