import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../database.ts';

/**
 * One schema change, as data: a name that sorts in order (`0001_...`) and its `up`/`down`.
 * Migrations use Kysely's schema builder so one text serves both dialects; `dialect` is passed
 * for the rare statement the two cannot share (see 0002).
 */
export interface PorticoMigration {
  readonly name: string;
  // Kysely<any>: a migration must keep working after later migrations change the schema type.
  up(db: Kysely<any>, dialect: SqlDialectName): Promise<void>;
  down(db: Kysely<any>, dialect: SqlDialectName): Promise<void>;
}
