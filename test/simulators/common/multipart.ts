/**
 * A small `multipart/form-data` parser over a fully received body (RFC 7578). The simulators keep
 * uploads in memory, so this works on one Buffer and slices parts without copying; tens of MB
 * are fine.
 */

export interface MultipartFile {
  field: string;
  filename: string;
  contentType: string | undefined;
  data: Buffer;
}

export interface MultipartForm {
  fields: Record<string, string>;
  files: MultipartFile[];
}

/** `null` when the content type is not multipart or has no boundary, or the body is malformed. */
export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartForm | null {
  if (!contentType || !/^multipart\/form-data/i.test(contentType)) return null;
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2]?.trim();
  if (!boundary) return null;
  const delimiter = Buffer.from(`--${boundary}`);
  const form: MultipartForm = { fields: {}, files: [] };

  let pos = body.indexOf(delimiter);
  if (pos < 0) return null;
  while (true) {
    pos += delimiter.length;
    // `--` after a delimiter closes the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return form;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) return null;
    const headers = parseHeaders(body.subarray(pos, headerEnd).toString('utf8'));
    const dataStart = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), dataStart);
    if (next < 0) return null;
    const data = body.subarray(dataStart, next);
    const disposition = headers['content-disposition'] ?? '';
    const name = paramOf(disposition, 'name');
    const filename = paramOf(disposition, 'filename');
    if (name !== undefined) {
      if (filename !== undefined) {
        form.files.push({ field: name, filename, contentType: headers['content-type'], data });
      } else if (!(name in form.fields)) {
        form.fields[name] = data.toString('utf8');
      }
    }
    pos = next + 2;
  }
}

function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

function paramOf(header: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${name}\\*?=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i');
  const m = re.exec(header);
  if (!m) return undefined;
  const raw = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '').trim();
  return raw.startsWith("UTF-8''") ? decodeURIComponent(raw.slice(7)) : raw;
}
