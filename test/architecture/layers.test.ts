/**
 * The layering rule of STYLE.md, kept by a test rather than by memory: core code (routing,
 * managed objects, server, jobs, coordination, storage) never imports a specific provider; it
 * sees providers through `src/spec/` and `src/providers/registry.ts` only (plus the shared
 * provider utilities in `src/providers/http/`, a layer below every provider). Storage depends on
 * nothing above it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const CORE = ['routing', 'managed', 'server', 'jobs', 'coordination', 'storage', 'auth', 'observability', 'webhooks', 'spend'];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [join(dir, entry.name)] : [])),
  );
  return files.flat();
}

async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(dirname(file), s)));
}

test('core code reaches providers only through the registry and the spec', async () => {
  const offenders: string[] = [];
  for (const layer of CORE) {
    for (const file of await sourceFiles(join(SRC, layer))) {
      for (const target of await importsOf(file)) {
        if (target.startsWith('providers/') && target !== 'providers/registry.ts' && !target.startsWith('providers/http/')) offenders.push(`${relative(SRC, file)} -> ${target}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

test('storage and spec depend on nothing above them', async () => {
  const offenders: string[] = [];
  for (const [layer, allowed] of [
    ['spec', ['spec/']],
    ['storage', ['storage/', 'spec/']],
  ] as const) {
    for (const file of await sourceFiles(join(SRC, layer))) {
      for (const target of await importsOf(file)) {
        if (!allowed.some((prefix) => target.startsWith(prefix))) offenders.push(`${relative(SRC, file)} -> ${target}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

test('the batch CLI is a client of the public API, and the gateway never loads it nor its SDK', async () => {
  // bin/portico.js imports batch-cli/ only for `portico batch`; a gateway module importing it or
  // the `openai` SDK would add them to every gateway start. The CLI, in turn, works against any
  // OpenAI-compatible endpoint, so it reaches Portico only over HTTP, never through its modules.
  const offenders: string[] = [];
  for (const file of await sourceFiles(SRC)) {
    const inCli = relative(SRC, file).startsWith('batch-cli/');
    const text = await readFile(file, 'utf8');
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)].map((m) => m[1] ?? m[2]);
    for (const specifier of specifiers) {
      const target = specifier.startsWith('.') ? relative(SRC, resolve(dirname(file), specifier)) : specifier;
      const toCli = target.startsWith('batch-cli/');
      const toSdk = target === 'openai' || target.startsWith('openai/');
      const toGateway = specifier.startsWith('.') && !toCli;
      if (inCli ? toGateway : toCli || toSdk) offenders.push(`${relative(SRC, file)} -> ${specifier}`);
    }
  }
  assert.deepEqual(offenders, []);
});
