/** LiteLLM serves every OpenAI route both with and without the `/v1` prefix; so does Portico. */
export function withAndWithoutV1(path: string): readonly string[] {
  return [`/v1${path}`, path];
}

/** Every URL a model endpoint answers at: its path with and without `/v1`, then its extra paths (`/v2/rerank`). */
export function modelEndpointUrls(endpoint: { readonly path: string; readonly extraPaths?: readonly string[] }): readonly string[] {
  const urls = withAndWithoutV1(endpoint.path);
  return endpoint.extraPaths === undefined ? urls : [...urls, ...endpoint.extraPaths];
}
