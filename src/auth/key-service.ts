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
import type { KeyStore, VirtualKeyRecord } from '../storage/key-store.ts';
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
}

/** The subset of `KeyStore` this service uses (an in-memory fake can stand in for tests). */
export type KeyStorePort = Pick<KeyStore, 'insert' | 'findByHash' | 'findById' | 'deleteByHashes' | 'list' | 'count'>;

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
        return record === undefined ? null : toCachedKey(record);
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
    };
    await this.store.insert(record);
    return { secret, record };
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
    const evicted = [...new Set(found.map(({ record }) => record.keyHash))];
    for (const keyHash of evicted) this.cache.evict(keyHash);
    await this.evictions?.publish(evicted);
    return found.filter(({ record }) => deletedIds.has(record.id)).map(({ entry }) => entry);
  }
}

function toCachedKey(record: VirtualKeyRecord): CachedKey {
  return {
    principal: Object.freeze({
      keyId: record.id,
      isMaster: false,
      owner: ownerOf(record),
      allowedModels: record.models.length === 0 ? null : new Set(record.models),
      userId: record.userId,
      teamId: record.teamId,
      ...(record.rpmLimit !== undefined && { rpmLimit: record.rpmLimit }),
      ...(record.tpmLimit !== undefined && { tpmLimit: record.tpmLimit }),
      ...(record.maxBudget !== undefined && { budget: Object.freeze({ max: record.maxBudget, spend: record.spend }) }),
    }),
    expiresAt: record.expiresAt,
    blocked: record.blocked,
  };
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
