/** LiteLLM serves every OpenAI route both with and without the `/v1` prefix; so does Portico. */
export function withAndWithoutV1(path: string): readonly string[] {
  return [`/v1${path}`, path];
}
