/**
 * A client's value quoted in an error message: a string as it is, anything else as JSON, cut to
 * `max` characters. Never throws: `String(value)` does, on a parsed object whose own `toString`
 * is not a function (`{"toString": "x"}`), which turned a 400 into a 500.
 */
export function echoValue(value: unknown, max = 100): string {
  const text = typeof value === 'string' ? value : (safeJson(value) ?? typeof value);
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
