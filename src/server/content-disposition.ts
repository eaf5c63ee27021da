/**
 * `Content-Disposition: attachment` for a stored file name, whatever the name holds (RFC 6266):
 * an ASCII `filename="..."` fallback for old clients and `filename*=UTF-8''...` (RFC 8187) with
 * the exact name percent-encoded. The header can always be set: names arrive from uploads
 * (`filename*=` in the multipart part included) with any Unicode, quotes or control characters,
 * and Node refuses a header value outside Latin-1.
 */

/** Characters RFC 8187's `attr-char` allows unencoded. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+.^_`|~-]/;

export function attachmentDisposition(filename: string): string {
  return `attachment; filename="${asciiFallback(filename)}"; filename*=UTF-8''${percentEncode(filename)}`;
}

/** Printable ASCII except the quote and backslash; anything else becomes `_`. */
function asciiFallback(filename: string): string {
  return filename.replace(/[^\x20-\x7e]|["\\]/gu, '_');
}

/** UTF-8 bytes, each outside `attr-char` as %XX. Via Buffer: a lone surrogate cannot throw. */
function percentEncode(filename: string): string {
  let encoded = '';
  for (const byte of Buffer.from(filename, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += byte < 0x80 && ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
