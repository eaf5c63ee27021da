/**
 * `GET /metrics` with several workers (`--num_workers`): whichever worker takes the scrape answers
 * for all of them, so one scrape target is one Portico, as with a single process. Each worker's
 * registry counts only what that process served; the scraped worker asks the primary, the primary
 * collects every worker's metrics over the cluster's IPC channel and sums them with prom-client's
 * `AggregatorRegistry.aggregate` (each metric by its `aggregator`: counters and histograms
 * summed, `portico_redis_available` the minimum, process metrics as prom-client defines), and
 * sends the text back.
 *
 * A worker that does not answer within `COLLECT_TIMEOUT_MS` (starting, or stuck) is left out of
 * that scrape rather than failing it; `portico_metrics_workers_reporting` says how many answered.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Gauge, type Registry } from 'prom-client';

const COLLECT_TIMEOUT_MS = 2_000;
/** A worker asks the primary for everyone's metrics; the primary's answer. */
const ALL_METRICS_REQUEST = 'portico:all-metrics-request';
const ALL_METRICS_ANSWER = 'portico:all-metrics-answer';
/** The primary asks each worker for its own metrics; the worker's answer. */
const OWN_METRICS_REQUEST = 'portico:own-metrics-request';
const OWN_METRICS_ANSWER = 'portico:own-metrics-answer';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

interface Message {
  type?: unknown;
  id?: number;
  text?: string;
  error?: string;
  metrics?: MetricsJson;
}

const isMessage = (value: unknown): value is Message => typeof value === 'object' && value !== null;

/** In a worker: answers the primary's requests for this worker's metrics from `registry`. */
export function answerOwnMetrics(registry: Registry): void {
  process.on('message', (message: unknown) => {
    if (!isMessage(message) || message.type !== OWN_METRICS_REQUEST) return;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: OWN_METRICS_ANSWER, id: message.id, metrics }),
      (error: unknown) => process.send?.({ type: OWN_METRICS_ANSWER, id: message.id, error: String(error) }),
    );
  });
}

let nextRequestId = 0;
const waitingForAll = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();
let listeningForAnswers = false;

/** In a worker: every worker's metrics, summed, as Prometheus text. */
export function metricsOfAllWorkers(): Promise<string> {
  if (!listeningForAnswers) {
    listeningForAnswers = true;
    process.on('message', (message: unknown) => {
      if (!isMessage(message) || message.type !== ALL_METRICS_ANSWER || message.id === undefined) return;
      const waiting = waitingForAll.get(message.id);
      waitingForAll.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message.text ?? '');
    });
  }
  const id = nextRequestId++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      waitingForAll.delete(id);
      reject(new Error('the primary process did not answer with the metrics of the workers'));
    }, 2 * COLLECT_TIMEOUT_MS);
    waitingForAll.set(id, {
      resolve: (text) => (clearTimeout(timer), resolve(text)),
      reject: (error) => (clearTimeout(timer), reject(error)),
    });
    process.send?.({ type: ALL_METRICS_REQUEST, id });
  });
}

/** In the primary: answers the workers' requests for everyone's metrics. */
export function serveWorkerMetrics(): void {
  let nextCollectId = 0;
  const collecting = new Map<number, (worker: Worker, message: Message) => void>();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === OWN_METRICS_ANSWER && message.id !== undefined) collecting.get(message.id)?.(worker, message);
    if (message.type !== ALL_METRICS_REQUEST) return;
    const collectId = nextCollectId++;
    const asked = Object.values(cluster.workers ?? {}).filter((candidate): candidate is Worker => candidate !== undefined && candidate.isConnected());
    const answers: MetricsJson[] = [];
    let pending = asked.length;
    const finish = () => {
      collecting.delete(collectId);
      clearTimeout(timer);
      aggregate(answers).then(
        (text) => worker.send({ type: ALL_METRICS_ANSWER, id: message.id, text }),
        (error: unknown) => worker.send({ type: ALL_METRICS_ANSWER, id: message.id, error: String(error) }),
      );
    };
    const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
    collecting.set(collectId, (_from, answer) => {
      if (answer.metrics !== undefined) answers.push(answer.metrics);
      pending -= 1;
      if (pending === 0) finish();
    });
    for (const each of asked) each.send({ type: OWN_METRICS_REQUEST, id: collectId });
  });
}

async function aggregate(answers: readonly MetricsJson[]): Promise<string> {
  const registry = AggregatorRegistry.aggregate(answers as MetricsJson[]);
  new Gauge({ name: 'portico_metrics_workers_reporting', help: 'Workers whose metrics this scrape sums (the others did not answer in time).', registers: [registry] }).set(answers.length);
  return registry.metrics();
}
