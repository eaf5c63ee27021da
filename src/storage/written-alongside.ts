/**
 * Rows another component writes in the transaction of a store's own change, and only if that
 * change was made: a batch's webhook events go into the outbox in the transaction that stores
 * its terminal status (`BatchStore.storeTerminal`), so an event exists exactly when the status
 * was stored: a crash can neither lose one nor leave one for a status that was never stored.
 */
import type { Transaction } from 'kysely';
import type { DatabaseSchema } from './schema.ts';

export interface WrittenAlongside {
  write(trx: Transaction<DatabaseSchema>): Promise<void>;
  /** Called after the transaction committed (the delivery job is woken). */
  committed?(): void;
}
