/**
 * A measuring HTTP client (undici, keep-alive pool) for latency runs that a closed-loop load
 * tool cannot do: one request at a time (added latency without queueing) and time to the first
 * body byte of streamed answers.
 *
 * API:
 *   type Endpoint = { origin: 'http://127.0.0.1:PORT', path: '/v1/...', request: HttpRequestSpec }
 *   createBenchClient(endpoint: Endpoint, maxConnections: number): BenchClient
 *   client.timeRequests({ count, concurrency, until: 'complete' | 'first-byte' }): Promise<TimedRun>
 *       sends `count` requests from `concurrency` loops; each latency runs from just before the
 *       request is written to the end of the body ('complete') or to the first body chunk
 *       ('first-byte'; the rest of the body is still read so the connection is reused).
 *       Non-2xx answers and errors are counted, not timed.
 *   client.probe(): Promise<{ status: number; body: string }>   // one request, whole body as text
 *   client.close(): Promise<void>
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { HttpRequestSpec } from './wrk.ts';

export type Endpoint = { origin: string; path: string; request: HttpRequestSpec };

export type TimedRun = {
  latenciesMs: number[];
  errors: number;
  firstError: string | undefined;
  wallMs: number;
};

export type BenchClient = {
  timeRequests(options: { count: number; concurrency: number; until: 'complete' | 'first-byte' }): Promise<TimedRun>;
  probe(): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
};

export function createBenchClient(endpoint: Endpoint, maxConnections: number): BenchClient {
  const pool = new Pool(endpoint.origin, {
    connections: maxConnections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const options = {
    path: endpoint.path,
    method: endpoint.request.method as 'POST',
    headers: endpoint.request.headers,
    body: endpoint.request.body,
  };

  async function timeOne(until: 'complete' | 'first-byte'): Promise<number | string> {
    const start = performance.now();
    const response = await pool.request(options);
    let firstByteAt = Number.NaN;
    for await (const chunk of response.body) {
      if (Number.isNaN(firstByteAt) && (chunk as Buffer).length > 0) firstByteAt = performance.now();
    }
    const end = performance.now();
    if (response.statusCode < 200 || response.statusCode >= 300) return `status ${response.statusCode}`;
    if (until === 'first-byte') return Number.isNaN(firstByteAt) ? 'empty body' : firstByteAt - start;
    return end - start;
  }

  return {
    async timeRequests({ count, concurrency, until }): Promise<TimedRun> {
      const latenciesMs: number[] = [];
      let errors = 0;
      let firstError: string | undefined;
      let issued = 0;
      const loop = async (): Promise<void> => {
        while (issued < count) {
          issued += 1;
          try {
            const outcome = await timeOne(until);
            if (typeof outcome === 'number') latenciesMs.push(outcome);
            else {
              errors += 1;
              firstError ??= outcome;
            }
          } catch (error) {
            errors += 1;
            firstError ??= (error as Error).message;
          }
        }
      };
      const wallStart = performance.now();
      await Promise.all(Array.from({ length: Math.max(1, concurrency) }, loop));
      return { latenciesMs, errors, firstError, wallMs: performance.now() - wallStart };
    },
    async probe() {
      const response = await pool.request(options);
      return { status: response.statusCode, body: await response.body.text() };
    },
    close: () => pool.close(),
  };
}
