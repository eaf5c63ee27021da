/**
 * Portico's structured logger: pino, JSON lines on stdout.
 *
 * Why pino: the cheapest mainstream JSON logger for Node (asynchronous-friendly, no formatting
 * on the hot path), and Fastify's native logger. Stdout is written asynchronously (below).
 *
 * What is never logged: API keys (ours or upstream) and prompt or completion bodies. The request
 * line carries ids, route, model, status and timings only; `redact` below is a second net for
 * fields someone might add by mistake.
 */
import { fstatSync } from 'node:fs';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Defaults to `info`; `LOG_LEVEL` in the CLI. */
  level?: string;
  /** Where lines go (tests capture them); stdout by default. */
  destination?: DestinationStream;
}

const REDACTED_PATHS = [
  'authorization',
  'apiKey',
  'api_key',
  'masterKey',
  'master_key',
  'key',
  'headers.authorization',
  'headers["api-key"]',
  'req.headers.authorization',
  'req.headers["api-key"]',
  'body',
  'messages',
  'prompt',
  'input',
];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level && isLogLevel(options.level) ? options.level : 'info';
  const pinoOptions = {
    level,
    base: { service: 'portico' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: isoTimestamp,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return pino(pinoOptions, options.destination ?? stdoutDestination());
}

/**
 * pino's `stdTimeFunctions.isoTime` (`,"time":"2026-11-27T10:28:05.032Z"`), without building a
 * Date and formatting it for every line: the text up to the second is kept while the second lasts.
 */
export function isoTimestamp(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoSecondPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, 20)}`;
  }
  const ms = now - second * 1000;
  return `${isoSecondPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

let isoSecond = Number.NaN;
let isoSecondPrefix = '';

/** Lines held while stdout does not keep up; beyond this they are dropped, not buffered forever. */
const MAX_BUFFERED_LOG_BYTES = 16 * 1024 * 1024;

/**
 * Stdout, written asynchronously and in batches. pino's default is one blocking `write(2)` per
 * line (and a blocking wait when the pipe is full); an asynchronous write per line costs even
 * more (a thread-pool round trip each). Here the lines logged during one turn of the event loop
 * are joined and handed over once, at the end of the turn (`setImmediate`), and at most once per
 * `MIN_HANDOVER_INTERVAL_MS`: a quiet server's line goes out at once, a busy one's request lines
 * share one asynchronous write (at 4 lines a turn, 12 -> 6 us of CPU per line).
 *
 * Stdout must never stop Portico: a log shipper that stalls or dies (a full pipe, EPIPE) costs
 * log lines, counted (`droppedLogLines`, the metric `portico_log_lines_dropped_total`), never a
 * busy loop, a blocked thread, or an exit that waits forever. So a pipe or socket is written
 * through Node's non-blocking stream (`process.stdout`: what it could not take yet waits in
 * memory, up to `MAX_BUFFERED_LOG_BYTES`), and a file or terminal through pino's SonicBoom.
 */
function stdoutDestination(): DestinationStream {
  // One per process, whatever the number of loggers (tests build many): one writer on fd 1,
  // lines in order, one exit hook.
  sharedStdout ??= new TurnBatchedDestination(isPipeOrSocket(1) ? new StreamLineSink(process.stdout, MAX_BUFFERED_LOG_BYTES) : fileStdoutSink());
  return sharedStdout;
}

let sharedStdout: TurnBatchedDestination | undefined;

/** Log lines stdout could not take since the process started (a stalled or dead reader). */
let droppedLines = 0;

export function droppedLogLines(): number {
  return droppedLines;
}

function countDropped(chunk: string): void {
  for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) droppedLines += 1;
}

function isPipeOrSocket(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

/** The part of pino's SonicBoom destination the batcher uses. */
interface LineSink {
  write(chunk: string): boolean;
  flush(callback?: (error?: Error) => void): void;
  flushSync(): void;
}

/**
 * A pipe or socket, through a non-blocking Node stream: a write never blocks (what the reader
 * has not taken yet is queued by the stream), at most `maxBufferedBytes` wait, and after a write
 * error (EPIPE: the reader is gone for good) nothing more is tried. Lines that cannot be written
 * are counted as dropped.
 */
export class StreamLineSink implements LineSink {
  readonly #stream: NodeJS.WritableStream & { readonly writableLength: number };
  readonly #maxBufferedBytes: number;
  #broken = false;

  constructor(stream: NodeJS.WritableStream & { readonly writableLength: number }, maxBufferedBytes: number) {
    this.#stream = stream;
    this.#maxBufferedBytes = maxBufferedBytes;
    stream.on('error', () => {
      this.#broken = true;
    });
  }

  write(chunk: string): boolean {
    if (this.#broken || this.#stream.writableLength + chunk.length > this.#maxBufferedBytes) {
      countDropped(chunk);
      return false;
    }
    return this.#stream.write(chunk, (error) => {
      if (error) countDropped(chunk);
    });
  }

  flush(callback?: (error?: Error) => void): void {
    if (this.#broken || this.#stream.writableLength === 0) callback?.();
    else this.#stream.once('drain', () => callback?.());
  }

  /**
   * Nothing to wait for: a write hands the stream all the pipe takes at once, and waiting for the
   * rest could mean waiting forever on a reader that is gone (at exit, it is lost).
   */
  flushSync(): void {}
}

/**
 * A file or a terminal: pino's SonicBoom, asynchronous, holding at most `MAX_BUFFERED_LOG_BYTES`
 * (its `drop` event counts the rest). After a write error nothing more is written: SonicBoom's
 * `flushSync` would retry a failing write forever.
 */
function fileStdoutSink(): LineSink {
  const sonic = pino.destination({ dest: 1, sync: false, minLength: 0, maxLength: MAX_BUFFERED_LOG_BYTES });
  let broken = false;
  sonic.on('error', () => {
    broken = true;
    // pino's exit hook calls it too, and it retries a failing write forever.
    sonic.flushSync = () => {};
  });
  sonic.on('drop', (data: unknown) => countDropped(String(data)));
  return {
    write(chunk) {
      if (broken) {
        countDropped(chunk);
        return false;
      }
      return sonic.write(chunk);
    },
    flush(callback) {
      if (broken) callback?.();
      else sonic.flush(callback);
    },
    flushSync() {
      if (!broken) sonic.flushSync();
    },
  };
}

/**
 * At most one hand-over per this many milliseconds while lines keep coming: every write to the
 * sink is an asynchronous write of its own (a thread-pool round trip, about 25 us of CPU
 * whatever its size), against about 5 us per line to format it, so a busy server's lines wait
 * up to this long to share one.
 */
export const MIN_HANDOVER_INTERVAL_MS = 10;
/** Pending text that is handed over at once, without waiting for the interval. */
const MAX_PENDING_CHARS = 64 * 1024;

export class TurnBatchedDestination implements DestinationStream {
  readonly #sink: LineSink;
  readonly #now: () => number;
  #pending = '';
  #scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #lastHandOver = Number.NEGATIVE_INFINITY;
  readonly #handOver = (): void => {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled as NodeJS.Immediate);
      clearTimeout(this.#scheduled as NodeJS.Timeout);
      this.#scheduled = undefined;
    }
    const chunk = this.#pending;
    this.#pending = '';
    this.#lastHandOver = this.#now();
    if (chunk.length > 0) this.#sink.write(chunk);
  };

  constructor(sink: LineSink, now: () => number = () => performance.now()) {
    this.#sink = sink;
    this.#now = now;
    process.once('exit', () => {
      this.#handOver();
      try {
        this.#sink.flushSync();
      } catch {
        // Exiting: a destination that cannot take the last lines must not turn the exit into a crash.
      }
    });
  }

  /**
   * A quiet server's line goes out at the end of the turn it was logged in; on a busy one the
   * lines of the next `MIN_HANDOVER_INTERVAL_MS` go out together (or sooner, past `MAX_PENDING_CHARS`).
   */
  write(line: string): void {
    this.#pending += line;
    if (this.#pending.length >= MAX_PENDING_CHARS) {
      this.#handOver();
      return;
    }
    if (this.#scheduled !== undefined) return;
    const wait = this.#lastHandOver + MIN_HANDOVER_INTERVAL_MS - this.#now();
    if (wait <= 0) {
      this.#scheduled = setImmediate(this.#handOver);
    } else {
      const timer = setTimeout(this.#handOver, wait);
      // Never what keeps a process alive: the exit hook hands the last lines over.
      timer.unref();
      this.#scheduled = timer;
    }
  }

  /** `logger.flush()`: hands the pending lines over now and flushes the sink. */
  flush(callback?: (error?: Error) => void): void {
    this.#handOver();
    this.#sink.flush(callback);
  }

  flushSync(): void {
    this.#handOver();
    this.#sink.flushSync();
  }
}
