/**
 * The one pooled HTTP agent every provider sends through: keep-alive connections per upstream
 * origin, so the hot path never pays a TCP/TLS handshake per request.
 */
import { Agent } from 'undici';

/**
 * undici's own 300 s header/body timeouts would cut long completions short of a deployment's
 * configured `timeout` (600 s by default); the per-request timeout is the router's
 * `AbortSignal`, and these are only a safety net for callers that pass no signal.
 */
const SAFETY_NET_TIMEOUT_MS = 15 * 60 * 1000;

export const upstreamAgent = new Agent({
  keepAliveTimeout: 10_000,
  keepAliveMaxTimeout: 60_000,
  connections: 256,
  pipelining: 1,
  headersTimeout: SAFETY_NET_TIMEOUT_MS,
  bodyTimeout: SAFETY_NET_TIMEOUT_MS,
  connect: { timeout: 10_000 },
});

/** Closes pooled connections (graceful shutdown, end of a test run). */
export async function closeUpstreamAgent(): Promise<void> {
  await upstreamAgent.close();
}
