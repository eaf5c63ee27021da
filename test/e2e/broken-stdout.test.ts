/**
 * Portico whose stdout is a pipe nobody reads any more (a log shipper that crashed): it keeps
 * serving without spinning, counts the log lines it drops, and SIGTERM still stops it within the
 * grace period. A real `bin/portico.js` process, since stdout is the process's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { PINNED_NODE, REPO_ROOT } from '../scale-out/portico-process.ts';

const MASTER_KEY = 'sk-broken-stdout-master-0123456789';
const GRACE_MS = 3_000;
/** Clock ticks per second of /proc/PID/stat times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU time of a process so far, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

describe('a broken stdout', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-stdout-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** Portico with stdout a pipe to this process; the URL is read from its listening line. */
  async function spawnWithPipedStdout(name: string) {
    const configPath = join(dir, `${name}.yaml`);
    await writeFile(configPath, `model_list:\n  - {model_name: chat, litellm_params: {model: mock/chat}}\ngeneral_settings:\n  master_key: ${MASTER_KEY}\n`);
    const child = spawn(PINNED_NODE, ['bin/portico.js', '--config', configPath, '--port', '0', '--host', '127.0.0.1'], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', DATABASE_URL: `file:${join(dir, `${name}.db`)}`, PORTICO_SHUTDOWN_GRACE_MS: String(GRACE_MS), REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const url = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error(`Portico did not start:\n${buffered}${stderr}`)), 20_000);
      const onData = (text: string) => {
        buffered += text;
        const line = buffered.split('\n').find((candidate) => candidate.includes('"Portico is listening"'));
        if (line === undefined) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve((JSON.parse(line) as { url: string }).url);
      };
      child.stdout.setEncoding('utf8').on('data', onData);
    });
    const chat = () =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'still there?' }] }),
      });
    /** SIGTERM; asserts a clean exit within the grace period (plus start-up slack). */
    const stopsInTime = async () => {
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), GRACE_MS + 5_000)));
      const outcome = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      assert.notEqual(outcome, 'timed out', `no exit within the grace period:\n${stderr}`);
      assert.deepEqual(outcome, { code: 0, signal: null }, stderr);
      assert.ok(Date.now() - signalledAt < GRACE_MS + 2_000, `exit took ${Date.now() - signalledAt} ms`);
    };
    const kill = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    };
    return { child, url, chat, stopsInTime, kill };
  }

  it('whose reader is gone: Portico keeps serving at low CPU, counts the dropped log lines, and SIGTERM exits in time', async () => {
    const portico = await spawnWithPipedStdout('closed');
    try {
      // The log reader dies: every write to stdout from now on fails with EPIPE.
      portico.child.stdout.destroy();
      for (let i = 0; i < 20; i++) assert.equal((await portico.chat()).status, 200, `request ${i}`);
      await sleep(200);

      // Idle for a second: a process spinning on EPIPE would burn a whole core.
      const before = cpuSeconds(portico.child.pid!);
      await sleep(1_000);
      const used = cpuSeconds(portico.child.pid!) - before;
      assert.ok(used < 0.5, `${used.toFixed(2)} s of CPU in 1 s of idling`);
      assert.equal((await portico.chat()).status, 200, 'still serving');

      const metrics = await (await fetch(`${portico.url}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).text();
      const dropped = /^portico_log_lines_dropped_total (\d+)/m.exec(metrics);
      assert.ok(dropped, 'the metric is exposed');
      assert.ok(Number(dropped[1]) >= 20, `dropped ${dropped[1]} lines`);
      await portico.stopsInTime();
    } finally {
      await portico.kill();
    }
  });

  it('whose reader stalls with the pipe full: Portico keeps serving and SIGTERM exits in time', async () => {
    const portico = await spawnWithPipedStdout('stalled');
    try {
      // The reader still holds the pipe but never reads again: the pipe fills up.
      portico.child.stdout.pause();
      for (let i = 0; i < 1_500; i++) assert.equal((await portico.chat()).status, 200, `request ${i}`);
      await portico.stopsInTime();
    } finally {
      await portico.kill();
    }
  });
});
