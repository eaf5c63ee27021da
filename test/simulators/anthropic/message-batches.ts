/**
 * Anthropic Message Batches state and lifecycle (WIRE.md §3; docs "Batch processing").
 *
 * `processing_status`: in_progress -> ended, or in_progress -> canceling -> ended. Each
 * `advance()` processes half of a batch's remaining requests: the FIRST advance processes the
 * first floor(n/2) requests, the SECOND processes the rest and ends the batch. A cancel between
 * the two leaves the unprocessed requests `canceled`. `request_counts` stay all in `processing`
 * until the batch ends. Params are validated only when a request is processed (asynchronously,
 * as the real API does): bad params become an `errored` result.
 *
 * Outcome controls: `forceOutcome(customIds, 'expired' | 'canceled')`, or a request whose last user
 * text is `EXPIRE` / `CANCEL`, ends that request so; `expire(id)` ends the batch at once with
 * every unprocessed request `expired`. Results are listed in REVERSED request order (the API
 * does not keep request order).
 */
import { randomBase62 } from '../common/ids.ts';
import { textOf } from '../common/fake-model.ts';
import { validateMessageParams } from './validate-params.ts';
import { createMessage } from './messages.ts';
import type { MessageContext } from './messages.ts';
import { anthropicErrorBody } from './errors.ts';

type Json = Record<string, unknown>;

export const EXPIRE_MARKER = 'EXPIRE';
export const CANCEL_MARKER = 'CANCEL';

export interface SimulatedMessageBatch {
  id: string;
  type: 'message_batch';
  processing_status: 'in_progress' | 'canceling' | 'ended';
  request_counts: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
  ended_at: string | null;
  created_at: string;
  expires_at: string;
  archived_at: string | null;
  cancel_initiated_at: string | null;
  results_url: string | null;
}

export interface BatchRequest {
  custom_id: string;
  params: Json;
}

interface BatchState {
  seq: number;
  requests: BatchRequest[];
  results: Map<string, Json>;
  advances: number;
}

type ForcedOutcome = 'expired' | 'canceled';

export class MessageBatchStore {
  readonly batches = new Map<string, SimulatedMessageBatch>();
  private readonly state = new Map<string, BatchState>();
  private readonly forced = new Map<string, ForcedOutcome>();
  private nextSeq = 0;
  private readonly ctx: MessageContext;
  private readonly resultsUrl: (id: string) => string;

  constructor(ctx: MessageContext, resultsUrl: (id: string) => string) {
    this.ctx = ctx;
    this.resultsUrl = resultsUrl;
  }

  create(requests: BatchRequest[]): SimulatedMessageBatch {
    const now = new Date();
    const batch: SimulatedMessageBatch = {
      id: `msgbatch_01${randomBase62(22)}`,
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + 86_400_000).toISOString(),
      archived_at: null,
      cancel_initiated_at: null,
      results_url: null,
    };
    this.batches.set(batch.id, batch);
    this.state.set(batch.id, { seq: this.nextSeq++, requests, results: new Map(), advances: 0 });
    return batch;
  }

  /** Most recent first; `after_id` pages toward older batches, `before_id` toward newer ones. */
  list(q: { afterId?: string; beforeId?: string; limit: number }): { data: SimulatedMessageBatch[]; hasMore: boolean } {
    const all = [...this.batches.values()].sort((a, b) => this.state.get(b.id)!.seq - this.state.get(a.id)!.seq);
    if (q.afterId) {
      const i = all.findIndex((b) => b.id === q.afterId);
      const rest = i < 0 ? [] : all.slice(i + 1);
      return { data: rest.slice(0, q.limit), hasMore: rest.length > q.limit };
    }
    if (q.beforeId) {
      const i = all.findIndex((b) => b.id === q.beforeId);
      const rest = i < 0 ? [] : all.slice(0, i);
      return { data: rest.slice(Math.max(0, rest.length - q.limit)), hasMore: rest.length > q.limit };
    }
    return { data: all.slice(0, q.limit), hasMore: all.length > q.limit };
  }

  cancel(id: string): void {
    const batch = this.batches.get(id)!;
    if (batch.processing_status !== 'in_progress') return;
    batch.processing_status = 'canceling';
    batch.cancel_initiated_at = new Date().toISOString();
  }

  delete(id: string): void {
    this.batches.delete(id);
    this.state.delete(id);
  }

  /** Result lines (JSONL) of an ended batch. */
  resultsJsonl(id: string): string {
    const state = this.state.get(id)!;
    return [...state.requests]
      .reverse()
      .map((r) => JSON.stringify({ custom_id: r.custom_id, result: state.results.get(r.custom_id) }))
      .join('\n') + '\n';
  }

  forceOutcome(customIds: string[], outcome: ForcedOutcome): void {
    for (const id of customIds) this.forced.set(id, outcome);
  }

  advance(): void {
    for (const batch of this.batches.values()) {
      if (batch.processing_status === 'ended') continue;
      const state = this.state.get(batch.id)!;
      if (batch.processing_status === 'canceling') {
        this.end(batch, state, 'canceled');
        continue;
      }
      state.advances++;
      const pending = state.requests.filter((r) => !state.results.has(r.custom_id));
      const take = state.advances === 1 ? Math.floor(state.requests.length / 2) : pending.length;
      for (const r of pending.slice(0, take)) state.results.set(r.custom_id, this.process(r));
      if (state.advances >= 2) this.end(batch, state, 'expired');
    }
  }

  /** End a live batch now: unprocessed requests become `expired`. */
  expire(id: string): void {
    const batch = this.batches.get(id);
    if (!batch || batch.processing_status === 'ended') return;
    this.end(batch, this.state.get(id)!, 'expired');
  }

  private process(r: BatchRequest): Json {
    const forced = this.forced.get(r.custom_id) ?? markerOutcome(r.params);
    if (forced) return { type: forced };
    const invalid = validateMessageParams(r.params, { batch: true });
    const outcome = invalid ? { error: invalid } : createMessage(r.params, this.ctx);
    if ('message' in outcome) return { type: 'succeeded', message: outcome.message };
    return { type: 'errored', error: anthropicErrorBody(outcome.error.status, outcome.error.message || undefined, null) };
  }

  private end(batch: SimulatedMessageBatch, state: BatchState, unprocessed: ForcedOutcome): void {
    for (const r of state.requests) if (!state.results.has(r.custom_id)) state.results.set(r.custom_id, { type: unprocessed });
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    for (const result of state.results.values()) counts[result.type as 'succeeded' | 'errored' | 'canceled' | 'expired']++;
    batch.request_counts = counts;
    batch.processing_status = 'ended';
    batch.ended_at = new Date().toISOString();
    batch.results_url = this.resultsUrl(batch.id);
  }
}

function markerOutcome(params: Json): ForcedOutcome | null {
  const messages = Array.isArray(params?.messages) ? (params.messages as Json[]) : [];
  const lastUser = [...messages].reverse().find((m) => m?.role === 'user');
  const text = textOf(lastUser?.content).trim();
  if (text === EXPIRE_MARKER) return 'expired';
  if (text === CANCEL_MARKER) return 'canceled';
  return null;
}
