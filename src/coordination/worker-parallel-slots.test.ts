/**
 * The primary's bookkeeping of `max_parallel_requests` for workers without Redis (issues 12, 14):
 * one count for every worker, each lease remembered with the worker that holds it, so a worker
 * that exits with slots held gives them back instead of holding its subjects' limits for ever.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerParallelSlots } from './worker-parallel-slots.ts';

const key = (limit: number) => ({ key: 'key:k1', limit });
const team = (limit: number) => ({ key: 'team:t1', limit });

describe('parallel-request slots held by the primary, by worker', () => {
  it("a key's limit of 2 is counted once for every worker: the third lease is refused whichever worker asks", () => {
    const slots = new WorkerParallelSlots();
    assert.equal(slots.enter(1, [key(2)], 'a'), -1);
    assert.equal(slots.enter(2, [key(2)], 'b'), -1);
    assert.equal(slots.enter(1, [key(2)], 'c'), 0);
    assert.equal(slots.enter(2, [key(2)], 'd'), 0);
    assert.equal(slots.inFlight('key:k1'), 2);
    slots.leave(2, 'b');
    assert.equal(slots.enter(1, [key(2)], 'e'), -1, 'a slot given back through one worker is free for the other');
    assert.equal(slots.heldBy(1), 2);
    assert.equal(slots.heldBy(2), 0);
  });

  it('a lease refused on one counter takes none of the others; the index names the full one', () => {
    const slots = new WorkerParallelSlots();
    assert.equal(slots.enter(1, [key(5), team(1)], 'a'), -1);
    assert.equal(slots.enter(2, [{ key: 'key:k2', limit: 5 }, team(1)], 'b'), 1);
    assert.equal(slots.inFlight('key:k2'), 0);
    assert.equal(slots.heldBy(2), 0);
    slots.leave(2, 'b');
    assert.equal(slots.inFlight('team:t1'), 1, "leaving a refused lease frees nobody's slot");
  });

  it("a worker cannot give back another worker's lease, and leaving twice frees once", () => {
    const slots = new WorkerParallelSlots();
    slots.enter(1, [key(2)], 'a');
    slots.enter(1, [key(2)], 'b');
    slots.leave(2, 'a');
    assert.equal(slots.inFlight('key:k1'), 2);
    slots.leave(1, 'a');
    slots.leave(1, 'a');
    assert.equal(slots.inFlight('key:k1'), 1);
    assert.equal(slots.heldBy(1), 1);
  });

  it('a worker that exits with slots held gives them all back; the other workers keep theirs', () => {
    const slots = new WorkerParallelSlots();
    assert.equal(slots.enter(1, [key(3), team(3)], 'a'), -1);
    assert.equal(slots.enter(1, [key(3), team(3)], 'b'), -1);
    assert.equal(slots.enter(2, [key(3), team(3)], 'c'), -1);
    assert.equal(slots.enter(2, [team(3)], 'd'), 0, 'the team is full');
    slots.workerGone(1);
    assert.equal(slots.heldBy(1), 0);
    assert.equal(slots.inFlight('key:k1'), 1, "worker 2's request still holds its slot");
    assert.equal(slots.inFlight('team:t1'), 1);
    assert.equal(slots.enter(2, [key(3), team(3)], 'e'), -1);
    assert.equal(slots.enter(3, [key(3), team(3)], 'f'), -1, 'a replacement worker takes the freed slots');
    assert.equal(slots.inFlight('team:t1'), 3);
  });

  it('a message read after its worker was reported gone takes no slot', () => {
    const slots = new WorkerParallelSlots();
    slots.workerGone(4);
    assert.equal(slots.enter(4, [key(2)], 'late'), 0);
    assert.equal(slots.inFlight('key:k1'), 0);
    assert.equal(slots.heldBy(4), 0);
    assert.equal(slots.enter(4, [], 'none'), -1, 'no counter: nothing to refuse');
  });
});
