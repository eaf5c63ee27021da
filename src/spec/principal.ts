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

export function mayUseModel(principal: Principal, modelGroup: string): boolean {
  return principal.allowedModels === null || principal.allowedModels.has(modelGroup);
}
