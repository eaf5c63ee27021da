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

/** How upstream connections are made: process-wide settings, as LiteLLM's. */
export interface UpstreamConnection {
  readonly tls?: UpstreamTls;
  /**
   * LiteLLM's `litellm_settings.force_ipv4`: connect over IPv4 only (a network whose IPv6 routes
   * are broken). Otherwise Node tries a host's addresses of both families (happy eyeballs).
   */
  readonly ipv4Only?: boolean;
}

const DEFAULT_CONNECTION: UpstreamConnection = Object.freeze({});

function createAgent(connection: UpstreamConnection): Agent {
  const tls = connection.tls;
  return new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connections: 256,
    pipelining: 1,
    headersTimeout: SAFETY_NET_TIMEOUT_MS,
    bodyTimeout: SAFETY_NET_TIMEOUT_MS,
    // undici hands these to net.connect / tls.connect.
    connect: {
      timeout: 10_000,
      ...(tls !== undefined && ('verify' in tls ? { rejectUnauthorized: false } : { ca: [...rootCertificates, tls.caPem] })),
      ...(connection.ipv4Only === true && { family: 4 }),
    },
  });
}

let agent = createAgent(DEFAULT_CONNECTION);
let agentConnection: UpstreamConnection = DEFAULT_CONNECTION;

/** The agent upstream calls go through. */
export function upstreamAgent(): Agent {
  return agent;
}

/** Makes upstream connections as the config says, for every call from now on (process-wide, as in LiteLLM). */
export function useUpstreamConnection(connection: UpstreamConnection = DEFAULT_CONNECTION): void {
  if (connection === agentConnection || JSON.stringify(connection) === JSON.stringify(agentConnection)) return;
  const previous = agent;
  agent = createAgent(connection);
  agentConnection = connection;
  // Calls already under way finish on the connections they hold.
  void previous.close().catch(() => undefined);
}

/** Closes pooled connections (graceful shutdown, end of a test run). */
export async function closeUpstreamAgent(): Promise<void> {
  await agent.close();
}
