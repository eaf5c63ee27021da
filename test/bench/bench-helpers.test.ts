// Pure helpers of the benchmark suite (bench/lib). No timing assertions: the bench itself is
// not part of `npm test`, only the parsing and arithmetic it relies on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCpuTicks, readCpuSeconds } from '../../bench/lib/cpu.ts';
import { concurrencyRows, type OperationResult } from '../../bench/lib/files-report.ts';
import { deriveComparisons, type TargetResults } from '../../bench/lib/proxy-report.ts';
import { median, percentile, summarizeLatencies } from '../../bench/lib/stats.ts';
import { fmtDeltaMs, fmtMB, formatTable } from '../../bench/lib/table.ts';
import { parseWrkDuration, parseWrkOutput, wrkLuaScript } from '../../bench/lib/wrk.ts';

const wrkTextReport = `Running 10s test @ http://127.0.0.1:4000/v1/chat/completions
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.61ms    2.10ms  45.02ms   90.12%
    Req/Sec     4.52k   512.33     5.61k    71.00%
  Latency Distribution
     50%    3.20ms
     75%    4.01ms
     90%    5.37ms
     99%   12.44ms
  90012 requests in 10.01s, 52.31MB read
  Non-2xx or 3xx responses: 7
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:   8992.21
Transfer/sec:      5.23MB
`;

describe('wrk output parsing', () => {
  it('reads exact counts and microsecond percentiles from the WRK_RESULT line the Lua script prints', () => {
    const stdout = `${wrkTextReport}WRK_RESULT {"requests":90012,"duration_us":10010000,"errors_connect":0,"errors_read":2,"errors_write":0,"errors_timeout":1,"errors_status":7,"mean_us":3610.5,"p50_us":3201.000,"p90_us":5370.000,"p99_us":12440.000,"max_us":45020.000}\n`;
    const result = parseWrkOutput(stdout);
    assert.equal(result.tool, 'wrk');
    assert.equal(result.requests, 90012);
    assert.equal(result.durationS, 10.01);
    assert.ok(Math.abs(result.requestsPerSec - 90012 / 10.01) < 1e-9);
    assert.equal(result.p50Ms, 3.201);
    assert.equal(result.p99Ms, 12.44);
    assert.equal(result.maxMs, 45.02);
    assert.equal(result.non2xx, 7);
    assert.equal(result.socketErrors, 3);
  });

  it("falls back to wrk's text report when the WRK_RESULT line is missing", () => {
    const result = parseWrkOutput(wrkTextReport);
    assert.equal(result.requestsPerSec, 8992.21);
    assert.equal(result.requests, 90012);
    assert.equal(result.p50Ms, 3.2);
    assert.equal(result.p90Ms, 5.37);
    assert.equal(result.p99Ms, 12.44);
    assert.equal(result.meanMs, 3.61);
    assert.equal(result.non2xx, 7);
    assert.equal(result.socketErrors, 3);
  });

  it('rejects output that is not a wrk report', () => {
    assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused'), /could not parse/);
  });

  it('converts every wrk time unit to milliseconds', () => {
    assert.equal(parseWrkDuration('812.00us'), 0.812);
    assert.equal(parseWrkDuration('1.50ms'), 1.5);
    assert.equal(parseWrkDuration('2.00s'), 2000);
    assert.equal(parseWrkDuration('1.00m'), 60_000);
    assert.throws(() => parseWrkDuration('3 parsecs'));
  });
});

describe('wrk Lua script', () => {
  it('sets method, body and headers with long-bracket strings that a header index cannot swallow', () => {
    const script = wrkLuaScript({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":[[1]]}',
    });
    assert.match(script, /^wrk\.method = \[\[POST\]\]$/m);
    // the body contains "]]", so the literal must use a level-1 bracket
    assert.match(script, /^wrk\.body = \[=\[\{"a":\[\[1\]\]\}\]=\]$/m);
    // "headers[[[" would start a long string at the index bracket: keep a space after it
    assert.match(script, /^wrk\.headers\[ \[\[content-type\]\] \] = \[\[application\/json\]\]$/m);
    assert.match(script, /WRK_RESULT/);
  });
});

describe('statistics', () => {
  it('uses nearest-rank percentiles on numerically sorted values', () => {
    const values = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 100];
    assert.equal(percentile(values, 50), 6);
    assert.equal(percentile(values, 99), 100);
    assert.equal(percentile([], 50), Number.NaN);
  });

  it('takes the median of the finite values only', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([Number.NaN, 5]), 5);
  });

  it('summarizes latencies with mean, p50, p99 and max', () => {
    const summary = summarizeLatencies(Array.from({ length: 100 }, (_, i) => i + 1));
    assert.equal(summary.count, 100);
    assert.equal(summary.p50Ms, 50);
    assert.equal(summary.p99Ms, 99);
    assert.equal(summary.maxMs, 100);
    assert.equal(summary.meanMs, 50.5);
  });
});

describe('table formatting', () => {
  it('left-aligns the first column, right-aligns the others and prints n/a for missing numbers', () => {
    const table = formatTable(['target', 'req/s'], [['direct', 12000], ['portico', Number.NaN]]);
    assert.equal(table, ['target   req/s', '-------  -----', 'direct   12000', 'portico    n/a'].join('\n'));
  });

  it('formats latency deltas with a sign and memory in MB', () => {
    assert.equal(fmtDeltaMs(0.2125), '+0.212 ms');
    assert.equal(fmtDeltaMs(-1.5), '-1.500 ms');
    assert.equal(fmtMB(150 * 1024 * 1024), '150.0 MB');
  });
});

describe('CPU time from /proc/PID/stat', () => {
  it('adds utime and stime, counting fields after a command name that holds spaces and parentheses', () => {
    const line = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 567 0 0 20 0 11 0 100 0 0';
    assert.equal(parseCpuTicks(line), 1234 + 567);
    assert.equal(parseCpuTicks('1 (x) S'), undefined);
  });

  it('reads this process and finds it has used some CPU', () => {
    const seconds = readCpuSeconds(process.pid);
    assert.ok(seconds !== undefined && seconds > 0, `read ${seconds}`);
    assert.equal(readCpuSeconds(2 ** 22 + 7), undefined, 'no such process');
  });
});

describe('comparisons against the aims of issue 5', () => {
  const target = (name: TargetResults['name'], requestsPerSec: number, seqP99: number, rssMB: number, cpuUsPerRequest = Number.NaN): TargetResults => ({
    name,
    label: name,
    rounds: [],
    throughput: { requestsPerSec, p50Ms: 1, p99Ms: 2, peakRssBytes: rssMB * 1024 * 1024, cpuUsPerRequest, non2xx: 0, socketErrors: 0 },
    sequential: { count: 1, meanMs: 1, p50Ms: 1, p90Ms: 1, p99Ms: seqP99, maxMs: 1, errors: 0 },
  });

  it('computes Portico/Portkey and Portico/bare throughput ratios and judges each aim', () => {
    const comparisons = deriveComparisons([
      target('direct', 30_000, 0.5, 80),
      target('bare', 10_000, 0.8, 90, 100),
      target('portico', 7_000, 2.0, 160, 120),
      target('portkey', 1_000, 9, 300),
    ]);
    assert.equal(comparisons.porticoOverPortkeyThroughput, 7);
    assert.equal(comparisons.porticoOverBareThroughput, 0.7);
    assert.equal(comparisons.porticoOverBareCpuPerRequest, 1.2);
    const met = Object.fromEntries(comparisons.aims.map((a) => [a.aim, a.met]));
    assert.equal(met['Portico throughput >= 5x Portkey'], true);
    assert.equal(met['Portico throughput >= 80% of the bare proxy'], false);
    assert.equal(met['added latency at concurrency 1, p99 < 1 ms'], false);
    assert.equal(met['Portico RSS under load < 150 MB'], false);
    assert.equal(met['streaming adds < 1 ms to the first chunk (p50, sequential)'], undefined);
  });

  it('reports n/a rather than a verdict when Portico was not measured', () => {
    const comparisons = deriveComparisons([target('direct', 30_000, 0.5, 80), target('portkey', 1_000, 9, 300)]);
    assert.ok(Number.isNaN(comparisons.porticoOverPortkeyThroughput));
    assert.ok(comparisons.aims.every((a) => a.met === undefined && a.measured === 'n/a'));
  });
});

describe('files bench: uploads at once', () => {
  const op = (stage: string, bytes: number, peakMB: number, error?: string): OperationResult => ({
    stage,
    label: stage,
    bytes,
    seconds: 1,
    mbPerSec: 1,
    peakRssBytes: peakMB * 1024 * 1024,
    error,
  });

  it('puts each run of uploads at once beside the single upload of its kind, with what the others added', () => {
    const rows = concurrencyRows([op('upload', 100, 180), op('upload-plain', 100, 150), op('upload-concurrent', 200, 156), op('upload-concurrent-targets', 300, 190)]);
    assert.deepEqual(
      rows.map((r) => [r.kind.split(' ')[0], r.uploads, r.addedBytes / (1024 * 1024)]),
      [
        ['store', 2, 6],
        ['->', 3, 10],
      ],
    );
  });

  it('leaves out a kind whose run failed or was skipped', () => {
    assert.deepEqual(concurrencyRows([op('upload', 100, 180), op('upload-plain', 100, 150), op('upload-concurrent', Number.NaN, 170, 'boom')]), []);
  });
});
