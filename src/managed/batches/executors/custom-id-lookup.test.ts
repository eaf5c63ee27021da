import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchInputLine } from '../../../spec/openai-objects.ts';
import { CustomIdLookup } from './custom-id-lookup.ts';

const COUNT = 100;

function source(): { open: () => AsyncIterable<BatchInputLine>; opened: () => number } {
  let opened = 0;
  return {
    open: () => {
      opened += 1;
      return (async function* () {
        for (let i = 0; i < COUNT; i += 1) yield { custom_id: `id-${i}`, method: 'POST', url: '/v1/chat/completions', body: {} } as BatchInputLine;
      })();
    },
    opened: () => opened,
  };
}

test('in-order lookups read the input once and hold nothing', async () => {
  const input = source();
  const lookup = new CustomIdLookup(input.open, 4);
  for (let i = 0; i < COUNT; i += 1) {
    assert.equal(await lookup.idOf(i), `id-${i}`);
    assert.equal(lookup.held, 0);
  }
  assert.equal(await lookup.idOf(COUNT), undefined);
  assert.equal(await lookup.idOf(-1), undefined);
  assert.equal(input.opened(), 1);
  await lookup.close();
});

test('out-of-order lookups are answered right, holding at most the window', async () => {
  const input = source();
  const lookup = new CustomIdLookup(input.open, 4);
  const order = Array.from({ length: COUNT }, (_, i) => COUNT - 1 - i);
  for (const i of order) {
    assert.equal(await lookup.idOf(i), `id-${i}`);
    assert.ok(lookup.held <= 4, `${lookup.held} ids held`);
  }
  await lookup.close();
  // Neighbours swapped stay within the window: one pass.
  const near = source();
  const swapped = new CustomIdLookup(near.open, 4);
  for (let i = 0; i + 1 < COUNT; i += 2) {
    assert.equal(await swapped.idOf(i + 1), `id-${i + 1}`);
    assert.equal(await swapped.idOf(i), `id-${i}`);
  }
  assert.equal(near.opened(), 1);
  await swapped.close();
});
