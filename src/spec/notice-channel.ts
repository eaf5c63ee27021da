/**
 * A notice every instance and worker of one Portico hears: Redis pub/sub when Redis is
 * configured, the primary process over IPC for workers without it (`coordination/`). Best
 * effort: a notice lost while Redis is away is made good by whatever the notice only hurries
 * (a cache's TTL, a job's poll), never relied on for correctness. `publish` never throws; the
 * publisher hears its own notice too.
 */
export interface NoticeChannel {
  publish(words: readonly string[]): Promise<void>;
  subscribe(listener: (words: readonly string[]) => void): void;
}
