/**
 * The web console's static files, read once at start into memory (a few tens of KB): the
 * repository's `ui/` folder (its HTML, JavaScript modules and CSS, served as they are: no build
 * step), and from `node_modules` exactly three ES modules by a fixed allowlist: preact, its hooks,
 * and htm. Nothing is looked up on disk by a request's path, so no path can reach another file.
 *
 * `ui/` sits three levels above this module both in the repository (`src/server/`) and in the
 * installed package (`dist/server/`), which ships `ui/` beside `dist/`.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ConsoleAsset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

export interface ConsoleAssets {
  readonly index: ConsoleAsset;
  /** By path under `ui/` (`app.js`, `pages/batches.js`). */
  readonly files: ReadonlyMap<string, ConsoleAsset>;
  /** By the name the import map gives them (`preact.js`, `preact-hooks.js`, `htm.js`). */
  readonly vendor: ReadonlyMap<string, ConsoleAsset>;
  /** The Content-Security-Policy of the console's pages (the inline import map allowed by its hash). */
  readonly contentSecurityPolicy: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Served name -> module specifier, resolved as Node resolves an import (the packages' `exports`). */
const VENDOR_MODULES: Readonly<Record<string, string>> = {
  'preact.js': 'preact',
  'preact-hooks.js': 'preact/hooks',
  'htm.js': 'htm',
};

export const CONSOLE_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

export async function loadConsoleAssets(dir: string = CONSOLE_DIR): Promise<ConsoleAssets> {
  const files = new Map<string, ConsoleAsset>();
  for (const path of await filesUnder(dir)) {
    const type = CONTENT_TYPES[extname(path)];
    // Tests and notes beside the sources are not served.
    if (type === undefined || path.endsWith('.test.js')) continue;
    files.set(relative(dir, path).split(sep).join('/'), asset(await readFile(path), type));
  }
  const index = files.get('index.html');
  if (index === undefined) throw new Error(`the web console's index.html is missing from ${dir}`);
  files.delete('index.html');
  const vendor = new Map<string, ConsoleAsset>();
  for (const [name, specifier] of Object.entries(VENDOR_MODULES)) {
    const source = await readFile(fileURLToPath(import.meta.resolve(specifier)), 'utf8');
    // Their source maps are not served: the line would only cost the browser a 404.
    vendor.set(name, asset(Buffer.from(source.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')), CONTENT_TYPES['.js']));
  }
  return { index, files, vendor, contentSecurityPolicy: contentSecurityPolicyFor(index.body.toString('utf8')) };
}

function contentSecurityPolicyFor(html: string): string {
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html);
  const scriptSources = ["'self'", ...(importMap ? [`'sha256-${createHash('sha256').update(importMap[1]).digest('base64')}'`] : [])];
  return [
    "default-src 'self'",
    `script-src ${scriptSources.join(' ')}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function asset(body: Buffer, contentType: string): ConsoleAsset {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : [])));
  return nested.flat();
}
