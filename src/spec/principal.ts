import type { BudgetSubject } from './budget-subjects.ts';

/**
 * Who is calling. Built by the auth middleware from the presented key; every managed-object
 * route checks ownership against `owner`.
 */
export interface Principal {
  /** Id of the virtual key, or `null` for the master key (and for open mode). */
  readonly keyId: string | null;
  /** The master key administers and sees every object. */
  readonly isMaster: boolean;
  /**
   * The owner written on every object this caller creates: `team:<team_id>` if the key has a
   * team, else `user:<user_id>`, else `key:<key id>`; `master` for the master key. Never empty,
   * so two callers without ids can never match each other.
   */
  readonly owner: string;
  /** Model groups this key may use; `null` means all. */
  readonly allowedModels: ReadonlySet<string> | null;
  readonly userId: string | null;
  readonly teamId: string | null;
  /** The key's requests per minute (`/key/generate` `rpm_limit`); absent = none. */
  readonly rpmLimit?: number | null;
  /** The key's tokens per minute (`tpm_limit`), counted from the upstream answers' `usage`; absent = none. */
  readonly tpmLimit?: number | null;
  /**
   * The key's budget (`max_budget`, USD) and its spend when the key was read (the key cache keeps
   * it up to ten seconds): over the budget, model requests and batch creates are refused.
   */
  readonly budget?: { readonly max: number; readonly spend: number };
  /**
   * The key, its user and its team as budget subjects (`spec/budget-subjects.ts`: read them with
   * `budgetSubjectsOf`), with their spend when the key was read; absent for the master key.
   */
  readonly budgetSubjects?: readonly BudgetSubject[];
  /**
   * How LiteLLM's Prometheus metrics name the caller (`observability/litellm-prometheus.ts`): the
   * key's SHA-256 (LiteLLM's `hashed_api_key`, its token), its `key_alias`, its team's
   * `team_alias`. Absent for the master key.
   */
  readonly names?: { readonly keyHash: string; readonly keyAlias: string | null; readonly teamAlias: string | null };
  /**
   * The key's `metadata.tags` (LiteLLM's tags on a key): added to every request of the key, for
   * tag routing and the spend rows' `request_tags`. Absent when it has none.
   */
  readonly tags?: readonly string[];
}

export function ownerOf(key: { id: string; teamId: string | null; userId: string | null }): string {
  if (key.teamId) return `team:${key.teamId}`;
  if (key.userId) return `user:${key.userId}`;
  return `key:${key.id}`;
}

/** Whether `principal` may see an object owned by `owner`. */
export function canAccess(principal: Principal, owner: string): boolean {
  return principal.isMaster || (owner.length > 0 && principal.owner === owner);
}

/**
 * Whether the key's `models` allow `modelGroup`: listed by name, or matched by a listed
 * wildcard (`openai/*`, as LiteLLM's key allowlists take them).
 */
export function mayUseModel(principal: Principal, modelGroup: string): boolean {
  const allowed = principal.allowedModels;
  if (allowed === null || allowed.has(modelGroup)) return true;
  for (const entry of allowed) if (entry.includes('*') && wildcardMatches(entry, modelGroup)) return true;
  return false;
}

function wildcardMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('*');
  if (!name.startsWith(parts[0]) || !name.endsWith(parts[parts.length - 1])) return false;
  let position = parts[0].length;
  const end = name.length - parts[parts.length - 1].length;
  for (const part of parts.slice(1, -1)) {
    const found = name.indexOf(part, position);
    if (found < 0 || found + part.length > end) return false;
    position = found + part.length;
  }
  return position <= end;
}
