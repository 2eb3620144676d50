// Owns the store interface shared by the YAML, JSON, dotenv and binary stores: a parsed document exposes its
// leaves (values and comments, in file order, with their key paths) and its `sops` metadata block.
import type { SopsScalar } from '../cipher.js';

export type SopsFormat = 'yaml' | 'json' | 'dotenv' | 'binary';

/** One value or comment line of a document, in file order. */
export interface Leaf {
  /** Map-key path (list indices are not part of it, as in sops). Comments carry their container's path. */
  readonly path: readonly string[];
  readonly comment: boolean;
  /** The value as stored (an `ENC[…]` str in an encrypted file), in canonical SOPS bytes. */
  readonly value: SopsScalar;
  /** Replaces the value by a decrypted, typed plaintext. */
  setPlain(v: SopsScalar): void;
  /** Replaces the value by an encrypted `ENC[…]` string. */
  setEncrypted(enc: string): void;
}

export interface SopsDoc {
  readonly format: SopsFormat;
  /** All leaves of all branches (YAML documents) in order. `forEncrypt` normalises values sops 3.9 cannot type. */
  leaves(opts?: { forEncrypt?: boolean }): Leaf[];
  /** The raw `sops` metadata (plain JS, scalars possibly as strings), or undefined when the file has none. */
  getMetadata(): Record<string, unknown> | undefined;
  /** Sets the metadata block (already in output order) on every branch; replaces an existing one. */
  setMetadata(meta: Record<string, unknown>): void;
  removeMetadata(): void;
  serialize(): Buffer;
}
