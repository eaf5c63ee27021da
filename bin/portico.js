#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536 node --max-semi-space-size=4 --no-maglev
// The `portico` command. Portico's sources are TypeScript that Node 24 runs directly (type
// stripping), so this file only checks the Node version, then hands over to src/cli.ts.
// --max-semi-space-size=4 (MiB): V8 otherwise grows its young generation to 16 MiB x 3 and lets
// already-streamed file chunks pile up before collecting them; with 4 the gateway's peak RSS while
// streaming 200 MB files stays under 200 MB (bench/files.bench.ts: 251 MB without, 168 MB with).
// MALLOC_MMAP_THRESHOLD_=65536, MALLOC_ARENA_MAX=2 (glibc; ignored elsewhere): every streamed
// chunk of 64 KiB or more (file reads, rewritten chunks) is its own mapping, given back to the
// system when freed. By default glibc raises that threshold after the first such chunk is freed,
// and chunks then come from its heap, which keeps what was freed: RSS grew with how many chunks
// had been alive at once, so with how fast bytes arrived (bench:files: 209-215 MB -> 160-173 MB).
// --no-maglev: V8's mid-tier compiler (Maglev) costs more CPU than it saves on the request path,
// whose functions reach the top tier quickly under load (npm run bench, Portico/bare proxy CPU
// per request: 2.18-2.31x with it, 1.59-1.72x without; issue 14).
// `npm start` and the Dockerfile pass the same flags and variables.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `portico: Node.js 24 or newer is required, but this is Node ${process.versions.node}.\n` +
      'The repository pins Node 24 as a devDependency (the "node" package): run Portico through\n' +
      '  npm start            (uses config.example.yaml)\n' +
      '  npx portico --config FILE\n' +
      '  ./node_modules/.bin/node bin/portico.js --config FILE\n' +
      'so that the pinned Node 24 runs it.\n',
  );
  process.exit(1);
}
// Node strips the types of every source file with a WebAssembly compiler (amaro) that, once
// loaded, stays in memory (about 25 MB of RSS). The compile cache keeps the stripped and compiled
// result on disk (NODE_COMPILE_CACHE, else the OS temp dir), so later starts neither load the
// stripper nor parse the sources again.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// In the repository the TypeScript sources run directly; an installed package has no src/ but
// their JavaScript build in dist/ (`npm run build`, run by `npm pack`): Node does not strip
// types of files under node_modules.
const { existsSync } = await import('node:fs');
const fromSources = existsSync(new URL('../src/cli.ts', import.meta.url));
const entry = (name) => (fromSources ? `../src/${name}.ts` : `../dist/${name}.js`);
// `portico batch ...` is the batch CLI (batch-cli/), loaded only for that subcommand.
const args = process.argv.slice(2);
if (args[0] === 'batch') {
  const { main } = await import(entry('batch-cli/main'));
  await main(args.slice(1));
} else {
  const { main } = await import(entry('cli'));
  await main(args);
}
