/** Abort signals of one attempt: the client's (disconnect) combined with the deployment's timeout. */
import { UpstreamAbortedError } from '../providers/http/transport-errors.ts';
import { GatewayError } from '../spec/errors.ts';

export function attemptSignal(clientSignal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return clientSignal ? AbortSignal.any([clientSignal, timeout]) : timeout;
}

/** The error to surface when the client went away mid-request. */
export function abortedError(error: unknown): GatewayError {
  return error instanceof UpstreamAbortedError ? error : new UpstreamAbortedError(undefined, { cause: error });
}
