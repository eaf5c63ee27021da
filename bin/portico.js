#!/usr/bin/env node
// The `portico` command. Portico's sources are TypeScript that Node 24 runs directly (type
// stripping), so this file only checks the Node version, then hands over to src/cli.ts.
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
const { main } = await import('../src/cli.ts');
await main(process.argv.slice(2));
