/**
 * What every answer of Portico must satisfy, whatever the client sent (the upstreams behind it
 * are healthy, so nothing is the upstream's fault):
 *
 * - never a 5xx: anything the client can send is answered with a 4xx or a success;
 * - every error is OpenAI's envelope `{"error": {"message", "type", "param", "code"}}`, exactly
 *   those keys, with a JSON content type;
 * - a JSON content type carries JSON;
 * - a stream from a healthy upstream carries no error event.
 *
 * `checkAnswer` throws an Error naming the broken rule.
 */
import type { RawAnswer } from './raw-http.ts';
import { preview } from './raw-http.ts';

export function checkAnswer(answer: RawAnswer, isHead: boolean): void {
  const contentType = answer.header('content-type') ?? '';
  if (answer.status >= 500) {
    throw new Error(`answered ${answer.status}: ${preview(answer.body)}`);
  }
  if (answer.status >= 400) {
    if (!/^application\/json\b/i.test(contentType)) {
      throw new Error(`error ${answer.status} with content-type ${JSON.stringify(contentType)}: ${preview(answer.body)}`);
    }
    if (!isHead) checkEnvelope(answer);
    return;
  }
  if (isHead) return;
  if (/^application\/json\b/i.test(contentType)) {
    try {
      JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw new Error(`${answer.status} with a JSON content type that is not JSON: ${preview(answer.body)}`);
    }
  }
  if (/^text\/event-stream\b/i.test(contentType) && /^data: \{"error"/m.test(answer.body.toString('utf8'))) {
    throw new Error(`a stream from a healthy upstream carried an error event: ${preview(answer.body, 1000)}`);
  }
}

function checkEnvelope(answer: RawAnswer): void {
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new Error(`error ${answer.status} whose body is not JSON: ${preview(answer.body)}`);
  }
  const fail = (why: string) => new Error(`error ${answer.status} is not OpenAI's envelope (${why}): ${preview(answer.body)}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).join() !== 'error') throw fail('top level');
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null || Array.isArray(error)) throw fail('error is not an object');
  const fields = error as Record<string, unknown>;
  if (Object.keys(fields).sort().join() !== 'code,message,param,type') throw fail('keys');
  if (typeof fields.message !== 'string' || fields.message === '') throw fail('message');
  if (typeof fields.type !== 'string' || fields.type === '') throw fail('type');
  if (fields.param !== null && typeof fields.param !== 'string') throw fail('param');
  if (fields.code !== null && typeof fields.code !== 'string') throw fail('code');
}
