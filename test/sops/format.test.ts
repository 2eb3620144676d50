// Tests the SOPS format: known-answer vectors for the value cipher and the MAC, Go/yaml.v3 value forms,
// round trips in all four stores, files from an independent encoder, and tamper/bad-input errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decryptValue, encryptValue, aadFor } from '../../src/sops/cipher.js';
import { goFormatFloat, resolvePlainYaml, goParseInt } from '../../src/sops/values.js';
import { encryptText, decryptText, encryptBytes, decryptBytes, generateIdentity, rotateDataKey, rewrapKeys } from '../../src/sops/index.js';
import { CloudlabError } from '../../src/core/errors.js';
import { buildYaml, buildJson, buildDotenv, buildBinary, unwrap, verifyJsonFile, dec, type Entries } from './independent.js';

const KAT_KEY = Buffer.alloc(32, 'f');
const KAT_ENC = 'ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]';

test('value cipher: sops known-answer vector decrypts, and encrypting with its IV reproduces it', () => {
  const v = decryptValue(KAT_ENC, KAT_KEY, 'bar:');
  assert.equal(v.type, 'str');
  assert.equal(v.bytes.toString(), 'foo');
  const iv = Buffer.from('MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=', 'base64');
  assert.equal(iv.length, 32);
  assert.equal(encryptValue({ type: 'str', bytes: Buffer.from('foo') }, KAT_KEY, 'bar:', iv), KAT_ENC);
  assert.throws(() => decryptValue(KAT_ENC, KAT_KEY, ''), /authentication failed/);
  assert.throws(() => decryptValue('not-enc', KAT_KEY, 'bar:'), /not in the SOPS/);
  assert.equal(aadFor(['app2', 'db', 'password']), 'app2:db:password:');
  assert.equal(aadFor([]), ':');
});

test('MAC: SHA-512 over plaintext values in order, uppercase hex, mac_only_encrypted seeded with sha256("sops")', async () => {
  assert.equal(createHash('sha256').update('sops').digest('hex'), '8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69');
  const { identity, recipient } = await generateIdentity();
  const text = await encryptText('a: foo\nb: 5\nc: true\nd_unencrypted: bar\ne: 1.50\n', { format: 'yaml', recipients: [recipient] });
  const key = await unwrap(/enc: \|\n([\s\S]*?-----END AGE ENCRYPTED FILE-----)/.exec(text)![1]!.replace(/^ +/gm, ''), identity);
  const lm = /lastmodified: "?([^"\n]+)"?/.exec(text)![1]!;
  const mac = dec(/mac: (ENC\[[^\n]+\])/.exec(text)![1]!, key, lm).plain.toString();
  assert.equal(mac, createHash('sha512').update('foo5Truebar1.5').digest('hex').toUpperCase());
  const only = await encryptText('a: foo\nb_unencrypted: bar\n', { format: 'yaml', recipients: [recipient], rules: { macOnlyEncrypted: true } });
  const key2 = await unwrap(/enc: \|\n([\s\S]*?-----END AGE ENCRYPTED FILE-----)/.exec(only)![1]!.replace(/^ +/gm, ''), identity);
  const lm2 = /lastmodified: "?([^"\n]+)"?/.exec(only)![1]!;
  const mac2 = dec(/mac: (ENC\[[^\n]+\])/.exec(only)![1]!, key2, lm2).plain.toString();
  const seed = createHash('sha256').update('sops').digest();
  assert.equal(mac2, createHash('sha512').update(seed).update('foo').digest('hex').toUpperCase());
  assert.match(only, /mac_only_encrypted: true/);
  assert.equal(await decryptText(only, { format: 'yaml', identities: [identity] }), 'a: foo\nb_unencrypted: bar\n');
});

test('value forms follow Go strconv and yaml.v3', () => {
  assert.equal(goFormatFloat(1e21), '1000000000000000000000');
  assert.equal(goFormatFloat(1.0), '1');
  assert.equal(goFormatFloat(1e-7), '0.0000001');
  assert.equal(goFormatFloat(-2.5e-3), '-0.0025');
  assert.equal(goFormatFloat(Infinity), '+Inf');
  const r = (s: string): string => {
    const v = resolvePlainYaml(s);
    return v === null ? 'null' : `${v.type}:${v.bytes.toString()}`;
  };
  assert.equal(r('017'), 'int:15');
  assert.equal(r('0x1F'), 'int:31');
  assert.equal(r('0b101'), 'int:5');
  assert.equal(r('0o17'), 'int:15');
  assert.equal(r('1_000'), 'int:1000');
  assert.equal(r('019'), 'float:19');
  assert.equal(r('yes'), 'str:yes');
  assert.equal(r('True'), 'bool:True');
  assert.equal(r('~'), 'null');
  assert.equal(r('.inf'), 'float:+Inf');
  assert.equal(r('1e3'), 'float:1000');
  assert.equal(r('2024-01-02'), 'time:2024-01-02T00:00:00Z');
  assert.equal(r('9223372036854775808'), 'float:9223372036854776000');
  assert.equal(goParseInt('-0x10'), -16n);
});

const RICH_YAML = `# top comment
name: demo # trailing comment
port: 017
ratio: 1.5
huge: 1e21
enabled: true
answer: yes
date: 2024-01-02
"10": ten
"1": one
empty: ""
nothing: null
list:
    - a
    # inside a list
    - 2
    - k: v
      nested:
          - x
          - y: z
secret_unencrypted: plain text
multi: |
    line1
    line2
uni: "héllo ✓ 日本"
---
doc2: value
`;

test('YAML round trip: every type, nested lists/maps, comments, numeric keys, unicode, multi-doc', async () => {
  const { identity, recipient } = await generateIdentity();
  const enc = await encryptText(RICH_YAML, { format: 'yaml', recipients: [recipient] });
  assert.doesNotMatch(enc, /demo|héllo|line1|top comment|inside a list/);
  assert.match(enc, /secret_unencrypted: plain text/);
  assert.match(enc, /empty: ""/);
  assert.match(enc, /nothing: null/);
  assert.match(enc, /^#ENC\[AES256_GCM,.*type:comment\]$/m);
  assert.match(enc, /type:int\]/);
  assert.match(enc, /type:float\]/);
  assert.match(enc, /type:bool\]/);
  assert.equal((enc.match(/^sops:$/gm) ?? []).length, 2, 'metadata on every document');
  const dec1 = await decryptText(enc, { format: 'yaml', identities: [identity] });
  const expected = RICH_YAML.replace('port: 017', 'port: 15').replace('huge: 1e21', 'huge: 1000000000000000000000.0').replace('date: 2024-01-02', 'date: "2024-01-02"').replace('uni: "héllo ✓ 日本"', 'uni: héllo ✓ 日本').replace('answer: yes', 'answer: "yes"');
  assert.equal(dec1, expected);
  // A second round trip is stable.
  const enc2 = await encryptText(dec1, { format: 'yaml', recipients: [recipient] });
  assert.equal(await decryptText(enc2, { format: 'yaml', identities: [identity] }), dec1);
});

test('re-encrypting an edited file keeps the data key and the ciphertext of unchanged values', async () => {
  const { identity, recipient } = await generateIdentity();
  const enc = await encryptText('a: one\nb: two\nc:\n    d: three\n', { format: 'yaml', recipients: [recipient] });
  const enc2 = await encryptText('a: one\nb: TWO\nc:\n    d: three\n', { format: 'yaml', recipients: [recipient], previous: enc, identities: [identity] });
  const line = (t: string, k: string): string => t.split('\n').find((l) => l.trimStart().startsWith(k + ':'))!;
  assert.equal(line(enc2, 'a'), line(enc, 'a'));
  assert.equal(line(enc2, 'd'), line(enc, 'd'));
  assert.notEqual(line(enc2, 'b'), line(enc, 'b'));
  assert.equal(/enc: \|[\s\S]*?END AGE/.exec(enc2)![0], /enc: \|[\s\S]*?END AGE/.exec(enc)![0], 'wrapped key unchanged');
  assert.equal(await decryptText(enc2, { format: 'yaml', identities: [identity] }), 'a: one\nb: TWO\nc:\n    d: three\n');
});

test('JSON round trip keeps order (numeric-looking keys too) and types', async () => {
  const { identity, recipient } = await generateIdentity();
  const json = '{"b":1,"10":[1.5,true,"x",null,{"n":-5}],"2":{"z":"\\u00e9\\n","a":false},"big":12345678901234567890,"e":""}';
  const enc = await encryptText(json, { format: 'json', recipients: [recipient] });
  assert.match(enc, /^\t"sops": \{$/m);
  const out = await decryptText(enc, { format: 'json', identities: [identity] });
  assert.deepEqual(Object.keys(JSON.parse(out)).sort(), ['10', '2', 'b', 'big', 'e']);
  const order = [...out.matchAll(/^\t"([^"]+)"/gm)].map((m) => m[1]);
  assert.deepEqual(order, ['b', '10', '2', 'big', 'e']);
  assert.match(out, /"z": "é\\n",\n\t\t"a": false/);
  assert.match(out, /"big": 12345678901234567000/);
});

test('dotenv round trip: no trimming, comments, escaped newlines, sops_ metadata keys', async () => {
  const { identity, recipient } = await generateIdentity();
  const env = 'A=1\n# a comment\nfoo =bar \nMULTI=a\\nb\nEMPTY=\n';
  const enc = await encryptText(env, { format: 'dotenv', recipients: [recipient] });
  assert.match(enc, /^sops_age__list_0__map_recipient=age1/m);
  assert.match(enc, /^sops_unencrypted_suffix=_unencrypted$/m);
  assert.match(enc, /^foo =ENC\[/m);
  assert.equal(await decryptText(enc, { format: 'dotenv', identities: [identity] }), env);
});

test('binary round trip keeps raw (non-UTF-8) bytes', async () => {
  const { identity, recipient } = await generateIdentity();
  const data = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13]);
  const enc = await encryptBytes(data, { format: 'binary', recipients: [recipient] });
  const parsed = JSON.parse(enc.toString()) as { data: string; sops: Record<string, unknown> };
  assert.match(parsed.data, /^ENC\[/);
  assert.equal(parsed.sops.unencrypted_suffix, undefined);
  const out = await decryptBytes(enc, { format: 'binary', identities: [identity] });
  assert.deepEqual(out, data);
});

test('crypt rules: encrypted_regex (Flux), suffixes, unencrypted_regex; more than one rule is refused', async () => {
  const { identity, recipient } = await generateIdentity();
  const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n    name: s\nstringData:\n    key: value\n';
  const enc = await encryptText(secret, { format: 'yaml', recipients: [recipient], rules: { encryptedRegex: '^(data|stringData)$' } });
  assert.match(enc, /kind: Secret/);
  assert.match(enc, /name: s\n/);
  assert.match(enc, /key: ENC\[/);
  assert.match(enc, /encrypted_regex: \^\(data\|stringData\)\$/);
  assert.equal(await decryptText(enc, { format: 'yaml', identities: [identity] }), secret);
  const sfx = await encryptText('a_enc: x\nb: y\n', { format: 'yaml', recipients: [recipient], rules: { encryptedSuffix: '_enc' } });
  assert.match(sfx, /a_enc: ENC/);
  assert.match(sfx, /b: y/);
  const ure = await encryptText('pub: x\nsec: y\n', { format: 'yaml', recipients: [recipient], rules: { unencryptedRegex: '^pub' } });
  assert.match(ure, /pub: x/);
  assert.match(ure, /sec: ENC/);
  await assert.rejects(encryptText('a: 1\n', { format: 'yaml', recipients: [recipient], rules: { encryptedRegex: 'x', unencryptedSuffix: '_u' } }), /more than one/);
});

test('files from an independent encoder decrypt (YAML, JSON, dotenv, binary)', async () => {
  const { identity, recipient } = await generateIdentity();
  const entries: Entries = [
    ['name', { t: 'str', v: 'demo ✓' }],
    ['10', { t: 'int', v: '42' }],
    ['nested', [['pi', { t: 'float', v: '3.14' }], ['on', { t: 'bool', v: 'True' }]]],
    ['list', [{ t: 'str', v: 'a' }, { t: 'str', v: 'b' }]],
    ['empty', { t: 'str', v: '' }],
  ];
  const y = await buildYaml(entries, recipient);
  assert.equal(await decryptText(y.text, { format: 'yaml', identities: [identity] }), '"name": demo ✓\n"10": 42\n"nested":\n  "pi": 3.14\n  "on": true\n"list":\n  - a\n  - b\n"empty": ""\n');
  const j = await buildJson(entries, recipient);
  const jout = JSON.parse(await decryptText(j.text, { format: 'json', identities: [identity] })) as Record<string, unknown>;
  assert.deepEqual(jout, { name: 'demo ✓', 10: 42, nested: { pi: 3.14, on: true }, list: ['a', 'b'], empty: '' });
  const d = await buildDotenv([['TOKEN', 'user@pam!id=s3cr3t'], ['B', 'x']], recipient);
  assert.equal(await decryptText(d.text, { format: 'dotenv', identities: [identity] }), 'TOKEN=user@pam!id=s3cr3t\nB=x\n');
  const b = await buildBinary(Buffer.from([1, 2, 0xff]), recipient);
  assert.deepEqual(await decryptBytes(b.text, { format: 'binary', identities: [identity] }), Buffer.from([1, 2, 0xff]));
  // A value moved to another key fails (the AAD binds it to its path).
  const nameEnc = /^"name": (".*")$/m.exec(y.text)![1]!;
  const moved = y.text.replace(/^"empty": ""$/m, `"empty": ${nameEnc}`);
  await assert.rejects(decryptText(moved, { format: 'yaml', identities: [identity] }), /value at "empty" cannot be decrypted/);
});

test('files written by cloudlab verify with the independent decoder (values, types, MAC)', async () => {
  const { identity, recipient } = await generateIdentity();
  const text = await encryptText('{"a":"x","n":{"i":7,"f":2.5,"b":false},"l":["p","q"],"keep_unencrypted":"clear"}', { format: 'json', recipients: [recipient] });
  const meta = JSON.parse(text) as { sops: { age: { enc: string }[] } };
  const key = await unwrap(meta.sops.age[0]!.enc, identity);
  const v = verifyJsonFile(text, key);
  assert.equal(v.macOk, true);
  assert.deepEqual(v.leaves, [
    ['a', 'str', 'x'],
    ['n.i', 'int', '7'],
    ['n.f', 'float', '2.5'],
    ['n.b', 'bool', 'False'],
    ['l', 'str', 'p'],
    ['l', 'str', 'q'],
    ['keep_unencrypted', 'plain', 'clear'],
  ]);
});

async function rejectsWith(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CloudlabError, String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('tampering and missing keys fail with the reason and no plaintext', async () => {
  const { identity, recipient } = await generateIdentity();
  const other = await generateIdentity();
  const enc = await encryptText('user: alice\npassword: hunter2-secret\n', { format: 'yaml', recipients: [recipient] });
  await rejectsWith(decryptText(enc, { format: 'yaml', identities: [other.identity] }), 'SOPS_NO_MATCHING_KEY', new RegExp(recipient));
  await rejectsWith(decryptText(enc, { format: 'yaml', identities: [] }), 'SOPS_NO_MATCHING_KEY', /no age identities loaded/);
  // Swap the two encrypted values: each fails authentication because its AAD is the key path.
  const u = /^user: (.*)$/m.exec(enc)![1]!;
  const p = /^password: (.*)$/m.exec(enc)![1]!;
  const swapped = enc.replace(`user: ${u}`, `user: ${p}`).replace(`password: ${p}`, `password: ${u}`);
  await rejectsWith(decryptText(swapped, { format: 'yaml', identities: [identity] }), 'SOPS_VALUE_TAMPERED', /"user"/);
  // A flipped ciphertext byte.
  const flipped = enc.replace(/^(user: ENC\[AES256_GCM,data:)(.)/m, (_m, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'));
  await rejectsWith(decryptText(flipped, { format: 'yaml', identities: [identity] }), 'SOPS_VALUE_TAMPERED');
  // An unencrypted value changed: the MAC catches it.
  const enc2 = await encryptText('a: 1\nnote_unencrypted: hello\n', { format: 'yaml', recipients: [recipient] });
  await rejectsWith(decryptText(enc2.replace('hello', 'HELLO'), { format: 'yaml', identities: [identity] }), 'SOPS_MAC_MISMATCH');
  assert.match(await decryptText(enc2.replace('hello', 'HELLO'), { format: 'yaml', identities: [identity], ignoreMac: true }), /HELLO/);
  // lastmodified changed: the MAC cannot be authenticated.
  await rejectsWith(decryptText(enc2.replace(/(lastmodified: "?)\d{4}/, '$11999'), { format: 'yaml', identities: [identity] }), 'SOPS_MAC_MISMATCH');
  // A value made plaintext.
  await rejectsWith(decryptText(enc2.replace(/^a: ENC\[.*$/m, 'a: 2'), { format: 'yaml', identities: [identity] }), 'SOPS_VALUE_NOT_ENCRYPTED');
  // Not a SOPS file; an unsupported key type; a file already encrypted.
  await rejectsWith(decryptText('a: 1\n', { format: 'yaml', identities: [identity] }), 'SOPS_NOT_ENCRYPTED');
  const pgpOnly = enc.replace(/ {4}age:[\s\S]*?recipient: age1\w+\n/, '    pgp:\n        - fp: ABCDEF\n          enc: x\n');
  await rejectsWith(decryptText(pgpOnly, { format: 'yaml', identities: [identity] }), 'SOPS_UNSUPPORTED_KEY', /pgp/);
  await rejectsWith(encryptText(enc, { format: 'yaml', recipients: [recipient] }), 'SOPS_ALREADY_ENCRYPTED');
  await rejectsWith(encryptText('a: 1\n', { format: 'yaml', recipients: ['age1pq1abc'] }), 'SOPS_UNSUPPORTED_KEY');
  await assert.rejects(encryptText('- a\n- b\n', { format: 'yaml', recipients: [recipient] }), /not a mapping/);
  await assert.rejects(encryptText('{"a": }', { format: 'json', recipients: [recipient] }), /1:7: not valid JSON/);
});

test('updatekeys re-wraps for new recipients (values and MAC unchanged); rotate makes a new data key', async () => {
  const a = await generateIdentity();
  const b = await generateIdentity();
  const enc = await encryptText('x: secret-value\n', { format: 'yaml', recipients: [a.recipient] });
  const r = await rewrapKeys(enc, { format: 'yaml', identities: [a.identity], recipients: [a.recipient, b.recipient] });
  assert.deepEqual(r.added, [b.recipient]);
  assert.equal(/^x: .*$/m.exec(r.text)![0], /^x: .*$/m.exec(enc)![0]);
  assert.equal(await decryptText(r.text, { format: 'yaml', identities: [b.identity] }), 'x: secret-value\n');
  const r2 = await rewrapKeys(r.text, { format: 'yaml', identities: [b.identity], recipients: [b.recipient] });
  assert.deepEqual(r2.removed, [a.recipient]);
  await assert.rejects(decryptText(r2.text, { format: 'yaml', identities: [a.identity] }), /no age identity/);
  const rot = await rotateDataKey(r2.text, { format: 'yaml', identities: [b.identity] });
  assert.notEqual(/^x: .*$/m.exec(rot)![0], /^x: .*$/m.exec(r2.text)![0]);
  assert.equal(await decryptText(rot, { format: 'yaml', identities: [b.identity] }), 'x: secret-value\n');
});
