/**
 * The image the Dockerfile describes, built and run without Docker (there is no Docker engine
 * here): the Dockerfile's instructions are carried out on the local file system, each stage in
 * its own directory standing in for the container's `/`. The build context is filtered by
 * .dockerignore, the package stage packs Portico (`npm pack`, its build included) and unpacks it,
 * the production dependencies come from the dependencies stage's `npm ci`, and
 * the ENTRYPOINT + CMD start with the image's ENV, on the pinned Node 24 in place of the
 * node:24-slim image's. Then the gateway is used as a client uses it: health check, a chat
 * completion and a batch through the `openai` SDK, and SIGTERM.
 *
 * The test reads the Dockerfile rather than repeating it, and fails on an instruction it does not
 * know how to carry out, so a changed recipe is either followed or noticed.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, chmod, chown, cp, glob, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import OpenAI, { toFile } from 'openai';
import { parse } from 'yaml';
import { PINNED_NODE, REPO_ROOT, freePort } from './portico-process.ts';

const run = promisify(execFile);

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string | undefined;
  instructions: Instruction[];
}

/** Stages in order; comment lines dropped and `\` continuations joined, as Docker reads them. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line) as RegExpExecArray;
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === 'FROM') stages.push({ name: /\bAS\s+(\S+)$/i.exec(args)?.[1], instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** `ENV A=1 B="two words"`: only the key=value form (the legacy `ENV A 1` form is not used). */
function parseEnv(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  const rest = args.replace(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g, (_, key: string, value: string) => {
    env[key] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    return '';
  });
  assert.equal(rest.trim(), '', `ENV ${args}: only KEY=value pairs are understood`);
  return env;
}

/** The exec (JSON array) form of ENTRYPOINT, CMD and HEALTHCHECK CMD. */
function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  assert.ok(Array.isArray(parsed) && parsed.every((part) => typeof part === 'string'), `not an exec form: ${args}`);
  return parsed;
}

const GLOB_PARTS = new Map([
  ['**/', '(?:.*/)?'],
  ['**', '.*'],
  ['*', '[^/]*'],
  ['?', '[^/]'],
]);

/** .dockerignore as Docker applies it: paths relative to the context, `**` across directories, last match wins. */
async function dockerignore(): Promise<(path: string) => boolean> {
  const text = await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8').catch(() => '');
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exception = line.startsWith('!');
      const pattern = (exception ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      const source = pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) => GLOB_PARTS.get(part) ?? part.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
        .join('');
      return { exception, regex: new RegExp(`^${source}$`) };
    });
  return (path) => {
    let ignored = false;
    for (const rule of rules) if (rule.regex.test(path)) ignored = !rule.exception;
    return ignored;
  };
}

/** Earlier stages built once, by root, however many COPY --from name them. */
const builtStages = new Map<string, Promise<unknown>>();

/** npm as the image runs it: the image's Node (the pinned Node 24 here) first on the PATH. */
const NPM_ENV = { ...process.env, PATH: `${dirname(PINNED_NODE)}:${process.env.PATH}`, npm_config_update_notifier: 'false' };

async function runNpm(args: string[], cwd: string): Promise<void> {
  await run('npm', args, { cwd, env: NPM_ENV, maxBuffer: 16 * 1024 * 1024, timeout: 150_000 }).catch((error: { stderr?: string }) => {
    throw new Error(`npm ${args.join(' ')} failed:\n${(error.stderr ?? String(error)).split('\n').slice(-30).join('\n')}`);
  });
}

/**
 * Carries out one stage's file-system instructions under `root` (the stage's `/`) and returns
 * what the image keeps for running: ENV, ENTRYPOINT, CMD, HEALTHCHECK and the WORKDIR.
 */
async function buildStage(stages: Stage[], stage: Stage, root: string, ignored: (path: string) => boolean) {
  const inRoot = (containerPath: string) => join(root, containerPath);
  let workdir = '/';
  const image = { workdir, env: {} as Record<string, string>, entrypoint: [] as string[], cmd: [] as string[], healthcheck: [] as string[] };
  for (const { keyword, args } of stage.instructions) {
    switch (keyword) {
      case 'WORKDIR':
        workdir = args.startsWith('/') ? args : join(workdir, args);
        await mkdir(inRoot(workdir), { recursive: true });
        break;
      case 'ENV':
        Object.assign(image.env, parseEnv(args));
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const from = /^--from=(\S+)$/.exec(words[0])?.[1];
        const [sources, dest] = [words.slice(from ? 1 : 0, -1), words.at(-1) as string];
        assert.ok(sources.length > 0 && sources.every((source) => !source.startsWith('--')), `COPY ${args}: unknown flags`);
        const destIsDirectory = dest.endsWith('/') || sources.length > 1;
        const target = inRoot(dest.startsWith('/') ? dest : join(workdir, dest));
        for (const source of sources) {
          // A source from the build context, or from an earlier stage's file system.
          let sourcePath = join(REPO_ROOT, source);
          if (from !== undefined) {
            const earlier = stages.find((candidate) => candidate.name === from);
            assert.ok(earlier, `COPY --from=${from}: no such stage`);
            const earlierRoot = `${root}-${from}`;
            if (!builtStages.has(earlierRoot)) builtStages.set(earlierRoot, buildStage(stages, earlier, earlierRoot, ignored));
            await builtStages.get(earlierRoot);
            sourcePath = join(earlierRoot, source);
          } else {
            assert.ok(!ignored(source), `COPY ${source}: left out of the build context by .dockerignore`);
          }
          const isDirectory = (await stat(sourcePath)).isDirectory();
          await cp(sourcePath, isDirectory || !destIsDirectory ? target : join(target, basename(source)), {
            recursive: true,
            verbatimSymlinks: true,
            filter: (path) => from !== undefined || !ignored(relative(REPO_ROOT, path)),
          });
        }
        break;
      }
      case 'RUN':
        for (const command of args.split('&&').map((part) => part.trim().split(/\s+/))) {
          const [program, ...rest] = command;
          if (program === 'npm' && rest[0] === 'ci') {
            // From the npm registry, like the image build (a registry this machine cannot reach fails the test).
            await runNpm(rest, inRoot(workdir));
          } else if (program === 'npm' && rest[0] === 'install') {
            // The package stage's build tool (TypeScript), into a directory of the stage's root;
            // from npm's cache first (CI's `npm ci` filled it), else the registry.
            const args = rest.map((word, i) => (rest[i - 1] === '--prefix' ? inRoot(word) : word));
            assert.ok(rest.includes('--prefix'), `RUN npm ${rest.join(' ')}: installs only with --prefix here`);
            await runNpm([...args, '--prefer-offline'], inRoot(workdir));
          } else if (program === 'npm' && rest[0] === 'pack' && rest.length === 1) {
            // prepack builds dist/ with the TypeScript installed above (npm puts it on the PATH).
            await runNpm(['pack'], inRoot(workdir));
          } else if (program === 'tar') {
            // Unpacking the package: `-C DIR` inside the stage's root, file names globbed as sh does.
            const args: string[] = [];
            for (const [i, word] of rest.entries()) {
              if (rest[i - 1] === '-C') args.push(inRoot(word));
              else if (word.includes('*')) for await (const match of glob(word, { cwd: inRoot(workdir) })) args.push(match);
              else args.push(word);
            }
            await run('tar', args, { cwd: inRoot(workdir) });
          } else if (program === 'npm' && rest.join(' ') === 'cache clean --force') {
            // Keeps the image layer small; here it would only empty this machine's npm cache.
          } else if (program === 'mkdir' && rest[0] === '-p') {
            for (const path of rest.slice(1)) await mkdir(inRoot(path), { recursive: true });
          } else if (program === 'chown') {
            // Run as root, this test starts Portico as RUN_AS: hand it what the image hands `node`.
            // Otherwise this test's user already owns every directory it made.
            if (RUN_AS) for (const path of rest.filter((word) => !word.startsWith('-')).slice(1)) await chownTree(inRoot(path), RUN_AS);
          } else if (program === 'node') {
            // A build step on the image's Node (warming the compile cache): the pinned Node 24, the
            // stage's ENV so far, inside the stage's root.
            const [node, args] = onPinnedNode(command);
            await run(node, args, { cwd: inRoot(workdir), env: { PATH: process.env.PATH, ...containerEnv(image.env, root) }, timeout: 60_000 });
          } else if (program === 'ln' && rest[0] === '-s' && rest.length === 3) {
            await symlink(inRoot(rest[1]), inRoot(rest[2]));
          } else {
            assert.fail(`RUN ${command.join(' ')}: not something this test knows how to carry out`);
          }
        }
        break;
      case 'ENTRYPOINT':
        image.entrypoint = execForm(args);
        break;
      case 'CMD':
        image.cmd = execForm(args);
        break;
      case 'HEALTHCHECK':
        image.healthcheck = execForm(args.replace(/^(?:--\S+\s+)*CMD\s+/, ''));
        break;
      case 'USER':
      case 'VOLUME':
      case 'EXPOSE':
        break;
      default:
        assert.fail(`${keyword} ${args}: not something this test knows how to carry out`);
    }
  }
  image.workdir = workdir;
  return image;
}

/**
 * The image runs as its unprivileged `node` user (USER node). A test run as root starts Portico as
 * `nobody` likewise, so that it cannot write where the image's user cannot.
 */
const RUN_AS = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

async function chownTree(path: string, owner: { uid: number; gid: number }): Promise<void> {
  await chown(path, owner.uid, owner.gid);
  if (!(await stat(path)).isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), owner);
}

/** /app belongs to root in the image: Portico may write nowhere there but through the /data link. */
async function setDirectoriesWritable(dir: string, writable: boolean): Promise<void> {
  if (writable) await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await setDirectoriesWritable(join(dir, entry.name), writable);
  }
  if (!writable) await chmod(dir, 0o555);
}

/** The image's ENV with its absolute paths (and `file:/...` URLs) moved inside the stage's root. */
function containerEnv(imageEnv: Record<string, string>, root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(imageEnv).map(([key, value]) => [key, value.replace(/^(file:)?\//, `$1${root}/`)]));
}

/** The node:24-slim image's `node` is Node 24: the pinned one stands in for it. */
function onPinnedNode(command: string[]): [string, string[]] {
  assert.equal(command[0], 'node', `${JSON.stringify(command)} runs the image's node`);
  return [PINNED_NODE, command.slice(1)];
}

async function exitCodeOf(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [program, args] = onPinnedNode(command);
  try {
    await run(program, args, { env, timeout: 3_000 });
    return 0;
  } catch (error) {
    return typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1;
  }
}

describe('the Dockerfile recipe, carried out without Docker, gives a working gateway', { timeout: 180_000 }, () => {
  let dir: string;
  let appDir: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let healthcheck: string[];
  let child: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let output = '';
  let client: OpenAI;
  let setupMs = 0;

  before(async () => {
    const started = Date.now();
    dir = await mkdtemp(join(tmpdir(), 'portico-production-install-'));
    const root = join(dir, 'image');
    const stages = parseDockerfile(await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
    const image = await buildStage(stages, stages.at(-1) as Stage, root, await dockerignore());
    appDir = join(root, image.workdir);
    dataDir = join(root, 'data');
    // Readable by RUN_AS, as the container's / is; /tmp is writable by everyone, as there.
    await chmod(dir, 0o755);
    await mkdir(join(root, 'tmp'), { mode: 0o1777 });
    await chmod(join(root, 'tmp'), 0o1777);
    await setDirectoriesWritable(appDir, false);
    setupMs = Date.now() - started;

    // The container's environment: the image's ENV with its paths inside this stage's root.
    const imageEnv = containerEnv(image.env, root);
    assert.equal(imageEnv.NODE_ENV, 'production');
    assert.equal(imageEnv.DATABASE_URL, `file:${join(dataDir, 'portico.db')}`);
    env = { PATH: process.env.PATH, TMPDIR: join(root, 'tmp'), ...imageEnv, HOST: '127.0.0.1', PORT: String(await freePort()) };
    healthcheck = image.healthcheck;

    const [program, args] = onPinnedNode([...image.entrypoint, ...image.cmd]);
    child = spawn(program, args, { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'], ...RUN_AS });
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));

    const config = parse(await readFile(join(appDir, image.cmd[image.cmd.indexOf('--config') + 1]), 'utf8')) as { general_settings: { master_key: string } };
    client = new OpenAI({ apiKey: config.general_settings.master_key, baseURL: `http://127.0.0.1:${env.PORT}/v1`, maxRetries: 0, timeout: 30_000 });
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    if (dir) {
      if (appDir) await setDirectoriesWritable(appDir, true).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the image holds the npm package: its built JavaScript, not the TypeScript sources', async () => {
    process.stderr.write(`# image built in ${setupMs} ms\n`);
    await access(join(appDir, 'dist', 'cli.js'));
    await access(join(appDir, 'bin', 'portico.js'));
    await assert.rejects(access(join(appDir, 'src')), { code: 'ENOENT' });
    await assert.rejects(access(join(appDir, 'tsconfig.json')), { code: 'ENOENT' });
  });

  test('npm ci left out the dev dependencies, `node` (which pins Node 24) among them', async () => {
    await access(join(appDir, 'node_modules', 'fastify', 'package.json'));
    await assert.rejects(access(join(appDir, 'node_modules', 'node')), { code: 'ENOENT' });
    await assert.rejects(access(join(appDir, 'node_modules', 'fast-check')), { code: 'ENOENT' });
  });

  test("the build warmed Node's compile cache where the image's NODE_COMPILE_CACHE points", async () => {
    const cacheDir = env.NODE_COMPILE_CACHE ?? '';
    assert.ok(cacheDir.startsWith(appDir), `NODE_COMPILE_CACHE=${cacheDir}`);
    const entries = await readdir(cacheDir, { recursive: true });
    assert.ok(entries.length > 50, `${entries.length} entries: every module the server imports is cached`);
  });

  test('the server becomes ready and the HEALTHCHECK command passes', async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.equal(child.exitCode, null, `Portico exited:\n${output}`);
      const status = await fetch(`http://127.0.0.1:${env.PORT}/health/readiness`).then((r) => r.status, () => 0);
      if (status === 200) break;
      assert.ok(Date.now() < deadline, `not ready after 30 s (last status ${status}):\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await exitCodeOf(healthcheck, env), 0, 'the HEALTHCHECK passes on a ready server');
    await access(join(dataDir, 'portico.db'));
  });

  test('a chat completion on the example config, through the openai SDK', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.ok((completion.choices[0].message.content ?? '').length > 0);
    assert.ok((completion.usage?.total_tokens ?? 0) > 0);
  });

  test('a batch: upload, create, retrieve until completed, download one output line per request', async () => {
    const customIds = ['request-1', 'request-2', 'request-3'];
    const jsonl = customIds
      .map((id) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Say ${id}` }] } }))
      .join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'requests.jsonl'), purpose: 'batch' });
    // The example config's ./data/files is the /data volume, through the image's /app/data link.
    assert.ok((await readdir(join(dataDir, 'files'))).length > 0, 'the upload is stored in the data volume');

    let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const deadline = Date.now() + 60_000;
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
      assert.ok(Date.now() < deadline, `batch still ${batch.status} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      batch = await client.batches.retrieve(batch.id);
    }
    assert.equal(batch.status, 'completed', JSON.stringify(batch.errors));
    assert.deepEqual(batch.request_counts, { total: 3, completed: 3, failed: 0 });
    assert.ok(batch.output_file_id);

    const lines = (await (await client.files.content(batch.output_file_id)).text()).split('\n').filter((line) => line.trim() !== '');
    const results = lines.map((line) => JSON.parse(line) as { custom_id: string; response: { status_code: number } | null });
    assert.deepEqual(results.map((result) => result.custom_id).sort(), customIds);
    for (const result of results) assert.equal(result.response?.status_code, 200);
  });

  test('SIGTERM stops it with exit code 0, and the HEALTHCHECK then fails', async () => {
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, 30_000, 'timeout')))]);
    clearTimeout(timer);
    assert.deepEqual(outcome, { code: 0, signal: null }, output);
    assert.notEqual(await exitCodeOf(healthcheck, env), 0, 'the HEALTHCHECK fails once the server is gone');
  });
});
