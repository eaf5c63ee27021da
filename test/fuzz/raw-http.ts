/**
 * One HTTP/1.1 exchange over a fresh TCP connection, byte for byte: the fuzz suite writes the
 * request line, headers and body exactly as generated (no client library validating or fixing
 * them) and parses whatever comes back. The connection is closed after one answer, so every
 * exchange also opens and closes one socket on the server.
 *
 *   const answer = await exchange(port, { method: 'GET', target: '/v1/models', headers: [['authorization', 'Bearer sk-...']] });
 *   answer.status; answer.header('content-type'); answer.body   // Buffer, de-chunked
 *
 * A request that gets no complete answer within `timeoutMs` rejects (a hang is a defect too).
 */
import net from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target as written on the request line (`/v1/files?limit=2`). */
  target: string;
  /** In order; the same name may appear twice. `content-length` is added unless present or `chunked`. */
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
  /** Send the body with `transfer-encoding: chunked`, in chunks of this many bytes. */
  chunked?: number;
  /** `HTTP/1.1` unless given. */
  version?: string;
  /** The whole request head as raw bytes instead (method, target and headers are then ignored). */
  rawHead?: Buffer;
}

export interface RawAnswer {
  status: number;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Buffer;
  /** The first value of a header, by lower-case name. */
  header(name: string): string | undefined;
}

const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

export function encodeRequest(request: RawRequest): Buffer {
  const body = request.body ?? Buffer.alloc(0);
  if (request.rawHead) return Buffer.concat([request.rawHead, body]);
  const names = new Set(request.headers.map(([name]) => name.toLowerCase()));
  const lines = [`${request.method} ${request.target} ${request.version ?? 'HTTP/1.1'}`];
  if (!names.has('host')) lines.push('host: 127.0.0.1');
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  if (request.chunked !== undefined) {
    lines.push('transfer-encoding: chunked');
  } else if (!names.has('content-length') && (body.length > 0 || request.method === 'POST' || request.method === 'PUT')) {
    lines.push(`content-length: ${body.length}`);
  }
  if (!names.has('connection')) lines.push('connection: close');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  if (request.chunked === undefined) return Buffer.concat([head, body]);
  const parts: Buffer[] = [head];
  // At most about 1,000 chunks: 1-byte chunks of a 2 MB body would be millions of Buffers here.
  const size = Math.max(1, request.chunked, Math.ceil(body.length / 1_000));
  for (let offset = 0; offset < body.length; offset += size) {
    const chunk = body.subarray(offset, offset + size);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

export function exchange(port: number, request: RawRequest, timeoutMs: number): Promise<RawAnswer> {
  const bytes = encodeRequest(request);
  const isHead = request.method.toUpperCase() === 'HEAD';
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    let receivedBytes = 0;
    let settled = false;
    const socket = net.connect(port, '127.0.0.1');
    const settle = (error: Error | undefined, answer?: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer as RawAnswer);
    };
    const timer = setTimeout(() => settle(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => {
      // The server may answer (and close) before it read the whole body: that is fine.
      socket.write(bytes, () => undefined);
    });
    // Whether the answer may be complete, cheaply: the whole answer is parsed (one concat) only
    // then, so a large download costs linear, not quadratic, time here.
    let expectedBytes: number | null = null;
    let lookAtEveryChunk = true;
    const mayBeComplete = (): boolean => {
      if (expectedBytes !== null) return receivedBytes >= expectedBytes;
      if (!lookAtEveryChunk) return endsWith(received, '0\r\n\r\n');
      const data = Buffer.concat(received);
      const headEnd = data.indexOf('\r\n\r\n', 0, 'latin1');
      if (headEnd === -1) return false;
      const head = data.subarray(0, headEnd).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
      if (!(status >= 200) || isHead) return true; // interim answers and HEAD: parse every time
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length) expectedBytes = headEnd + 4 + Number(length[1]);
      else if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) lookAtEveryChunk = false;
      return true;
    };
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      receivedBytes += chunk.length;
      if (receivedBytes > MAX_ANSWER_BYTES) return settle(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
      if (!mayBeComplete()) return;
      const answer = tryParseAnswer(Buffer.concat(received), isHead, false);
      if (answer) settle(undefined, answer);
    });
    // EPIPE / ECONNRESET after the server answered early are not failures: the answer decides.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const answer = tryParseAnswer(Buffer.concat(received), isHead, true);
      if (answer) settle(undefined, answer);
      else settle(new Error(received.length === 0 ? 'the connection closed without an answer' : `incomplete answer: ${preview(Buffer.concat(received))}`));
    });
  });
}

function endsWith(chunks: readonly Buffer[], text: string): boolean {
  const tail = Buffer.concat(chunks.slice(-text.length)).subarray(-text.length);
  return tail.toString('latin1') === text;
}

/** A complete answer in `data`, or undefined while more is needed (`closed`: no more will come). */
function tryParseAnswer(data: Buffer, isHead: boolean, closed: boolean): RawAnswer | undefined {
  let start = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', start, 'latin1');
    if (headEnd === -1) return undefined;
    const lines = data.subarray(start, headEnd).toString('latin1').split('\r\n');
    const statusMatch = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!statusMatch) throw new Error(`not an HTTP answer: ${preview(data)}`);
    const status = Number(statusMatch[1]);
    const headers = lines.slice(1).map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
    });
    const bodyStart = headEnd + 4;
    // Interim answers (100 Continue) are followed by the real one.
    if (status >= 100 && status < 200) {
      start = bodyStart;
      continue;
    }
    const header = (name: string) => headers.find(([key]) => key === name)?.[1];
    const make = (body: Buffer): RawAnswer => ({ status, headers, body, header });
    if (isHead || status === 204 || status === 304) return make(Buffer.alloc(0));
    const length = header('content-length');
    if (/chunked/i.test(header('transfer-encoding') ?? '')) {
      const body = dechunk(data.subarray(bodyStart));
      return body ? make(body) : undefined;
    }
    if (length !== undefined) {
      const size = Number(length);
      return data.length - bodyStart >= size ? make(data.subarray(bodyStart, bodyStart + size)) : undefined;
    }
    return closed ? make(data.subarray(bodyStart)) : undefined;
  }
}

/** The body of a complete chunked encoding, or undefined when it is not complete yet. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset, 'latin1');
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) throw new Error(`bad chunk size in answer: ${preview(data.subarray(offset))}`);
    const chunkStart = lineEnd + 2;
    // The last chunk, then optional trailers, then an empty line.
    if (size === 0) return data.indexOf('\r\n\r\n', lineEnd, 'latin1') === -1 ? undefined : Buffer.concat(parts);
    if (data.length < chunkStart + size + 2) return undefined;
    parts.push(data.subarray(chunkStart, chunkStart + size));
    offset = chunkStart + size + 2;
  }
}

export function preview(data: Buffer | string, max = 300): string {
  const text = typeof data === 'string' ? data : data.subarray(0, max).toString('latin1');
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}...` : text);
}
