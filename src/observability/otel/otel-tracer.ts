/**
 * The OpenTelemetry SDK behind `Tracer` (loaded only when tracing is on): a tracer provider with
 * a batch span processor and the OTLP/HTTP exporter, configured by the standard variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `..._HEADERS`,
 * `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, `OTEL_BSP_*`), and the
 * W3C trace-context propagator for `traceparent` in and out.
 */
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import type { SpanAttributes, TraceExport, TraceSpan, Tracer } from '../tracing.ts';

const propagator = new W3CTraceContextPropagator();

function samplerFrom(env: NodeJS.ProcessEnv): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase();
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  const root = name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(Number.isFinite(ratio) ? ratio : 1) : new AlwaysOnSampler();
  return name.startsWith('parentbased') ? new ParentBasedSampler({ root }) : root;
}

function numberFrom(value: string | undefined): number | undefined {
  const number = Number(value);
  return value !== undefined && Number.isFinite(number) && number >= 0 ? number : undefined;
}

export interface OtelTracerOptions {
  /** Attributes never exported, whatever a span is given (`redact_user_api_key_info`: the key's). */
  withheld?: ReadonlySet<string>;
  /** Export to the endpoint the `OTEL_*` variables name (default true). */
  standardExport?: boolean;
  /** Further OTLP/HTTP endpoints every span goes to (Langfuse's). */
  extraExports?: readonly TraceExport[];
}

function batchProcessor(exporter: OTLPTraceExporter, env: NodeJS.ProcessEnv): BatchSpanProcessor {
  return new BatchSpanProcessor(exporter, {
    scheduledDelayMillis: numberFrom(env.OTEL_BSP_SCHEDULE_DELAY),
    maxQueueSize: numberFrom(env.OTEL_BSP_MAX_QUEUE_SIZE),
    maxExportBatchSize: numberFrom(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE),
    exportTimeoutMillis: numberFrom(env.OTEL_BSP_EXPORT_TIMEOUT),
  });
}

export function createOtelTracer(env: NodeJS.ProcessEnv, options: OtelTracerOptions = {}): Tracer {
  const withheld = options.withheld ?? new Set<string>();
  const clean = (attributes: SpanAttributes): Record<string, string | number | boolean> => {
    const out: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(attributes)) if (value !== undefined && !withheld.has(key)) out[key] = value;
    return out;
  };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? 'portico' }),
    sampler: samplerFrom(env),
    spanProcessors: [
      ...(options.standardExport === false ? [] : [batchProcessor(new OTLPTraceExporter(), env)]),
      ...(options.extraExports ?? []).map((target) => batchProcessor(new OTLPTraceExporter({ url: target.url, headers: { ...target.headers } }), env)),
    ],
  });
  const tracer = provider.getTracer('portico');
  const spanOf = (handle: TraceSpan) => handle as unknown as Span;
  const contextOf = (parent: TraceSpan | undefined): Context => (parent === undefined ? context.active() : trace.setSpan(context.active(), spanOf(parent)));

  return {
    startRequest(name, traceparent, attributes) {
      const parent = traceparent === undefined ? context.active() : propagator.extract(context.active(), { traceparent }, { get: (carrier, key) => carrier[key as 'traceparent'], keys: () => ['traceparent'] });
      return tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: clean(attributes) }, parent) as unknown as TraceSpan;
    },
    startSpan(name, parent, kind, attributes) {
      return tracer.startSpan(name, { kind: kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: clean(attributes) }, contextOf(parent)) as unknown as TraceSpan;
    },
    setAttributes(handle, attributes) {
      spanOf(handle).setAttributes(clean(attributes));
    },
    end(handle, error) {
      const span = spanOf(handle);
      if (error !== undefined) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        span.setAttribute('error.type', error instanceof Error ? error.name : 'error');
      }
      span.end();
    },
    traceparentOf(handle) {
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(context.active(), spanOf(handle)), carrier, { set: (target, key, value) => (target[key] = value) });
      return carrier.traceparent ?? '';
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}
