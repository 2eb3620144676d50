// The kubeconfig archive reader tolerates what Talos sends: a gzipped tar without its trailer, or cut short.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readTarGz, writeTarGzUnterminated } from '../../src/providers/talos/archive.js';

describe('kubeconfig archive', () => {
  it('reads an unterminated gzipped tar with one kubeconfig entry (mode 0600)', () => {
    const text = 'apiVersion: v1\nkind: Config\n';
    const entries = readTarGz(writeTarGzUnterminated('kubeconfig', Buffer.from(text)));
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.name, 'kubeconfig');
    assert.equal(entries[0]?.mode, 0o600);
    assert.equal(entries[0]?.data.toString(), text);
  });

  it('tolerates a missing final padding and a truncated gzip stream', () => {
    const data = Buffer.from('x'.repeat(700));
    const gz = writeTarGzUnterminated('kubeconfig', data);
    const raw = readTarGz(gz);
    assert.equal(raw[0]?.data.length, 700);
    // Same tar without the padding after the data.
    const tar = Buffer.concat([Buffer.from(readTarHeader(gz)), data]);
    assert.equal(readTarGz(gzipSync(tar))[0]?.data.length, 700);
    // A gzip stream cut before its end still yields what was there.
    const cut = readTarGz(gz.subarray(0, gz.length - 8));
    assert.equal(cut[0]?.name, 'kubeconfig');
  });
});

function readTarHeader(gz: Buffer): Buffer {
  // The first 512 bytes of the decompressed archive are the tar header.
  return Buffer.from(gunzipSync(gz).subarray(0, 512));
}
