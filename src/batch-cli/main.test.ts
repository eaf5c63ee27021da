import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { EXIT } from './exit-codes.ts';
import { BATCH_HELP, OPTIONS } from './main.ts';

test('every exit code is documented in --help and in the README table, and every option in --help', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### The batch CLI'), readme.indexOf('## Performance'));
  for (const code of Object.values(EXIT)) {
    assert.match(BATCH_HELP, new RegExp(`^  ${code} `, 'm'), `exit code ${code} in --help`);
    assert.match(section, new RegExp(`^\\| ${code} \\|`, 'm'), `exit code ${code} in the README`);
  }
  for (const name of Object.keys(OPTIONS)) assert.ok(BATCH_HELP.includes(`--${name}`), `--${name} in --help`);
});
