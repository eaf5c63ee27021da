/**
 * The ids Portico gives the responses an upstream stores (OpenAI's and Azure's Responses API,
 * `store` on by default): `resp_` and an AES-256-GCM sealed record of which deployment answered,
 * who asked, and the upstream's own id.
 *
 * Why sealed ids rather than rows: a follow-up (`GET /v1/responses/{id}`, `previous_response_id`)
 * must reach the same upstream account, which holds the response, and only its owner may use it
 * (one upstream key serves every tenant, so the upstream cannot tell them apart). Sealing answers
 * both with no write on the request path and works on every instance that shares the secret; the
 * id stays opaque (LiteLLM's base64 ids show the provider and break when edited) and cannot be
 * forged or moved to another tenant: a changed byte fails the tag.
 *
 * The key is derived from LiteLLM's `LITELLM_SALT_KEY` when set, else the master key (as stored
 * models are sealed): rotating the master key without a salt key makes earlier ids unknown (404).
 * Without either (open mode, where every caller is the master) a fixed key is used: there are no
 * tenants to keep apart.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';

const PREFIX = 'resp_';
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 12;
const OWNER_BYTES = 8;
/** OpenAI's own ids (`resp_` and hex) are stored as bytes, halving their share of ours. */
const HEX_UPSTREAM_ID = /^resp_(?:[0-9a-f]{2})+$/;
const UPSTREAM_AS_HEX = 1;
const UPSTREAM_AS_TEXT = 0;
/** Longer ids than any we make are not decoded at all. */
const MAX_ID_CHARS = 1024;
const OPEN_MODE_SECRET = 'portico:open-mode';

/** What a Portico response id names. */
export interface StoredResponseRef {
  /** The deployment whose upstream stores the response. */
  readonly deploymentId: string;
  /** The response's id upstream. */
  readonly upstreamId: string;
}

/** Who may use an id: a digest of its owner (`Principal.owner`), as sealed in it. */
export type OwnerTag = Buffer & { readonly __ownerTag: true };

export function ownerTagOf(owner: string): OwnerTag {
  return createHash('sha256').update(owner).digest().subarray(0, OWNER_BYTES) as OwnerTag;
}

export class ResponseIds {
  readonly #key: Buffer;
  readonly #nonceKey: Buffer;

  /** `secret`: `LITELLM_SALT_KEY`, else the master key; undefined in open mode. */
  constructor(secret: string | undefined) {
    this.#key = Buffer.from(hkdfSync('sha256', secret ?? OPEN_MODE_SECRET, 'portico:response-ids', 'cipher', 32));
    this.#nonceKey = Buffer.from(hkdfSync('sha256', secret ?? OPEN_MODE_SECRET, 'portico:response-ids', 'nonce', 32));
  }

  /** The id the client sees for `ref`, answered to (and usable by) the owner of `owner` (`ownerTagOf`). */
  seal(ref: StoredResponseRef, owner: OwnerTag): string {
    const deployment = Buffer.from(ref.deploymentId, 'utf8');
    if (deployment.length > 255) throw new Error('A deployment id longer than 255 bytes cannot name a stored response.');
    const hex = HEX_UPSTREAM_ID.test(ref.upstreamId);
    const upstream = hex ? Buffer.from(ref.upstreamId.slice(PREFIX.length), 'hex') : Buffer.from(ref.upstreamId, 'utf8');
    const plain = Buffer.concat([Buffer.from([VERSION, hex ? UPSTREAM_AS_HEX : UPSTREAM_AS_TEXT, deployment.length]), deployment, owner, upstream]);
    // The nonce is derived from what is sealed (a synthetic IV): one response has one id in every
    // event of its stream and every answer, and two different records never share a nonce.
    const nonce = createHmac('sha256', this.#nonceKey).update(plain).digest().subarray(0, NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * What `id` names, and whose it is, when it is one of ours and `owner` may use it (`anyOwner`:
   * the master key); undefined for anything else: another tenant's id, an upstream's raw id, an
   * edited or made-up one.
   */
  open(id: string, owner: OwnerTag, anyOwner: boolean): (StoredResponseRef & { readonly owner: OwnerTag }) | undefined {
    if (!id.startsWith(PREFIX) || id.length > MAX_ID_CHARS) return undefined;
    const bytes = Buffer.from(id.slice(PREFIX.length), 'base64url');
    if (bytes.length < NONCE_BYTES + TAG_BYTES + 3 + OWNER_BYTES) return undefined;
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      plain = Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch {
      return undefined;
    }
    if (plain[0] !== VERSION) return undefined;
    const deploymentEnd = 3 + plain[2]!;
    const ownerEnd = deploymentEnd + OWNER_BYTES;
    if (plain.length <= ownerEnd) return undefined;
    const sealedOwner = Buffer.from(plain.subarray(deploymentEnd, ownerEnd)) as OwnerTag;
    if (!anyOwner && !sealedOwner.equals(owner)) return undefined;
    const upstream = plain.subarray(ownerEnd);
    return {
      owner: sealedOwner,
      deploymentId: plain.subarray(3, deploymentEnd).toString('utf8'),
      upstreamId: plain[1] === UPSTREAM_AS_HEX ? PREFIX + upstream.toString('hex') : upstream.toString('utf8'),
    };
  }
}
