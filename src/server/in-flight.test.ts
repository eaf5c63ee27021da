import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { InFlightResponses } from './in-flight.ts';

const response = (name: string) => ({ name }) as unknown as ServerResponse;

describe('the in-flight responses', () => {
  it('lists the responses added and not yet removed', () => {
    const inFlight = new InFlightResponses();
    const [a, b, c] = [response('a'), response('b'), response('c')];
    const entryA = inFlight.add(a);
    const entryB = inFlight.add(b);
    const entryC = inFlight.add(c);
    inFlight.remove(entryB);
    assert.deepEqual(new Set(inFlight), new Set([a, c]));
    inFlight.remove(entryA);
    inFlight.remove(entryC);
    assert.deepEqual([...inFlight], []);
    assert.equal(inFlight.size, 0);
  });

  it('a removed entry holds nothing any more, and removing it twice changes nothing', () => {
    const inFlight = new InFlightResponses();
    const kept = response('kept');
    const entry = inFlight.add(response('done'));
    inFlight.add(kept);
    inFlight.remove(entry);
    assert.deepEqual([entry.response, entry.previous, entry.next], [null, null, null]);
    inFlight.remove(entry);
    assert.deepEqual([...inFlight], [kept]);
    assert.equal(inFlight.size, 1);
  });
});
