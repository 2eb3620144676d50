// Owns the fingerprint that ties an etcd snapshot to the cluster secrets it was taken with: Kubernetes encrypts Secrets
// at rest with the bundle's secretbox (or aescbc) key, so a snapshot restored under other keys has unreadable Secrets
// (Omni refuses such a restore: "secretbox encryption secret mismatch"). A hash of both keys, never the keys.
import { createHash } from 'node:crypto';
import type { SecretsBundle } from '../../render/talos/secrets.js';

export function encryptionKeysFingerprint(bundle: SecretsBundle): string {
  const h = createHash('sha256');
  h.update('cloudlab etcd encryption keys v1\0');
  h.update(`secretbox\0${bundle.secrets.secretboxencryptionsecret ?? ''}\0`);
  h.update(`aescbc\0${bundle.secrets.aescbcencryptionsecret ?? ''}\0`);
  return `sha256:${h.digest('hex')}`;
}
