/**
 * The one pooled HTTP agent every provider sends through: keep-alive connections per upstream
 * origin, so the hot path never pays a TCP/TLS handshake per request.
 */
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';

/**
 * undici's own 300 s header/body timeouts would cut long completions short of a deployment's
 * configured `timeout` (600 s by default); the per-request timeout is the router's
 * `AbortSignal`, and these are only a safety net for callers that pass no signal.
 */
const SAFETY_NET_TIMEOUT_MS = 15 * 60 * 1000;

/**
 * LiteLLM's `litellm_settings.ssl_verify` (`config/types.ts`, `UpstreamTls`): upstream
 * certificates not verified (`false`), or verified against a CA bundle besides the system's (a
 * path: an internal server's CA). Absent: Node's verification, which `NODE_EXTRA_CA_CERTS` extends.
 */
export type UpstreamTls = { readonly verify: false } | { readonly caPem: string };

function createAgent(tls: UpstreamTls | undefined): Agent {
  const connect =
    tls === undefined
      ? { timeout: 10_000 }
      : 'verify' in tls
        ? { timeout: 10_000, rejectUnauthorized: false }
        : { timeout: 10_000, ca: [...rootCertificates, tls.caPem] };
  return new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connections: 256,
    pipelining: 1,
    headersTimeout: SAFETY_NET_TIMEOUT_MS,
    bodyTimeout: SAFETY_NET_TIMEOUT_MS,
    connect,
  });
}

let agent = createAgent(undefined);
let agentTls: UpstreamTls | undefined;

/** The agent upstream calls go through. */
export function upstreamAgent(): Agent {
  return agent;
}

/** Verifies upstream certificates as the config says, for every call from now on (a process-wide setting, as in LiteLLM). */
export function useUpstreamTls(tls: UpstreamTls | undefined): void {
  if (tls === agentTls || (tls !== undefined && agentTls !== undefined && JSON.stringify(tls) === JSON.stringify(agentTls))) return;
  const previous = agent;
  agent = createAgent(tls);
  agentTls = tls;
  // Calls already under way finish on the connections they hold.
  void previous.close().catch(() => undefined);
}

/** Closes pooled connections (graceful shutdown, end of a test run). */
export async function closeUpstreamAgent(): Promise<void> {
  await agent.close();
}
