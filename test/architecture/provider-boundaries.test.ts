/**
 * "A new provider needs no change outside its folder, the registry and the catalogue" (issue 11),
 * kept by a test. What it catches, each with the kind of line that fails it:
 *
 * - shared code naming a provider: `if (deployment.providerName === 'anthropic')`,
 *   `case 'bedrock':`, `providerFor('gemini')`, a `Set(['vertex_ai', ...])` of special cases.
 *   Any string literal equal to a registered provider prefix in shared code (everything under
 *   src/ but the provider folders, `providers/registry.ts` and `config/model-catalogue-data.ts`)
 *   fails, in a condition or not: shared code has no reason to spell a provider's name.
 * - shared code importing a provider folder: `import { ... } from '../providers/anthropic/...'`
 *   (routing, managed, server, jobs, config, spec, storage, ...; `providers/http/` is shared).
 * - a provider reading the untyped parameter bag, `deployment.params.vertex_project`, instead of
 *   its typed settings (`Provider.settings`, handed to `createClient`).
 *
 * The detectors are run on such lines first (`the detectors catch ...`): a check that cannot
 * fail would prove nothing.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { knownProviderNames } from '../../src/providers/registry.ts';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
/** Where a provider's name may be written outside its folder. */
const MAY_NAME_PROVIDERS = new Set(['providers/registry.ts', 'config/model-catalogue-data.ts']);
/** Folders under providers/ shared by every provider (not a provider). */
const SHARED_PROVIDER_FOLDERS = new Set(['http', 'batching', 'testing']);

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [join(dir, entry.name)] : [])),
  );
  return files.flat();
}

/** The provider folder a path (relative to src/) is in, if any. */
function providerFolderOf(path: string): string | undefined {
  const match = /^providers\/([^/]+)\//.exec(path);
  return match && !SHARED_PROVIDER_FOLDERS.has(match[1]!) ? match[1] : undefined;
}

/** The code without its comments (strings kept: that is what is looked at). */
function withoutComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const two = text.slice(i, i + 2);
    if (two === '//') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (two === '/*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (text[i] === "'" || text[i] === '"' || text[i] === '`') {
      const quote = text[i]!;
      let j = i + 1;
      while (j < text.length && text[j] !== quote) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}

/** String literals of the code that are exactly a provider's name (module specifiers aside: `from 'openai'` is a package). */
export function providerNamesWritten(code: string, providerNames: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const withoutSpecifiers = withoutComments(code).replace(/\bfrom\s+(['"])[^'"]*\1/g, 'from ""').replace(/\bimport\s*\(\s*(['"])[^'"]*\1\s*\)/g, 'import("")');
  for (const match of withoutSpecifiers.matchAll(/(['"`])((?:\\.|(?!\1).)*)\1/g)) {
    if (providerNames.has(match[2]!)) found.push(match[2]!);
  }
  return found;
}

/** Relative imports of the code that land in a provider folder. */
export function providerFoldersImported(code: string, fromFile: string): string[] {
  const specifiers = [...code.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((match) => match[1]!);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(SRC, resolve(dirname(join(SRC, fromFile)), specifier)))
    .filter((target) => providerFolderOf(target) !== undefined);
}

/** Reads of the untyped parameter bag: `deployment.params...`, `.params.x`, `.params[...]`. */
export function parameterBagReads(code: string): string[] {
  return [...withoutComments(code).matchAll(/\b\w+\.params(?:\.\w+|\[[^\]]*\])/g)].map((match) => match[0]);
}

describe('provider boundaries', () => {
  const providerNames = new Set(knownProviderNames());

  it('the detectors catch a provider named in shared code, a provider folder imported, the parameter bag read', () => {
    assert.deepEqual(providerNamesWritten("if (deployment.providerName === 'anthropic') return inline;", providerNames), ['anthropic']);
    assert.deepEqual(providerNamesWritten('switch (name) {\n  case "vertex_ai":\n', providerNames), ['vertex_ai']);
    assert.deepEqual(providerNamesWritten("// 'gemini' in a comment is prose\nconst x = 'gemini-2.5-flash';\nimport OpenAI from 'openai';", providerNames), []);
    assert.deepEqual(providerFoldersImported("import { createVertexBatches } from '../../providers/vertex_ai/batches.ts';", 'managed/batches/x.ts'), ['providers/vertex_ai/batches.ts']);
    assert.deepEqual(providerFoldersImported("import { sendHttpRequest } from '../providers/http/request.ts';", 'routing/x.ts'), []);
    assert.deepEqual(parameterBagReads('const project = deployment.params.vertex_project;'), ['deployment.params.vertex_project']);
    assert.deepEqual(parameterBagReads("const region = d.params['aws_region_name'];"), ["d.params['aws_region_name']"]);
  });

  it('shared code names no provider and imports no provider folder', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      const path = relative(SRC, file);
      if (providerFolderOf(path) !== undefined || MAY_NAME_PROVIDERS.has(path)) continue;
      const code = await readFile(file, 'utf8');
      for (const name of providerNamesWritten(code, providerNames)) offenders.push(`${path} names '${name}'`);
      for (const target of providerFoldersImported(code, path)) offenders.push(`${path} imports ${target}`);
    }
    assert.deepEqual(offenders, []);
  });

  it('providers read their typed settings, never the untyped litellm_params bag', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(join(SRC, 'providers'))) {
      const path = relative(SRC, file);
      if (providerFolderOf(path) === undefined) continue;
      for (const read of parameterBagReads(await readFile(file, 'utf8'))) offenders.push(`${path}: ${read}`);
    }
    assert.deepEqual(offenders, []);
  });
});
