/**
 * `origin` + `path` of a request URL, as undici's dispatcher API takes them. undici's top-level
 * `request(url)` parses the URL on every call; deployments send to a handful of fixed URLs, so
 * the parse is remembered (bounded: URLs naming a file or batch id come and go).
 */
export interface DispatchTarget {
  readonly origin: string;
  /** Path and query string. */
  readonly path: string;
}

const MAX_REMEMBERED = 512;
const remembered = new Map<string, DispatchTarget>();

export function dispatchTarget(url: string): DispatchTarget {
  let target = remembered.get(url);
  if (target === undefined) {
    const parsed = new URL(url);
    target = Object.freeze({ origin: parsed.origin, path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname });
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.set(url, target);
  }
  return target;
}
