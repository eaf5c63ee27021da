/**
 * wrk (https://github.com/wg/wrk) script generation and output parsing (pure, no I/O).
 *
 * API:
 *   wrkLuaScript(request: HttpRequestSpec): string
 *       a Lua script that sets method, body and headers and, in done(), prints one line
 *       `WRK_RESULT {json}` with exact counts and latency percentiles in microseconds
 *   parseWrkOutput(stdout: string): LoadResult
 *       reads the WRK_RESULT line; falls back to wrk's text report ("Requests/sec:",
 *       "Latency Distribution") when the line is missing; throws when neither is present
 *   parseWrkDuration(text: string): number   // "812.00us" | "1.23ms" | "2.00s" | "1.00m" | "1.00h" -> ms
 *
 * Types shared with the other load runners live here too:
 *   HttpRequestSpec { method, headers, body? }
 *   LoadResult { tool, requests, durationS, requestsPerSec, meanMs, p50Ms, p90Ms, p99Ms, maxMs, non2xx, socketErrors }
 */

export type HttpRequestSpec = {
  method: string;
  headers: Readonly<Record<string, string>>;
  body?: string;
};

export type LoadResult = {
  tool: 'wrk' | 'autocannon';
  requests: number;
  durationS: number;
  requestsPerSec: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses with a status outside 2xx/3xx. */
  non2xx: number;
  /** Connect/read/write errors and timeouts. */
  socketErrors: number;
};

/** A Lua long-bracket literal whose closing bracket cannot occur inside `text`. */
function luaLongString(text: string): string {
  let level = 0;
  while (text.includes(`]${'='.repeat(level)}]`)) level += 1;
  const eq = '='.repeat(level);
  // A newline right after the opening bracket is dropped by Lua; none of our values start with one,
  // but guard anyway by refusing it instead of silently changing the value.
  if (text.startsWith('\n')) throw new Error('wrk script values must not start with a newline');
  return `[${eq}[${text}]${eq}]`;
}

export function wrkLuaScript(request: HttpRequestSpec): string {
  const lines = [`wrk.method = ${luaLongString(request.method)}`];
  if (request.body !== undefined) lines.push(`wrk.body = ${luaLongString(request.body)}`);
  for (const [name, value] of Object.entries(request.headers)) {
    // Spaces matter: `headers[[[x]]]` would lex as a long string starting at the first `[`.
    lines.push(`wrk.headers[ ${luaLongString(name)} ] = ${luaLongString(value)}`);
  }
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(',
    `    'WRK_RESULT {"requests":%d,"duration_us":%d,"errors_connect":%d,"errors_read":%d,' ..`,
    `    '"errors_write":%d,"errors_timeout":%d,"errors_status":%d,"mean_us":%.3f,' ..`,
    `    '"p50_us":%.3f,"p90_us":%.3f,"p99_us":%.3f,"max_us":%.3f}\\n',`,
    '    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,',
    '    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))',
    'end',
    '',
  );
  return lines.join('\n');
}

const unitToMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseWrkDuration(text: string): number {
  const match = /^\s*([\d.]+)\s*(us|ms|s|m|h)\s*$/.exec(text);
  if (!match) throw new Error(`not a wrk duration: "${text}"`);
  return Number(match[1]) * unitToMs[match[2]];
}

type WrkJson = {
  requests: number;
  duration_us: number;
  errors_connect: number;
  errors_read: number;
  errors_write: number;
  errors_timeout: number;
  errors_status: number;
  mean_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
};

export function parseWrkOutput(stdout: string): LoadResult {
  const line = /^WRK_RESULT (\{.*\})\s*$/m.exec(stdout);
  if (line) {
    const r = JSON.parse(line[1]) as WrkJson;
    const durationS = r.duration_us / 1e6;
    return {
      tool: 'wrk',
      requests: r.requests,
      durationS,
      requestsPerSec: durationS > 0 ? r.requests / durationS : Number.NaN,
      meanMs: r.mean_us / 1000,
      p50Ms: r.p50_us / 1000,
      p90Ms: r.p90_us / 1000,
      p99Ms: r.p99_us / 1000,
      maxMs: r.max_us / 1000,
      non2xx: r.errors_status,
      socketErrors: r.errors_connect + r.errors_read + r.errors_write + r.errors_timeout,
    };
  }
  return parseWrkTextReport(stdout);
}

function parseWrkTextReport(stdout: string): LoadResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(stdout);
  const total = /^\s*(\d+) requests in ([\d.]+\w+)/m.exec(stdout);
  if (!rps || !total) throw new Error(`could not parse wrk output:\n${stdout}`);
  const percentileOf = (p: number): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+\\w+)`, 'm').exec(stdout);
    return m ? parseWrkDuration(m[1]) : Number.NaN;
  };
  const latencyLine = /^\s*Latency\s+([\d.]+\w+)\s+[\d.]+\w+\s+([\d.]+\w+)/m.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    tool: 'wrk',
    requests: Number(total[1]),
    durationS: parseWrkDuration(total[2]) / 1000,
    requestsPerSec: Number(rps[1]),
    meanMs: latencyLine ? parseWrkDuration(latencyLine[1]) : Number.NaN,
    p50Ms: percentileOf(50),
    p90Ms: percentileOf(90),
    p99Ms: percentileOf(99),
    maxMs: latencyLine ? parseWrkDuration(latencyLine[2]) : Number.NaN,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}
