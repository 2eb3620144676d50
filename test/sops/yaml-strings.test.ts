// Tests that decrypted YAML strings are written so both yaml.v3 (sops) and the `yaml` package read back the
// same string: values that look like numbers, booleans, nulls, timestamps, or contain YAML syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { encryptText, decryptText, generateIdentity } from '../../src/sops/index.js';
import { resolvePlainYaml } from '../../src/sops/values.js';

const TRICKY = ['017', '0x10', '1e3', '1_000', '.5', 'True', 'false', 'null', '~', '', ' lead', 'trail ', 'a: b', 'a #b', '#x', '- x', '[x]', '{x}', '*a', '&a', '!t', '%d', '@x', '`x', '"q"', "'s'", '2024-01-02', '2024-01-02T03:04:05Z', 'line1\nline2\n', 'line1\nline2', ' x\ny', 'tab\there', 'yes', 'no', 'on', '.inf', '-.inf', '.nan', '+1', '-0', 'é ✓ 日本', 'a\\nb', 'x\n\n', '\n'];

test('tricky strings survive encrypt → decrypt with their string type (yaml.v3 and yaml package)', async () => {
  const { identity, recipient } = await generateIdentity();
  const src = TRICKY.map((s, i) => `k${i}: ${JSON.stringify(s)}`).join('\n') + '\n';
  const enc = await encryptText(src, { format: 'yaml', recipients: [recipient] });
  const out = await decryptText(enc, { format: 'yaml', identities: [identity] });
  const parsed = parse(out, { version: '1.1' }) as Record<string, unknown>;
  const parsed12 = parse(out) as Record<string, unknown>;
  TRICKY.forEach((s, i) => {
    assert.equal(parsed[`k${i}`], s, `yaml 1.1 reading of ${JSON.stringify(s)} in:\n${out}`);
    assert.equal(parsed12[`k${i}`], s, `yaml 1.2 reading of ${JSON.stringify(s)}`);
  });
  // Plain scalars in the output resolve to strings under yaml.v3's rules too.
  for (const line of out.split('\n')) {
    const m = /^k\d+: ([^"'|>].*)$/.exec(line);
    if (m) assert.equal(resolvePlainYaml(m[1]!)?.type, 'str', line);
  }
  // And a second round trip is byte-identical.
  const enc2 = await encryptText(out, { format: 'yaml', recipients: [recipient] });
  assert.equal(await decryptText(enc2, { format: 'yaml', identities: [identity] }), out);
});
