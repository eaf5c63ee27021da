/**
 * Encryption at rest for what a stored model's `litellm_params` holds (provider keys): AES-256-GCM
 * under a key derived (scrypt) from LiteLLM's `LITELLM_SALT_KEY` when set, else the master key,
 * as LiteLLM encrypts its stored models. Rotating the master key without a salt key makes the
 * models stored under the old one unreadable: they are skipped, each named in the log.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

const VERSION = 'v1';
const SALT = 'portico:stored-models';

export class StoredModelCipher {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = scryptSync(secret, SALT, 32);
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), sealed.toString('base64')].join(':');
  }

  /** Throws when the text was sealed under another key, or changed. */
  decrypt(text: string): string {
    const [version, iv, tag, sealed] = text.split(':');
    if (version !== VERSION || iv === undefined || tag === undefined || sealed === undefined) throw new Error('not a stored-model ciphertext');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64')), decipher.final()]).toString('utf8');
  }
}
