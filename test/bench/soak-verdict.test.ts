// The soak's pass/fail rules (bench/lib/soak-verdict.ts): the soak itself is not part of
// `npm test`, only the rules it judges a run by.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchLineFindings, classifyAnswer, soakVerdict, type SoakVerdictInput } from '../../bench/lib/soak-verdict.ts';

const MB = 1024 * 1024;

function run(overrides: Partial<SoakVerdictInput> = {}): SoakVerdictInput {
  return {
    samples: Array.from({ length: 12 }, (_, i) => ({ atS: (i + 1) * 5, rssBytes: 200 * MB, fds: 40 })),
    warmupS: 12,
    idleFdsBefore: 30,
    idleFdsAfter: 32,
    batches: { lost: [], duplicated: [], runTwice: [] },
    unfinishedBatches: 0,
    porticoErrors: 0,
    cutUploads: { registered: 0, tempFiles: 0 },
    ...overrides,
  };
}

describe('soak verdict', () => {
  it('tells an upstream failure relayed from a 5xx Portico caused', () => {
    assert.equal(classifyAnswer('upstream', 200, {}), 'ok');
    assert.equal(classifyAnswer('upstream', 500, { error: { message: 'The server had an error (injected by the soak).' } }), 'upstream');
    assert.equal(classifyAnswer('upstream', 502, { error: { message: 'upstream connection reset' } }), 'upstream');
    assert.equal(classifyAnswer('upstream', 429, { error: { message: 'Rate limit reached' } }), 'upstream');
    assert.equal(classifyAnswer('upstream', 500, { error: { message: 'The server had an error while processing your request. (request id x)' } }), 'portico_5xx');
    assert.equal(classifyAnswer('local', 503, { error: { message: 'The database is not reachable' } }), 'portico_5xx');
    assert.equal(classifyAnswer('local', 400, { error: { message: 'bad' } }), 'unexpected_4xx');
  });

  it('finds lines lost, written twice, or run twice upstream', () => {
    const findings = batchLineFindings(['a', 'b', 'c', 'd'], ['a', 'b', 'b', 'd'], { a: 1, b: 1, d: 2 });
    assert.deepEqual(findings, { lost: ['c'], duplicated: ['b'], runTwice: ['d'] });
    assert.deepEqual(batchLineFindings(['x'], ['x']), { lost: [], duplicated: [], runTwice: [] });
  });

  it('passes a flat run and fails each kind of defect', () => {
    assert.equal(soakVerdict(run()).pass, true);
    // Four minutes, a sample every 15 s, the first minute warm-up.
    const minutes = (rss: (i: number) => number) => run({ warmupS: 60, samples: Array.from({ length: 16 }, (_, i) => ({ atS: (i + 1) * 15, rssBytes: rss(i) * MB, fds: 40 })) });
    const rssCheck = (input: SoakVerdictInput) => soakVerdict(input).checks.find((c) => c.name === 'RSS flat after warm-up');
    assert.equal(rssCheck(minutes((i) => 200 + 10 * i))?.pass, false, 'a rising floor is a leak');
    assert.equal(soakVerdict(minutes((i) => 200 + 10 * i)).pass, false);
    assert.equal(rssCheck(minutes((i) => (i < 3 ? 120 : 200)))?.pass, true, 'growth during warm-up does not count');
    assert.equal(rssCheck(minutes((i) => (i % 4 === 3 ? 180 : 220 + 20 * (i % 4))))?.pass, true, 'a saw-tooth between collections is not a leak');
    const heapLeak = run({ warmupS: 60, samples: Array.from({ length: 16 }, (_, i) => ({ atS: (i + 1) * 15, rssBytes: 300 * MB, heapBytes: (40 + 8 * i) * MB, fds: 40 })) });
    assert.equal(soakVerdict(heapLeak).checks.find((c) => c.name === 'V8 heap flat after warm-up')?.pass, false, 'a rising heap floor is a leak, whatever RSS does');
    const short = rssCheck(run({ samples: Array.from({ length: 12 }, (_, i) => ({ atS: (i + 1) * 5, rssBytes: (200 + 30 * i) * MB, fds: 40 })) }));
    assert.deepEqual([short?.pass, short?.judged], [true, false], 'a minute is too short to judge RSS');
    const leakingFds = run({ samples: Array.from({ length: 12 }, (_, i) => ({ atS: (i + 1) * 5, rssBytes: 200 * MB, fds: 40 + 5 * i })) });
    assert.equal(soakVerdict(leakingFds).pass, false);
    assert.equal(soakVerdict(run({ idleFdsAfter: 60 })).pass, false);
    assert.equal(soakVerdict(run({ batches: { lost: ['a'], duplicated: [], runTwice: [] } })).pass, false);
    assert.equal(soakVerdict(run({ batches: { lost: [], duplicated: [], runTwice: ['a'] } })).pass, false);
    assert.equal(soakVerdict(run({ unfinishedBatches: 1 })).pass, false);
    assert.equal(soakVerdict(run({ porticoErrors: 1 })).pass, false);
    assert.equal(soakVerdict(run({ cutUploads: { registered: 0, tempFiles: 1 } })).pass, false);
    assert.equal(soakVerdict(run({ warmupS: 600 })).pass, false, 'no sample after warm-up is no verdict');
  });
});
