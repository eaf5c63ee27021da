/** An AbortSignal that fires when the client goes away before the response is complete. */
import type { FastifyReply, FastifyRequest } from 'fastify';

export function clientAbortSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  };
  request.raw.once('aborted', onClose);
  reply.raw.once('close', onClose);
  return controller.signal;
}
