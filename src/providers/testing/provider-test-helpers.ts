/**
 * Helpers for provider tests: deployments built through the real config loader, and small
 * readers for streams. No fakes: tests talk to the simulators in test/simulators/.
 */
import { Readable } from 'node:stream';
import { parseConfig } from '../../config/load-config.ts';
import type { Deployment } from '../../spec/provider.ts';
import { sseEvents } from '../http/sse.ts';

/** One deployment from a `litellm_params` YAML flow mapping. */
export function deploymentFrom(litellmParams: string, modelGroup = 'group', modelInfo = ''): Deployment {
  const info = modelInfo ? `\n    model_info: ${modelInfo}` : '';
  const config = parseConfig(`model_list:\n  - model_name: ${modelGroup}\n    litellm_params: ${litellmParams}${info}\n`, {});
  return config.deployments[0];
}

export async function collectText(source: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** The `data:` payloads of an SSE stream, JSON-parsed except `[DONE]`. */
export async function collectSseData(source: AsyncIterable<Uint8Array>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const event of sseEvents(source)) out.push(event.data === '[DONE]' ? '[DONE]' : JSON.parse(event.data));
  return out;
}

export function readableOf(text: string): { content: Readable; bytes: number } {
  const bytes = Buffer.byteLength(text);
  return { content: Readable.from([Buffer.from(text)]), bytes };
}

/** The assistant text of a stream of chat.completion.chunk objects. */
export function chatStreamText(events: unknown[]): string {
  let text = '';
  for (const event of events) {
    if (event === '[DONE]') continue;
    const choices = (event as { choices?: Array<{ delta?: { content?: string | null } }> }).choices ?? [];
    for (const choice of choices) text += choice.delta?.content ?? '';
  }
  return text;
}

/**
 * `provider.createClient`'s arguments for a deployment the config loader built: the deployment
 * and its parsed settings (`provider.createClient(...withSettings(deployment))`). The settings
 * are typed `never` here: they are whatever that provider's schema made of the params.
 */
export function withSettings(deployment: Deployment): [Deployment, never] {
  return [deployment, deployment.settings as never];
}
