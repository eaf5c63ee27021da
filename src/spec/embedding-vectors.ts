/**
 * OpenAI's `encoding_format: "base64"` embeddings: the vector's float32 values, little-endian,
 * base64-encoded (what the OpenAI SDKs decode, and ask for by default). For providers that answer
 * floats only.
 */
export function float32Base64(values: readonly number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => buffer.writeFloatLE(value, index * 4));
  return buffer.toString('base64');
}
