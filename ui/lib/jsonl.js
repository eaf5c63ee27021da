/** JSONL read as it streams: the lines of a fetch `Response` body, without holding the whole file. */

export async function* linesOf(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== '') yield line;
    }
  }
  if (pending.trim() !== '') yield pending.trim();
}

/** Parsed JSON lines; a line that is not JSON is skipped. */
export async function* recordsOf(lines) {
  for await (const line of lines) {
    try {
      yield JSON.parse(line);
    } catch {
      // Not a JSON line: nothing to show of it.
    }
  }
}
