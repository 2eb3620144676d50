// Decrypting a SOPS file registers its secret values for redaction, but not plain ones such as a context name
// or a server URL, so status tables and logs stay readable while keys never print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encryptText, decryptText, generateIdentity } from '../../../src/sops/index.js';
import { clearSecrets, redact } from '../../../src/core/redact.js';

test('decrypted values under secret keys and long values are masked; short plain values are not', async () => {
  clearSecrets();
  const { identity, recipient } = await generateIdentity();
  const plain = 'context: labcluster\nserver: https://127.0.9.20:6443\nendpoints:\n  - 127.0.9.11\nclient-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t\npassword: hunter22\n';
  const enc = await encryptText(plain, { format: 'yaml', recipients: [recipient] });
  const out = await decryptText(enc, { format: 'yaml', identities: [identity] });
  assert.equal(out, plain);
  const line = 'labcluster at https://127.0.9.20:6443 via 127.0.9.11 key LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t pw hunter22';
  assert.equal(redact(line), 'labcluster at https://127.0.9.20:6443 via 127.0.9.11 key *** pw ***');
  clearSecrets();
});
