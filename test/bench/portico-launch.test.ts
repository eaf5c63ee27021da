// Portico runs the same way however it is started: the shebang of bin/portico.js (the `portico`
// command), `npm start` and the Docker image pass the same node flags and memory settings, and
// every bench starts it with them (`porticoLaunch`), so that benches measure Portico as shipped.
// (bench:files started `node bin/portico.js`, which reads no shebang, and measured 243-255 MB
// peak RSS for what ships at 160-173 MB.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { porticoLaunch, repoRoot } from '../../bench/lib/processes.ts';

describe('how Portico is launched', () => {
  const launch = porticoLaunch();

  it('the shebang sets a small young generation, no Maglev, and glibc chunks that go back to the system when freed', () => {
    assert.deepEqual(launch.nodeArgs, ['--max-semi-space-size=4', '--no-maglev']);
    assert.deepEqual(launch.env, { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536' });
  });

  it('npm start passes the same flags and variables', () => {
    const start = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
    for (const [name, value] of Object.entries(launch.env)) assert.ok(start.includes(`${name}=${value} `), `npm start sets ${name}=${value}`);
    assert.ok(start.includes(`node ${launch.nodeArgs.join(' ')} bin/portico.js`), start);
  });

  it('the Docker image sets the same variables and flags', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    for (const [name, value] of Object.entries(launch.env)) assert.match(dockerfile, new RegExp(`^\\s*(ENV\\s+)?${name}=${value}\\b`, 'm'), `Dockerfile sets ${name}`);
    assert.match(dockerfile, new RegExp(`^ENTRYPOINT \\["node", ${launch.nodeArgs.map((a) => `"${a}"`).join(', ')}, "bin/portico.js"\\]`, 'm'));
  });
});
