import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createLogger } from './logger.ts';
import { type RequestLineFields, writeRequestLine } from './request-line.ts';

function capture(): { lines: string[]; destination: { write(line: string): void } } {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

const withoutTime = (line: string) => line.replace(/,"time":"[^"]*"/, '');

const FIELDS: RequestLineFields[] = [
  { req_id: 'r-1', method: 'POST', route: '/v1/chat/completions', model: 'gpt-4o-mini', status: 200, duration_ms: 12.34, upstream_ms: 10.5, key_id: 'k1' },
  { req_id: 'quote " back \\ ünï \n', method: 'GET', route: 'unmatched', status: 499, duration_ms: 0, client_closed: true },
  { req_id: 'r-3', method: 'POST', route: '/v1/embeddings', model: undefined, status: 502, duration_ms: Number.NaN, upstream_ms: undefined, key_id: undefined, client_closed: undefined },
];

describe('the request line', () => {
  it('is byte for byte what pino writes for the same fields (time aside), bindings of a child included', () => {
    for (const bindings of [undefined, { worker: 2 }]) {
      for (const level of ['info', 'debug'] as const) {
        const ours = capture();
        const theirs = capture();
        const base = (destination: { write(line: string): void }) => createLogger({ level: 'debug', destination });
        const ourLogger = bindings ? base(ours.destination).child(bindings) : base(ours.destination);
        const pinoLogger = bindings ? base(theirs.destination).child(bindings) : base(theirs.destination);
        for (const fields of FIELDS) {
          writeRequestLine(ourLogger, level, fields);
          pinoLogger[level]({ ...fields }, 'request');
        }
        assert.deepEqual(ours.lines.map(withoutTime), theirs.lines.map(withoutTime));
        for (const line of ours.lines) assert.match(line, /^\{"level":"\w+","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",/);
      }
    }
  });

  it('goes through pino itself for a multistream destination', () => {
    const { lines, destination } = capture();
    const logger = pino({ level: 'info' }, pino.multistream([{ stream: destination }]));
    writeRequestLine(logger, 'info', FIELDS[0]);
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(line.msg, 'request');
    assert.equal(line.req_id, 'r-1');
    assert.equal(line.level, 30, 'pino default level numbers: written by pino, not here');
  });
});
