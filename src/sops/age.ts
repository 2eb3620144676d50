// Owns the age layer of SOPS: wrapping the 32-byte data key for each X25519 recipient as an armored age
// file (one file per recipient, as sops does), unwrapping it with identities, and generating identities.
import { Encrypter, Decrypter, armor, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';

export interface AgeEntry {
  recipient: string;
  enc: string;
}

const X25519_RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;

/** Validates a recipient string; cloudlab writes X25519 recipients only (readable by sops 3.9+). */
export function checkRecipient(r: string, where = 'recipient'): string {
  const t = r.trim();
  if (X25519_RECIPIENT_RE.test(t)) return t;
  const kind = t.startsWith('age1pq1') ? 'a post-quantum hybrid age recipient' : t.startsWith('ssh-') ? 'an SSH key' : t.startsWith('age1') ? 'an age plugin recipient' : 'not an age recipient';
  throw new CloudlabError({ code: 'SOPS_UNSUPPORTED_KEY', exitCode: EXIT_INVALID, message: `${where} ${JSON.stringify(t.slice(0, 80))} is ${kind}; cloudlab encrypts to X25519 age recipients (age1…) only`, hint: 'use the public key printed by `age-keygen` or `cloudlab secrets init` (age1 followed by 58 characters)' });
}

/** Wraps the data key for one recipient: an armored age file containing the raw key. */
export async function wrapDataKey(dataKey: Uint8Array, recipient: string): Promise<AgeEntry> {
  const e = new Encrypter();
  e.addRecipient(checkRecipient(recipient));
  const ct = await e.encrypt(dataKey);
  return { recipient, enc: armor.encode(ct) };
}

/** Tries every entry with every identity; returns the data key or undefined when none matches. */
export async function unwrapDataKey(entries: AgeEntry[], identities: string[]): Promise<Uint8Array | undefined> {
  if (identities.length === 0) return undefined;
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  for (const entry of entries) {
    let bytes: Uint8Array;
    try {
      bytes = armor.decode(entry.enc);
    } catch {
      continue;
    }
    try {
      return await d.decrypt(bytes);
    } catch {
      // Not for one of our identities (or damaged): try the next entry.
    }
  }
  return undefined;
}

export async function generateIdentity(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export async function recipientOf(identity: string): Promise<string> {
  return identityToRecipient(identity);
}
