/**
 * Named leases for singleton background jobs (`job_leases`, migration 0009): one instance at a
 * time holds a job's lease until it expires or is released; another takes it over afterwards.
 */
import type { Database } from './database.ts';
import { affectedRows, nowSeconds } from './row-mapping.ts';

export class JobLeaseStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Takes (or renews) the lease `name` for `owner` for `leaseMs`; false while another holds it. */
  async tryAcquire(name: string, owner: string, leaseMs: number, now: number = nowSeconds()): Promise<boolean> {
    const expiresAt = now + leaseMs / 1000;
    const taken = await this.#db.kysely
      .updateTable('job_leases')
      .set({ owner, expires_at: expiresAt })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('owner', '=', owner), eb('expires_at', '<=', now)]))
      .executeTakeFirst();
    if (affectedRows(taken) === 1) return true;
    const inserted = await this.#db.kysely
      .insertInto('job_leases')
      .values({ name, owner, expires_at: expiresAt })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.#db.kysely.deleteFrom('job_leases').where('name', '=', name).where('owner', '=', owner).execute();
  }
}
