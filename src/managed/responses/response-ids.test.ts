import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseIds, ownerTagOf } from './response-ids.ts';

const ref = { deploymentId: 'gpt-4o-east-1', upstreamId: 'resp_68af0c3b1e4c81958f1ac6a1b6a7e9c40d6e3ab1d2c3f4e5' };
const alice = ownerTagOf('team:alice');
const bob = ownerTagOf('team:bob');

describe('response ids', () => {
  it("seal and open: the owner's id names the deployment and the upstream's id; the same response always has the same id", () => {
    const ids = new ResponseIds('sk-master');
    const id = ids.seal(ref, alice);
    assert.match(id, /^resp_[A-Za-z0-9_-]+$/);
    assert.ok(id.length <= 105, `${id.length} characters`);
    assert.equal(ids.seal(ref, alice), id, 'one response, one id (its stream events carry it several times)');
    assert.notEqual(ids.seal(ref, bob), id);
    assert.notEqual(ids.seal({ ...ref, deploymentId: 'gpt-4o-west' }, alice), id);
    const opened = ids.open(id, alice, false);
    assert.deepEqual([opened?.deploymentId, opened?.upstreamId], [ref.deploymentId, ref.upstreamId]);
    assert.ok(opened?.owner.equals(alice));
    assert.equal(id.includes(ref.deploymentId) || id.includes(ref.upstreamId.slice(5)), false, 'opaque');
  });

  it("another owner's id is unknown, except to the master key, which learns whose it is", () => {
    const ids = new ResponseIds('sk-master');
    const id = ids.seal(ref, alice);
    assert.equal(ids.open(id, bob, false), undefined);
    assert.ok(ids.open(id, bob, true)?.owner.equals(alice));
  });

  it('upstream ids that are not hex are kept as text', () => {
    const ids = new ResponseIds(undefined);
    for (const upstreamId of ['resp_ABC-123', 'chatcmpl-xyz', 'resp_', 'résumé', 'resp_abc']) {
      assert.equal(ids.open(ids.seal({ deploymentId: 'd', upstreamId }, alice), alice, false)?.upstreamId, upstreamId);
    }
  });

  it('an edited, truncated, made-up or raw id, or one sealed under another secret, opens to nothing', () => {
    const ids = new ResponseIds('sk-master');
    const id = ids.seal(ref, alice);
    for (let at = 5; at < id.length; at += 7) {
      const edited = id.slice(0, at) + (id[at] === 'A' ? 'B' : 'A') + id.slice(at + 1);
      assert.equal(ids.open(edited, alice, true), undefined, `a change at ${at}`);
    }
    for (const other of [id.slice(0, -4), 'resp_', 'resp_x', ref.upstreamId, 'file-abc', `resp_${'A'.repeat(2000)}`, '']) assert.equal(ids.open(other, alice, true), undefined, other);
    assert.equal(new ResponseIds('sk-rotated').open(id, alice, true), undefined);
    assert.equal(new ResponseIds(undefined).open(id, alice, true), undefined);
  });

  it('a deployment id longer than 255 bytes cannot be sealed', () => {
    assert.throws(() => new ResponseIds('k').seal({ deploymentId: 'd'.repeat(256), upstreamId: 'resp_00' }, alice), /longer than 255 bytes/);
  });
});
