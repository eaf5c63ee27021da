/**
 * The Dockerfile and docker-compose.yml, checked without Docker (it cannot run here): the compose
 * file parses, both Portico services share PostgreSQL and Redis and nothing else (file bytes are
 * kept in the database); the config it carries is one Portico accepts; and the image
 * holds everything the server imports at run time, installed with `npm ci --omit=dev`.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load-config.ts';
import { DEFAULT_SHUTDOWN_GRACE_MS } from '../../src/server/start.ts';
import { REPO_ROOT } from './portico-process.ts';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  configs?: Array<{ source: string; target: string }>;
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  healthcheck?: unknown;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  configs: Record<string, { content: string }>;
}

async function compose(): Promise<ComposeFile> {
  return parse(await readFile(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
}

function seconds(duration: string): number {
  const match = /^(\d+)(s|m)$/.exec(duration);
  assert.ok(match, `duration ${duration}`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

/** Bare package names imported by the files reachable from `entry` through relative imports. */
async function runtimePackages(entry: string): Promise<Set<string>> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)(?:\s+type)?[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const specifier = match[1] ?? match[2];
      if (/^(?:import|export)\s+type\b/.test(match[0].trim())) continue;
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
        packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
      }
    }
  }
  return packages;
}

describe('docker files', () => {
  test('the compose file runs two Portico instances on one PostgreSQL and one Redis, sharing nothing else', async () => {
    const file = await compose();
    const porticos = Object.entries(file.services).filter(([, service]) => service.command?.includes('--config'));
    assert.equal(porticos.length, 2);
    const [[, first], [, second]] = porticos;
    for (const [name, service] of porticos) {
      assert.match(service.environment?.DATABASE_URL ?? '', /^postgres(ql)?:\/\/[^@]+@postgres:5432\//, `${name} uses the postgres service`);
      assert.match(service.environment?.REDIS_URL ?? '', /^redis:\/\/redis:6379/, `${name} uses the redis service`);
      assert.deepEqual(service.depends_on, { postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      assert.ok(seconds(service.stop_grace_period ?? '10s') * 1000 > Number(service.environment?.PORTICO_SHUTDOWN_GRACE_MS ?? DEFAULT_SHUTDOWN_GRACE_MS), `${name} gets time to drain before SIGKILL`);
    }
    assert.deepEqual(first.volumes, second.volumes, 'both mount the same volumes');
    assert.deepEqual(first.configs, second.configs, 'both read the same config');
    const hostPorts = porticos.map(([, service]) => service.ports?.[0]?.split(':')[0]);
    assert.equal(new Set(hostPorts).size, 2, `distinct host ports: ${hostPorts.join(', ')}`);
    assert.ok(file.services.postgres && file.services.redis);
    assert.ok(file.services.postgres.healthcheck && file.services.redis.healthcheck);

    // Nothing shared but PostgreSQL and Redis: file bytes live in the database, no volume is mounted.
    assert.deepEqual(first.volumes ?? [], [], 'the instances mount no shared volume');
    const configRef = first.configs?.[0];
    assert.ok(configRef);
    assert.ok(first.command?.includes(configRef.target), 'the instance is started with the mounted config');
    const config = parseConfig(file.configs[configRef.source].content, { PORTICO_MASTER_KEY: 'sk-test' });
    assert.equal(config.files.blobStore, 'database');
    assert.equal(config.masterKey, 'sk-test');
    assert.ok(config.deployments.length > 0);
  });

  test('the image is node:24-slim, runs as a non-root user, and carries the sources the server needs', async () => {
    const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const instructions = dockerfile
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
      .join('\n')
      .replace(/\\\n/g, ' ');
    const froms = [...instructions.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(froms, ['node:24-slim', 'node:24-slim', 'node:24-slim']);
    const users = [...instructions.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(users.length > 0 && users.at(-1) !== 'root' && users.at(-1) !== '0', `runs as ${users.at(-1)}`);
    assert.match(instructions, /npm ci --omit=dev/);
    for (const copied of ['bin', 'src', 'package.json', 'package-lock.json']) assert.match(instructions, new RegExp(`^COPY .*\\b${copied.replace('.', '\\.')}\\b`, 'm'), `COPY ${copied}`);
    assert.match(instructions, /^ENTRYPOINT \["node",( "--[^"]+",)* "bin\/portico\.js"\]/m, 'the base image\'s node runs bin/portico.js');
    assert.match(instructions, /&& npm pack\b/, 'the image is built from the npm package');

    // The package stage builds with the TypeScript the lock file pins (the build differs between versions).
    const lock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    const pinned = /\btypescript@(\S+)/.exec(instructions)?.[1];
    assert.equal(pinned, lock.packages['node_modules/typescript'].version, 'the Dockerfile installs typescript@<the locked version>');

    // .dockerignore must not leave out what the image copies.
    const ignored = (await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const needed of ['src', 'bin', 'package.json', 'package-lock.json', 'config.example.yaml']) assert.ok(!ignored.includes(needed), `${needed} is not ignored`);
  });

  test('every package the server imports at run time is a production dependency (the image omits dev ones)', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const imported = await runtimePackages(join(REPO_ROOT, 'src/cli.ts'));
    assert.ok(imported.has('fastify') && imported.has('ioredis'), `found ${[...imported].join(', ')}`);
    const missing = [...imported].filter((name) => !(name in pkg.dependencies));
    assert.deepEqual(missing, [], 'imported at run time but not in dependencies');
  });
});
