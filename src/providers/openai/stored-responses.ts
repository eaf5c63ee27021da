/**
 * The responses an OpenAI-shaped upstream stored (`store`, on by default): read, delete, list
 * their input items, cancel a background one. Passed through as the upstream answers them; the
 * gateway's ids are turned into the upstream's before this (`managed/responses/`).
 */
import type { CallOptions, StoredResponsesCapability, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { type CallContext, callJson, callStream } from './call.ts';

export function createStoredResponsesCapability(ctx: CallContext): StoredResponsesCapability {
  return Object.freeze({
    retrieve: (responseId: string, query: URLSearchParams, options?: CallOptions): Promise<UpstreamJsonResponse> =>
      callJson(ctx, { method: 'GET', operation: { kind: 'response', responseId }, what: 'response retrieval', query }, options),
    retrieveStream: (responseId: string, query: URLSearchParams, options?: CallOptions): Promise<UpstreamStream> => {
      const streamed = new URLSearchParams(query);
      streamed.set('stream', 'true');
      return callStream(ctx, { method: 'GET', operation: { kind: 'response', responseId }, what: 'response event stream', query: streamed }, options);
    },
    delete: (responseId: string, options?: CallOptions): Promise<UpstreamJsonResponse> =>
      callJson(ctx, { method: 'DELETE', operation: { kind: 'response', responseId }, what: 'response deletion' }, options),
    inputItems: (responseId: string, query: URLSearchParams, options?: CallOptions): Promise<UpstreamJsonResponse> =>
      callJson(ctx, { method: 'GET', operation: { kind: 'responseInputItems', responseId }, what: 'response input items', query }, options),
    cancel: (responseId: string, options?: CallOptions): Promise<UpstreamJsonResponse> =>
      callJson(ctx, { method: 'POST', operation: { kind: 'responseCancel', responseId }, what: 'response cancellation' }, options),
  } satisfies StoredResponsesCapability);
}
