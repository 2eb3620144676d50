// Test fixtures for render: a cached secrets bundle (key generation is slow) and hand-built Plans.
import { generateSecretsBundle, type SecretsBundle } from '../../src/render/talos/secrets.js';

let cached: Promise<SecretsBundle> | undefined;

/** One bundle shared by all tests of a process (RSA-4096 generation costs ~1 s). */
export function testBundle(): Promise<SecretsBundle> {
  cached ??= generateSecretsBundle({ now: new Date('2026-01-01T00:00:00Z') });
  return cached;
}
