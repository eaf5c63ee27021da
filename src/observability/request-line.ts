/**
 * The request line (one per request: ids, route, model, status, timings), written as pino's JSON
 * text directly. Through `logger.info(fields, 'request')` every line went through pino's generic
 * path: the redaction paths tried on the object, then each key looked up for a serializer and
 * its value stringified with a try around it. These fields are known, hold no secret and need
 * no serializer, so the line is put together here, byte for byte as pino writes it (level,
 * time, the logger's bindings, the fields, `msg`), and handed to the logger's destination.
 */
import { pino, type Logger } from 'pino';

export interface RequestLineFields {
  req_id: string;
  method: string;
  route: string;
  model?: string;
  status: number;
  duration_ms: number;
  upstream_ms?: number;
  key_id?: string;
  client_closed?: true;
}

export type RequestLineLevel = 'info' | 'debug';

interface PinoInternals {
  [pino.symbols.chindingsSym]?: string;
  [pino.symbols.timeSym]?: () => string;
  [pino.symbols.streamSym]?: { write(line: string): unknown; [pino.symbols.needsMetadataGsym]?: boolean };
}

const MESSAGE = 'request';

/** Writes the request line at `level` (the caller checked it is enabled). */
export function writeRequestLine(logger: Logger, level: RequestLineLevel, fields: RequestLineFields): void {
  const internals = logger as unknown as PinoInternals;
  const bindings = internals[pino.symbols.chindingsSym];
  const time = internals[pino.symbols.timeSym];
  const stream = internals[pino.symbols.streamSym];
  // A multistream or transport wants pino's own call (it reads the level off the logger), and a
  // logger that is not pino's has none of these: both log the usual way.
  if (bindings === undefined || time === undefined || stream === undefined || stream[pino.symbols.needsMetadataGsym] === true) {
    logger[level](fields, MESSAGE);
    return;
  }
  stream.write(`{"level":"${level}"${time()}${bindings}${requestFieldsJson(fields)},"msg":"${MESSAGE}"}\n`);
}

/** The fields as pino writes them: in this order, those that are undefined left out, with a leading comma. */
export function requestFieldsJson(fields: RequestLineFields): string {
  let json = `,"req_id":${JSON.stringify(fields.req_id)},"method":${JSON.stringify(fields.method)},"route":${JSON.stringify(fields.route)}`;
  if (fields.model !== undefined) json += `,"model":${JSON.stringify(fields.model)}`;
  json += `,"status":${numberJson(fields.status)},"duration_ms":${numberJson(fields.duration_ms)}`;
  if (fields.upstream_ms !== undefined) json += `,"upstream_ms":${numberJson(fields.upstream_ms)}`;
  if (fields.key_id !== undefined) json += `,"key_id":${JSON.stringify(fields.key_id)}`;
  if (fields.client_closed !== undefined) json += ',"client_closed":true';
  return json;
}

/** As `JSON.stringify` writes a number: `null` for NaN and the infinities. */
function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}
