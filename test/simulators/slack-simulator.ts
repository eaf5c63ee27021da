/**
 * Simulator of Slack's incoming webhooks (https://api.slack.com/messaging/webhooks, errors at
 * https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks) for Portico's
 * alerting tests: a REMOTE service double written from Slack's public reference, not from
 * Portico, proven by Slack's official `@slack/webhook` client in slack-simulator.test.ts.
 *
 * `POST /services/<team>/<bot>/<secret>` with a JSON body carrying `text` (or `blocks`): 200 `ok`
 * (plain text). A body without either: 400 `no_text`; not JSON: 400 `invalid_payload`; a path
 * that names no webhook created here: 404 `no_service`. Every message received is kept, in order.
 */
import { randomHex } from './common/ids.ts';
import { startSimulatorServer, type BaseSimulator, type SimReply } from './common/simulator-server.ts';

export interface SlackMessage {
  /** The webhook's path (`/services/T.../B.../...`). */
  path: string;
  text?: string;
  blocks?: unknown[];
  body: Record<string, unknown>;
}

export interface SlackSimulator extends Omit<BaseSimulator, 'url' | 'advanceBatches'> {
  origin: string;
  /** A new incoming webhook's URL (each one a channel of its own). */
  newWebhookUrl(): string;
  messages: SlackMessage[];
}

const plain = (status: number, text: string): SimReply => ({ status, raw: text, headers: { 'content-type': 'text/plain; charset=utf-8' } });

export async function startSlackSimulator(): Promise<SlackSimulator> {
  const webhooks = new Set<string>();
  const messages: SlackMessage[] = [];
  let origin = '';
  const server = await startSimulatorServer({
    routes: [
      {
        method: 'POST',
        path: /^(\/services\/[A-Z0-9]+\/[A-Z0-9]+\/[A-Za-z0-9]+)$/,
        handle: (req, [path]) => {
          if (!webhooks.has(path)) return plain(404, 'no_service');
          if (req.jsonError || typeof req.json !== 'object' || req.json === null || Array.isArray(req.json)) return plain(400, 'invalid_payload');
          const body = req.json as Record<string, unknown>;
          const hasText = typeof body.text === 'string' && body.text !== '';
          const hasBlocks = Array.isArray(body.blocks) && body.blocks.length > 0;
          if (!hasText && !hasBlocks) return plain(400, 'no_text');
          messages.push({ path, ...(hasText && { text: body.text as string }), ...(hasBlocks && { blocks: body.blocks as unknown[] }), body });
          return plain(200, 'ok');
        },
      },
    ],
    notFound: () => plain(404, 'no_service'),
    authenticate: () => null,
    failureBody: () => 'internal_error',
    responseHeaders: () => ({ 'x-slack-req-id': randomHex(16) }),
  });
  origin = server.origin;
  return {
    requests: server.requests,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    close: () => server.close(),
    origin,
    messages,
    newWebhookUrl() {
      const path = `/services/T${randomHex(4).toUpperCase()}/B${randomHex(4).toUpperCase()}/${randomHex(12)}`;
      webhooks.add(path);
      return `${origin}${path}`;
    },
  };
}
