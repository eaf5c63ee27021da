import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMasterKeyMatcher } from './master-key.ts';

describe('the master key check', () => {
  const matches = createMasterKeyMatcher('sk-portico-master-0123');

  it('accepts exactly the master key', () => {
    assert.equal(matches('sk-portico-master-0123'), true);
  });

  it('refuses prefixes, extensions, zero padding and other keys', () => {
    for (const presented of ['', 'sk-portico-master-012', 'sk-portico-master-01234', 'sk-portico-master-0123\u0000', 'SK-portico-master-0123', 'x'.repeat(5_000)]) {
      assert.equal(matches(presented), false, JSON.stringify(presented.slice(0, 30)));
    }
  });

  it('compares multi-byte keys by their bytes', () => {
    const unicode = createMasterKeyMatcher('ключ-мастер-é');
    assert.equal(unicode('ключ-мастер-é'), true);
    assert.equal(unicode('ключ-мастер-e'), false);
    assert.equal(unicode('é'.repeat(400)), false, 'more bytes than the compared size');
  });

  it('handles a master key longer than the usual compared size', () => {
    const long = `${'k'.repeat(700)}é`;
    const matchesLong = createMasterKeyMatcher(long);
    assert.equal(matchesLong(long), true);
    assert.equal(matchesLong(long.slice(0, -1)), false);
    assert.equal(matchesLong(`${long}x`), false);
  });

  it('refuses to build a check for an empty or blank master key (it would open the gateway)', () => {
    for (const blank of ['', ' ', '\t\n']) {
      assert.throws(() => createMasterKeyMatcher(blank), /master key must not be empty/);
    }
  });
});
