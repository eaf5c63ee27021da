/**
 * Tracing's door, always loaded and free when tracing is off: `activeTracer()` is undefined
 * unless `enableTracing` ran, and every call site does nothing but that check. The OpenTelemetry
 * SDK (`otel/otel-tracer.ts`) is imported only by `enableTracing`, so a Portico without tracing
 * never loads it.
 *
 * Spans: one per request (SERVER, continuing the client's W3C `traceparent`), `auth` inside it,
 * one per upstream attempt (CLIENT, with the GenAI semantic conventions' attributes, its
 * `traceparent` sent upstream) and one per batch line of the engine.
 */
import type { Logger } from './logger.ts';

/** A span, opaque outside the tracer. */
export interface TraceSpan {
  readonly kind: 'portico.span';
}

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

export interface Tracer {
  /** A request's span; `traceparent` (the client's header) makes it a child in the client's trace. */
  startRequest(name: string, traceparent: string | undefined, attributes: SpanAttributes): TraceSpan;
  /** A span inside `parent` (or a new trace); `client` for calls to another service. */
  startSpan(name: string, parent: TraceSpan | undefined, kind: 'internal' | 'client', attributes: SpanAttributes): TraceSpan;
  setAttributes(span: TraceSpan, attributes: SpanAttributes): void;
  /** Ends the span, as failed when `error` is given. */
  end(span: TraceSpan, error?: unknown): void;
  /** The W3C `traceparent` header naming `span` (sent upstream, so the provider's spans join the trace). */
  traceparentOf(span: TraceSpan): string;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

let active: Tracer | undefined;

export function activeTracer(): Tracer | undefined {
  return active;
}

export interface TracingWish {
  /** `litellm_settings.callbacks` names `otel` (LiteLLM's way to turn OpenTelemetry on). */
  otelCallback: boolean;
}

/** The attributes naming the caller's key: left out of spans under LiteLLM's `redact_user_api_key_info`. */
export const KEY_INFO_ATTRIBUTES: ReadonlySet<string> = new Set(['portico.key_id', 'portico.master_key']);

/** An OTLP/HTTP traces endpoint of its own (Langfuse's), besides the one the `OTEL_*` variables name. */
export interface TraceExport {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface TracingOptions {
  /** LiteLLM's `litellm_settings.redact_user_api_key_info`: spans carry nothing about the caller's key. */
  redactKeyInfo?: boolean;
  /** Whether spans go to the OTLP endpoint of the `OTEL_*` variables (default true). */
  standardExport?: boolean;
  /** Further endpoints every span goes to (`litellm_settings.callbacks: ["langfuse_otel"]`). */
  extraExports?: readonly TraceExport[];
}

/** `OTEL_SDK_DISABLED=true`: no traces at all, Langfuse's included. */
export function otelSdkDisabled(env: NodeJS.ProcessEnv): boolean {
  return env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
}

/**
 * Whether to trace: the standard `OTEL_*` variables (an OTLP endpoint, `OTEL_TRACES_EXPORTER`
 * naming `otlp`) or LiteLLM's `callbacks: ["otel"]`; `OTEL_SDK_DISABLED=true` wins over both.
 */
export function tracingWanted(env: NodeJS.ProcessEnv, wish: TracingWish): boolean {
  if (otelSdkDisabled(env)) return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase());
  if (exporters.includes('none')) return false;
  return wish.otelCallback || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || exporters.includes('otlp');
}

/** Loads the SDK and makes it the active tracer (once per process). */
export async function enableTracing(env: NodeJS.ProcessEnv, logger: Logger, options: TracingOptions = {}): Promise<Tracer> {
  if (active) return active;
  const { createOtelTracer } = await import('./otel/otel-tracer.ts');
  const standardExport = options.standardExport !== false;
  active = createOtelTracer(env, {
    ...(options.redactKeyInfo === true && { withheld: KEY_INFO_ATTRIBUTES }),
    standardExport,
    extraExports: options.extraExports ?? [],
  });
  const endpoints = [
    ...(standardExport ? [env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318/v1/traces'] : []),
    ...(options.extraExports ?? []).map((target) => target.url),
  ];
  logger.info({ endpoints }, 'OpenTelemetry tracing on: spans are exported over OTLP/HTTP');
  return active;
}

/** Flushes and turns tracing off (graceful shutdown). */
export async function disableTracing(): Promise<void> {
  const tracer = active;
  active = undefined;
  await tracer?.shutdown();
}
