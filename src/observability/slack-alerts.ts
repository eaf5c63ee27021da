/**
 * LiteLLM's Slack alerting (`general_settings.alerting: ["slack"]`,
 * https://docs.litellm.ai/docs/proxy/alerting): messages posted to Slack incoming webhooks
 * (`SLACK_WEBHOOK_URL`, or one per alert type in `alert_to_webhook_url`), in LiteLLM's layout
 * (`Level`, `Timestamp`, `Message`). The alert types Portico sends:
 *
 * - `llm_exceptions`: a model request failed upstream (its final answer a 5xx or a 429, after
 *   retries and fallbacks), naming the model group, the status and the (redacted) error;
 * - `llm_too_slow`: a model request took longer than `alerting_threshold` (default 300 s);
 * - `db_exceptions`: a request failed because the database did not answer.
 *
 * The same alert (its type and subject: the model group and status, say) is posted at most once
 * per `repeatAfterMs`, so an outage is one message a minute, not one per request. Posting never
 * holds up a request: it runs in the background, and a failed post is logged, not retried.
 */
import type { Logger } from './logger.ts';

export const ALERT_TYPES = ['llm_exceptions', 'llm_too_slow', 'db_exceptions'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export type AlertLevel = 'Low' | 'Medium' | 'High';

export interface SlackAlertSettings {
  /** Incoming-webhook URLs by alert type; a type without any is not sent. */
  readonly webhookUrls: Readonly<Partial<Record<AlertType, readonly string[]>>>;
  /** `llm_too_slow` above this. */
  readonly slowThresholdMs: number;
  /** The same alert is posted at most once per this long. */
  readonly repeatAfterMs: number;
}

/** An alert's text in LiteLLM's layout, for every Slack alert Portico sends (live ones here, budget ones by the outbox). */
export function slackAlertText(level: AlertLevel, atMs: number, message: string): string {
  return `Level: \`${level}\`\nTimestamp: \`${new Date(atMs).toISOString()}\`\n\nMessage: ${message}`;
}

/** Posts `text` to an incoming webhook; rejects on a non-2xx answer. */
export type SlackPost = (url: string, text: string) => Promise<void>;

const POST_TIMEOUT_MS = 10_000;
/** Alerts remembered for `repeatAfterMs`; beyond this many subjects the memory starts over. */
const MAX_REMEMBERED = 1_000;

async function postToSlack(url: string, text: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
    signal: AbortSignal.timeout(POST_TIMEOUT_MS),
  });
  const answer = await response.text();
  if (!response.ok) throw new Error(`Slack answered ${response.status} ${answer.slice(0, 200)}`);
}

export class SlackAlerts {
  readonly #settings: SlackAlertSettings;
  readonly #logger: Logger;
  readonly #post: SlackPost;
  readonly #now: () => number;
  readonly #lastSent = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(settings: SlackAlertSettings, logger: Logger, options: { post?: SlackPost; now?: () => number } = {}) {
    this.#settings = settings;
    this.#logger = logger;
    this.#post = options.post ?? postToSlack;
    this.#now = options.now ?? Date.now;
  }

  get slowThresholdMs(): number {
    return this.#settings.slowThresholdMs;
  }

  /** Whether alerts of `type` go anywhere. */
  sends(type: AlertType): boolean {
    return (this.#settings.webhookUrls[type]?.length ?? 0) > 0;
  }

  /** Posts the alert unless the same one (type and subject) went out within `repeatAfterMs`. */
  alert(type: AlertType, subject: string, level: AlertLevel, message: string): void {
    const urls = this.#settings.webhookUrls[type];
    if (urls === undefined || urls.length === 0) return;
    const key = `${type}\u0000${subject}`;
    const now = this.#now();
    const last = this.#lastSent.get(key);
    if (last !== undefined && now - last < this.#settings.repeatAfterMs) return;
    if (this.#lastSent.size >= MAX_REMEMBERED) this.#lastSent.clear();
    this.#lastSent.set(key, now);
    const text = slackAlertText(level, now, message);
    for (const url of urls) {
      const posting = this.#post(url, text).catch((error: unknown) => {
        this.#logger.warn({ alert_type: type, err: error }, 'a Slack alert could not be posted');
      });
      this.#inFlight.add(posting);
      void posting.finally(() => this.#inFlight.delete(posting));
    }
  }

  /** Waits for the posts under way (graceful shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.#inFlight]);
  }
}
