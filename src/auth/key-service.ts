/**
 * Virtual keys and the master key: authentication on the hot path, and the administration
 * behind `/key/generate`, `/key/info` and `/key/delete` (LiteLLM's key management API,
 * https://docs.litellm.ai/docs/proxy/virtual_keys).
 *
 * Time on records is unix seconds (`createdAt`, `expiresAt`), like OpenAI's timestamps.
 */
import { parseDurationMs } from './duration.ts';
import { randomBytes } from 'node:crypto';
import { AuthenticationError, InvalidRequestError } from '../spec/errors.ts';
import { ownerOf, type Principal } from '../spec/principal.ts';
import type { KeyStore, VirtualKeyPatch, VirtualKeyRecord } from '../storage/key-store.ts';
import type { ModelBudget, BudgetSubject } from '../spec/budget-subjects.ts';
import type { BudgetFields, ModelMaxBudget } from '../storage/budget-columns.ts';
import type { TeamRecord } from '../storage/team-store.ts';
import type { UserRecord } from '../storage/user-store.ts';
import { MAX_DURATION_MS } from './duration.ts';
import { KeyLookupCache } from './key-lookup-cache.ts';
import { generateKeySecret, hashKeySecret, VIRTUAL_KEY_PREFIX } from './key-secret.ts';
import { createMasterKeyMatcher, type MasterKeyMatcher } from './master-key.ts';

/** The master key (and every caller when Portico runs open, without a master key). */
export const MASTER_PRINCIPAL: Principal = Object.freeze({
  keyId: null,
  isMaster: true,
  owner: 'master',
  allowedModels: null,
  userId: null,
  teamId: null,
});

export interface GenerateKeyInput {
  /** Model groups the key may use; empty = all. */
  models: readonly string[];
  userId: string | null;
  teamId: string | null;
  keyAlias: string | null;
  /** Lifetime in milliseconds; `null` = never expires. */
  durationMs: number | null;
  metadata: Record<string, unknown>;
  /** Requests per minute (LiteLLM `rpm_limit`); absent or null = none. */
  rpmLimit?: number | null;
  /** Tokens per minute (LiteLLM `tpm_limit`); absent or null = none. */
  tpmLimit?: number | null;
  /** LiteLLM `max_budget` (USD): over it the key's model requests and batch creates are refused. */
  maxBudget?: number | null;
  /** LiteLLM `soft_budget` (USD): crossing it sends `budget.soft_exceeded` to webhooks. */
  softBudget?: number | null;
  /** LiteLLM `budget_duration` (`30d`, `1h`, ...): the spend goes back to 0 every such period. */
  budgetDuration?: string | null;
  /** LiteLLM `max_parallel_requests`: requests of the key in flight at once. */
  maxParallelRequests?: number | null;
  /** LiteLLM `model_max_budget`: budgets per model group. */
  modelMaxBudget?: ModelMaxBudget | null;
}

/**
 * The user and team of a key, read with the key into the key cache (their budgets and limits
 * apply to the key's requests without a database round trip per request).
 */
export interface KeyOwnersLookup {
  findUser(userId: string): Promise<UserRecord | undefined>;
  findTeam(teamId: string): Promise<TeamRecord | undefined>;
}

export interface GeneratedKey {
  /** The plaintext key: returned once, never stored. */
  secret: string;
  record: VirtualKeyRecord;
}

export interface KeyServiceOptions {
  /** `undefined`: open mode, every request is the master. */
  masterKey: string | undefined;
  cache?: { ttlMs?: number; maxStaleMs?: number; negativeTtlMs?: number; maxEntries?: number };
  /** Milliseconds clock (tests). */
  now?: () => number;
  onCacheRefreshError?: (error: unknown) => void;
  /** Deletions told to, and heard from, the other instances and workers (Redis pub/sub). */
  evictions?: KeyEvictionChannel;
  /** The key's user and team (budgets, limits, the team's models); absent: keys only. */
  owners?: KeyOwnersLookup;
}

/**
 * Tells the other processes serving the same keys (instances, workers) which keys were deleted,
 * so their caches drop them at once rather than within the TTL. Best effort: the TTL still bounds
 * how long a missed message matters. `publish` never throws.
 */
export interface KeyEvictionChannel {
  publish(keyHashes: readonly string[]): Promise<void>;
  subscribe(onEvicted: (keyHashes: readonly string[]) => void): void;
}

/** What the cache holds per key hash: the principal plus what can make it stop working. */
interface CachedKey {
  principal: Principal;
  expiresAt: number | null;
  blocked: boolean;
  teamBlocked: boolean;
}

/** The subset of `KeyStore` this service uses (an in-memory fake can stand in for tests). */
export type KeyStorePort = Pick<KeyStore, 'insert' | 'findByHash' | 'findById' | 'deleteByHashes' | 'list' | 'count'> & Partial<Pick<KeyStore, 'updateByHash'>>;

export class KeyService {
  /** True when no master key is configured: every request is the master. */
  readonly isOpen: boolean;
  private readonly store: KeyStorePort;
  private readonly matchesMasterKey: MasterKeyMatcher | null;
  private readonly cache: KeyLookupCache<CachedKey>;
  private readonly now: () => number;
  private readonly evictions: KeyEvictionChannel | undefined;

  constructor(store: KeyStorePort, options: KeyServiceOptions) {
    this.store = store;
    this.isOpen = options.masterKey === undefined;
    this.matchesMasterKey = this.isOpen ? null : createMasterKeyMatcher(options.masterKey as string);
    this.now = options.now ?? Date.now;
    this.cache = new KeyLookupCache<CachedKey>({
      load: async (keyHash) => {
        const record = await this.store.findByHash(keyHash);
        if (record === undefined) return null;
        const owners = options.owners;
        const [user, team] = await Promise.all([
          record.userId === null || owners === undefined ? undefined : owners.findUser(record.userId),
          record.teamId === null || owners === undefined ? undefined : owners.findTeam(record.teamId),
        ]);
        return toCachedKey(record, user, team);
      },
      ...options.cache,
      now: this.now,
      onRefreshError: options.onCacheRefreshError,
    });
    this.evictions = options.evictions;
    this.evictions?.subscribe((keyHashes) => {
      for (const keyHash of keyHashes) this.cache.evict(keyHash);
    });
  }

  /**
   * The caller behind a presented key. Throws `AuthenticationError` (401) for no key, an unknown
   * key, an expired key or a blocked key.
   */
  async authenticate(presented: string | undefined): Promise<Principal> {
    if (this.matchesMasterKey === null) return MASTER_PRINCIPAL;
    if (presented === undefined) {
      throw new AuthenticationError(
        "You didn't provide an API key. Provide it in the Authorization header (Authorization: Bearer YOUR_KEY) or the api-key header.",
        { code: 'missing_api_key' },
      );
    }
    if (this.matchesMasterKey(presented)) return MASTER_PRINCIPAL;
    const cached = presented.startsWith(VIRTUAL_KEY_PREFIX) ? await this.cache.get(hashKeySecret(presented)) : null;
    if (cached === null) throw new AuthenticationError(`Incorrect API key provided: ${maskKey(presented)}.`);
    return this.#usable(cached);
  }

  /**
   * The caller behind a virtual key known by its hash (a console session names its key so, never
   * by the secret): the same cache and the same checks as `authenticate`.
   */
  async authenticateKeyHash(keyHash: string): Promise<Principal> {
    const cached = await this.cache.get(keyHash);
    if (cached === null) throw new AuthenticationError('The key of this session no longer exists.', { code: 'invalid_session' });
    return this.#usable(cached);
  }

  #usable(cached: CachedKey): Principal {
    if (cached.blocked) throw new AuthenticationError('This API key has been blocked.', { code: 'key_blocked' });
    if (cached.teamBlocked) throw new AuthenticationError("This API key's team has been blocked.", { code: 'team_blocked' });
    if (cached.expiresAt !== null && cached.expiresAt * 1000 <= this.now()) {
      throw new AuthenticationError('This API key has expired.', { code: 'key_expired' });
    }
    return cached.principal;
  }

  /** Whether `presented` is the master key (constant time). */
  isMasterKey(presented: string): boolean {
    return this.matchesMasterKey === null || this.matchesMasterKey(presented);
  }

  async generate(input: GenerateKeyInput): Promise<GeneratedKey> {
    // Checked before anything is written: an expiry no Date can hold would fail only later,
    // when the key is shown, after its row exists.
    if (input.durationMs !== null && !(Number.isSafeInteger(input.durationMs) && input.durationMs > 0 && input.durationMs <= MAX_DURATION_MS)) {
      throw new InvalidRequestError('Invalid value for \'duration\': expected a positive duration of at most 1000y.', { param: 'duration', code: 'invalid_value' });
    }
    const secret = generateKeySecret();
    const createdAtMs = this.now();
    const record: VirtualKeyRecord = {
      id: newKeyId(),
      keyHash: hashKeySecret(secret),
      keyAlias: input.keyAlias,
      userId: input.userId,
      teamId: input.teamId,
      models: [...input.models],
      metadata: input.metadata,
      spend: 0,
      createdAt: Math.floor(createdAtMs / 1000),
      expiresAt: input.durationMs === null ? null : Math.floor((createdAtMs + input.durationMs) / 1000),
      blocked: false,
      ...(input.rpmLimit != null && { rpmLimit: input.rpmLimit }),
      ...(input.tpmLimit != null && { tpmLimit: input.tpmLimit }),
      ...(input.maxBudget != null && { maxBudget: input.maxBudget }),
      ...(input.softBudget != null && { softBudget: input.softBudget }),
      ...(input.budgetDuration != null && {
        budgetDuration: input.budgetDuration,
        budgetResetAt: Math.floor((createdAtMs + (parseDurationMs(input.budgetDuration) ?? 0)) / 1000),
      }),
      ...(input.maxParallelRequests != null && { maxParallelRequests: input.maxParallelRequests }),
      ...(input.modelMaxBudget != null && { modelMaxBudget: input.modelMaxBudget }),
    };
    await this.store.insert(record);
    return { secret, record };
  }

  /**
   * Changes a key (`/key/update`); answers it after the change, or undefined when it does not
   * exist. Every process drops its cached copy at once (as on delete), so new limits, budgets and
   * models apply from the next request.
   */
  async update(secretOrId: string, patch: VirtualKeyPatch): Promise<VirtualKeyRecord | undefined> {
    const record = await this.find(secretOrId);
    if (record === undefined) return undefined;
    const updated = await this.#updateStore(record.keyHash, patch);
    await this.#evict([record.keyHash]);
    return updated;
  }

  /**
   * A new secret for a key (`/key/regenerate`): same id, limits and spend; the old secret stops
   * working at once on every process (its cache entry is evicted here and through `evictions`).
   */
  async regenerate(secretOrId: string, patch: VirtualKeyPatch = {}): Promise<GeneratedKey | undefined> {
    const record = await this.find(secretOrId);
    if (record === undefined) return undefined;
    const secret = generateKeySecret();
    const updated = await this.#updateStore(record.keyHash, { ...patch, keyHash: hashKeySecret(secret) });
    await this.#evict([record.keyHash]);
    return updated === undefined ? undefined : { secret, record: updated };
  }

  /** Drops keys whose user or team changed from every process's cache (their budgets are read with the key). */
  async evictKeysOf(filter: { userId?: string; teamId?: string }): Promise<void> {
    const { keys } = await this.list({ offset: 0, limit: 10_000, ...filter });
    if (keys.length > 0) await this.#evict(keys.map((key) => key.keyHash));
  }

  async #updateStore(keyHash: string, patch: VirtualKeyPatch): Promise<VirtualKeyRecord | undefined> {
    if (this.store.updateByHash === undefined) throw new Error('this key store cannot update keys');
    return this.store.updateByHash(keyHash, patch);
  }

  async #evict(keyHashes: readonly string[]): Promise<void> {
    for (const keyHash of keyHashes) this.cache.evict(keyHash);
    await this.evictions?.publish(keyHashes);
  }

  /** One page of keys, newest first, and how many there are in all (`/key/list`). */
  async list(page: { offset: number; limit: number; userId?: string; teamId?: string }): Promise<{ keys: VirtualKeyRecord[]; total: number }> {
    const filter = { userId: page.userId, teamId: page.teamId };
    const [keys, total] = await Promise.all([this.store.list({ ...filter, offset: page.offset, limit: page.limit }), this.store.count(filter)]);
    return { keys, total };
  }

  /** A key by its secret (`sk-...`) or its id (`token`); `undefined` when unknown. */
  async find(secretOrId: string): Promise<VirtualKeyRecord | undefined> {
    if (secretOrId.startsWith(VIRTUAL_KEY_PREFIX)) return this.store.findByHash(hashKeySecret(secretOrId));
    return this.store.findById(secretOrId);
  }

  /**
   * Deletes keys given by secret or id; answers the entries (as given) that existed. Evicts them
   * from this process's cache at once, and tells the others (`evictions`, with Redis); a process
   * that missed the message drops them within the cache TTL.
   */
  async delete(secretsOrIds: readonly string[]): Promise<string[]> {
    const found: { entry: string; record: VirtualKeyRecord }[] = [];
    for (const entry of new Set(secretsOrIds)) {
      const record = await this.find(entry);
      if (record !== undefined) found.push({ entry, record });
    }
    if (found.length === 0) return [];
    const deletedIds = new Set(await this.store.deleteByHashes([...new Set(found.map(({ record }) => record.keyHash))]));
    await this.#evict([...new Set(found.map(({ record }) => record.keyHash))]);
    return found.filter(({ record }) => deletedIds.has(record.id)).map(({ entry }) => entry);
  }
}

function toCachedKey(record: VirtualKeyRecord, user: UserRecord | undefined, team: TeamRecord | undefined): CachedKey {
  const subjects: BudgetSubject[] = [budgetSubject('key', record.id, record)];
  if (user !== undefined) subjects.push(budgetSubject('user', user.userId, user));
  if (team !== undefined) subjects.push(budgetSubject('team', team.teamId, team));
  return {
    principal: Object.freeze({
      keyId: record.id,
      isMaster: false,
      owner: ownerOf(record),
      allowedModels: allowedModelsOf(record.models, team?.models ?? []),
      userId: record.userId,
      teamId: record.teamId,
      ...(record.rpmLimit !== undefined && { rpmLimit: record.rpmLimit }),
      ...(record.tpmLimit !== undefined && { tpmLimit: record.tpmLimit }),
      ...(record.maxBudget !== undefined && { budget: Object.freeze({ max: record.maxBudget, spend: record.spend }) }),
      budgetSubjects: Object.freeze(subjects),
      names: Object.freeze({ keyHash: record.keyHash, keyAlias: record.keyAlias, teamAlias: team?.teamAlias ?? null }),
      ...keyTagsOf(record.metadata),
    }),
    expiresAt: record.expiresAt,
    blocked: record.blocked,
    teamBlocked: team?.blocked ?? false,
  };
}

/** A key's `metadata.tags` (strings, trimmed, each once), as LiteLLM reads tags set on a key. */
function keyTagsOf(metadata: Readonly<Record<string, unknown>>): { tags?: readonly string[] } {
  const tags = metadata.tags;
  if (!Array.isArray(tags)) return {};
  const kept = [...new Set(tags.filter((tag): tag is string => typeof tag === 'string' && tag.trim() !== '').map((tag) => tag.trim()))];
  return kept.length === 0 ? {} : { tags: Object.freeze(kept) };
}

/** A key of a team may use the team's models only (LiteLLM), and of those its own list if it has one. */
function allowedModelsOf(keyModels: readonly string[], teamModels: readonly string[]): ReadonlySet<string> | null {
  if (teamModels.length === 0) return keyModels.length === 0 ? null : new Set(keyModels);
  if (keyModels.length === 0) return new Set(teamModels);
  return new Set(keyModels.filter((model) => teamModels.includes(model)));
}

/** A key's, user's or team's budget columns (`storage/budget-columns.ts`), without what only users and teams carry. */
type BudgetSource = Omit<BudgetFields, 'models' | 'metadata' | 'createdAt' | 'updatedAt'>;

function budgetSubject(kind: BudgetSubject['kind'], id: string, source: BudgetSource): BudgetSubject {
  return Object.freeze({
    kind,
    id,
    spend: source.spend,
    ...(source.maxBudget !== undefined && { maxBudget: source.maxBudget }),
    ...(source.softBudget !== undefined && { softBudget: source.softBudget }),
    ...(source.budgetDuration !== undefined && { budgetDuration: source.budgetDuration }),
    ...(source.budgetResetAt !== undefined && { budgetResetAt: source.budgetResetAt }),
    ...(source.rpmLimit !== undefined && { rpmLimit: source.rpmLimit }),
    ...(source.tpmLimit !== undefined && { tpmLimit: source.tpmLimit }),
    ...(source.maxParallelRequests !== undefined && { maxParallelRequests: source.maxParallelRequests }),
    ...(source.modelMaxBudget !== undefined && { modelMaxBudget: modelBudgetsOf(source.modelMaxBudget) }),
  });
}

function modelBudgetsOf(stored: ModelMaxBudget): Readonly<Record<string, ModelBudget>> {
  const budgets: Record<string, ModelBudget> = {};
  for (const [model, entry] of Object.entries(stored)) {
    budgets[model] = Object.freeze({ maxBudget: entry.budget_limit, ...(entry.time_period !== undefined && { timePeriod: entry.time_period }) });
  }
  return Object.freeze(budgets);
}

/** `key_` + 24 url-safe characters: the `token` LiteLLM clients use to name a key without its secret. */
function newKeyId(): string {
  return `key_${randomBytes(18).toString('base64url')}`;
}

/** OpenAI's style: the first and last characters only. */
function maskKey(presented: string): string {
  if (presented.length <= 8) return '****';
  return `${presented.slice(0, 3)}****${presented.slice(-4)}`;
}
