/**
 * The per-line error summary of a batch, read from its error file (OpenAI's `BatchRequestOutput`
 * lines): grouped by error code, with counts and a few examples each. A line fails either with
 * `error` set (the request never got an answer) or with an answer whose `status_code` is 4xx/5xx
 * and whose body is an error envelope.
 */

const EXAMPLES_PER_CODE = 3;
const MESSAGE_CHARS = 300;

export function errorOfLine(line) {
  if (line.error) {
    return { code: line.error.code || 'error', message: line.error.message || '', status: null };
  }
  const status = line.response?.status_code ?? null;
  const bodyError = line.response?.body?.error;
  if (bodyError && typeof bodyError === 'object') {
    return { code: bodyError.code || bodyError.type || `http_${status}`, message: bodyError.message || '', status };
  }
  if (status !== null && status >= 400) return { code: `http_${status}`, message: '', status };
  return null;
}

/** Folds error lines (objects) into `[{code, count, examples: [{custom_id, message, status}]}]`, most frequent first. */
export async function summariseErrors(records) {
  const groups = new Map();
  let total = 0;
  for await (const line of records) {
    const error = errorOfLine(line);
    if (error === null) continue;
    total += 1;
    let group = groups.get(error.code);
    if (group === undefined) {
      group = { code: error.code, count: 0, examples: [] };
      groups.set(error.code, group);
    }
    group.count += 1;
    if (group.examples.length < EXAMPLES_PER_CODE) {
      group.examples.push({ custom_id: line.custom_id ?? null, message: error.message.slice(0, MESSAGE_CHARS), status: error.status });
    }
  }
  const codes = [...groups.values()].sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
  return { total, codes };
}
