/**
 * Per-request state Portico keeps beside Fastify's request: the caller, the model group once it
 * is known, and the timings the request line and the metrics need.
 */
import type { TraceSpan } from '../observability/tracing.ts';
import type { Principal } from '../spec/principal.ts';
import type { ConsoleSession } from '../auth/console-sessions.ts';
import type { AuthRequirement } from './services.ts';

export interface RequestContext {
  readonly requestId: string;
  /**
   * The matched route pattern (`/v1/chat/completions`); `undefined` when no route matched.
   * Read once at the first hook: Fastify's `request.routeOptions` builds a new object per read.
   */
  readonly route: string | undefined;
  /** The route's `config.auth` (`'key'` when absent). */
  readonly auth: AuthRequirement;
  /** `performance.now()` at the first hook. */
  readonly startedAt: number;
  /** Set by the auth hook; `null` only on routes with `auth: 'none'`. */
  principal: Principal | null;
  /** The web console session the principal came from, when the request carried its cookie and no key. */
  session?: ConsoleSession;
  /** A configured model group, once the route has validated it; `''` otherwise (metric label). */
  modelGroup: string;
  /** Milliseconds spent waiting on upstreams; `null` when no upstream call was made. */
  upstreamMs: number | null;
  /** Milliseconds spent waiting for a slow client to drain a stream. */
  clientWaitMs: number;
  /** The request's span, when tracing is on. */
  trace?: TraceSpan;
  /** The deployment whose attempt answered (set by the router's `onAttempt`), for the spend ledger. */
  deploymentId: string | null;
  /** A model request's tags (LiteLLM's `tags`, `metadata.tags`, `x-litellm-tags`), when it has any. */
  tags?: readonly string[];
  /** Who a model request is for, as the client named them (LiteLLM's `end_user`), when it did. */
  endUser?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    portico: RequestContext;
  }
  interface FastifyContextConfig {
    /** Who may call the route; `'key'` when absent. */
    auth?: AuthRequirement;
    /** On the model routes: the endpoint's path without `/v1` (`spec/endpoints.ts`). */
    modelEndpoint?: string;
    /** `messages-api`: errors in Anthropic's shape (the routes of Anthropic's Messages API); absent: OpenAI's envelope. */
    errorShape?: 'messages-api';
  }
}

/** The authenticated caller; throws if a route without auth asks (a programming error). */
export function principalOf(request: { portico: RequestContext }): Principal {
  const principal = request.portico.principal;
  if (principal === null) throw new Error('principalOf() called on a route without authentication');
  return principal;
}

/** Adds `ms` of upstream waiting time to the request. */
export function addUpstreamTime(context: RequestContext, ms: number): void {
  context.upstreamMs = (context.upstreamMs ?? 0) + ms;
}
