/**
 * Splits a byte stream into lines without holding more than one line in memory. JSONL files go
 * up to hundreds of megabytes; everything that reads them line by line goes through here.
 */

export class LineTooLongError extends Error {
  readonly lineNumber: number;
  readonly maxLineBytes: number;
  constructor(lineNumber: number, maxLineBytes: number) {
    super(`Line ${lineNumber} is longer than ${maxLineBytes} bytes.`);
    this.lineNumber = lineNumber;
    this.maxLineBytes = maxLineBytes;
  }
}

export interface LineSplitterOptions {
  /** A longer line throws LineTooLongError, so a file without newlines cannot fill memory. */
  maxLineBytes?: number;
}

/**
 * Incremental splitter: feed chunks with `push`, receive complete lines (without `\n` or
 * `\r\n`) through the callback; `end` flushes a last line that has no newline.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineNumber = 0;
  private readonly maxLineBytes: number;
  private readonly onLine: (line: Buffer, lineNumber: number) => void;

  constructor(onLine: (line: Buffer, lineNumber: number) => void, options: LineSplitterOptions = {}) {
    this.onLine = onLine;
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.append(chunk.subarray(start, newline));
      this.emitPending();
      start = newline + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
  }

  end(): void {
    if (this.pendingBytes > 0) this.emitPending();
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    this.pendingBytes += piece.length;
    if (this.pendingBytes > this.maxLineBytes) throw new LineTooLongError(this.lineNumber + 1, this.maxLineBytes);
    this.pending.push(piece);
  }

  private emitPending(): void {
    this.lineNumber += 1;
    let line = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
    this.pending = [];
    this.pendingBytes = 0;
    this.onLine(line, this.lineNumber);
  }
}

/** Iterates the lines of a byte stream (`Readable` or any async iterable of chunks). */
export async function* readLines(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  options: LineSplitterOptions = {},
): AsyncGenerator<{ line: Buffer; lineNumber: number }> {
  const ready: { line: Buffer; lineNumber: number }[] = [];
  const splitter = new LineSplitter((line, lineNumber) => ready.push({ line, lineNumber }), options);
  for await (const chunk of source) {
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    while (ready.length > 0) yield ready.shift()!;
  }
  splitter.end();
  while (ready.length > 0) yield ready.shift()!;
}
