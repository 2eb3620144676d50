// Tests the fast line-based YAML store against the general `yaml` Document store: same values, types and
// paths on block-style YAML; files encrypted by one decrypt with the other; unsupported syntax falls back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYamlFast } from '../../src/sops/stores/yaml-fast.js';
import { parseYamlDocument } from '../../src/sops/stores/yaml.js';
import type { SopsDoc } from '../../src/sops/stores/types.js';
import { encryptDoc, decryptDoc } from '../../src/sops/document-crypt.js';
import { generateIdentity, encryptText, decryptText } from '../../src/sops/index.js';

const IN_SUBSET = [
  'a: 1\nb: two\nc: 1.5\nd: true\ne: null\nf:\ng: ~\nh: "quoted # not comment"\ni: \'it\'\'s\'\n',
  '# head\nmap:\n  nested:\n    deep: x # trailing\n  other: 017\n# between\nlist:\n- a\n- b\n  # in list\n- c: 1\n  d: 2\n- - inner\n  - inner2\n',
  'lit: |\n  line1\n\n  line3\nstrip: |-\n    x\n    y\nkeep: |+\n  k\n\nafter: 1\nseqlit:\n  - |\n    in seq\n',
  '"10": ten\n"true": yes\n\'k y\': v\nurl: http://example.com/a#b\nempty_map: {}\nempty_list: []\ntime: 2024-01-02\nneg: -5\nhex: 0x1F\n',
  'a: 1\n---\nb: 2\n---\n# only a comment\nc:\n  - x\n',
  'uni: héllo ✓ 日本\nesc: "tab\\tnew\\nline \\u00e9"\ntrail: spaced   \n',
];

const OUT_OF_SUBSET = ['a: {b: 1}\n', 'a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: >\n  folded\n', 'a: multi\n  line plain\n', 'a: 1\r\nb: 2\r\n', 'a:\n\t- x\n', '- top\n- level\n', '? complex\n: key\n', 'a: |2\n   x\n'];

function values(doc: SopsDoc): string[] {
  return doc.leaves().filter((l) => !l.comment).map((l) => `${l.path.join('.')}=${l.value.type}:${l.value.bytes.toString('base64')}`);
}

test('fast YAML path reads the same values, types and paths as the yaml Document path', () => {
  for (const text of IN_SUBSET) {
    const fast = parseYamlFast(text);
    assert.ok(fast, `expected the fast path to accept:\n${text}`);
    assert.deepEqual(values(fast), values(parseYamlDocument(text)), text);
    assert.equal(fast.serialize().toString(), text, 'untouched input is reproduced byte for byte');
  }
  for (const text of OUT_OF_SUBSET) assert.equal(parseYamlFast(text), undefined, `expected a fallback for:\n${text}`);
});

test('files encrypted by one YAML path decrypt with the other, comments included', async () => {
  const { identity, recipient } = await generateIdentity();
  for (const text of IN_SUBSET) {
    for (const [enc, dec] of [
      [parseYamlFast, parseYamlDocument],
      [parseYamlDocument, parseYamlFast],
    ] as const) {
      const doc = enc(text)!;
      await encryptDoc(doc, { recipients: [recipient] });
      const encrypted = doc.serialize().toString();
      const back = dec(encrypted);
      assert.ok(back, `reader accepts the encrypted file:\n${encrypted}`);
      const warnings: string[] = [];
      await decryptDoc(back, { identities: [identity], warn: (m) => warnings.push(m) });
      // Timestamps are encrypted as strings (sops 3.9 has no time type).
      const expected = text.replace(/^time: (\S+)$/m, 'time: "$1"');
      assert.deepEqual(values(parseYamlDocument(back.serialize().toString())), values(parseYamlDocument(expected)), text);
      assert.deepEqual(warnings, [], `comments decrypt without warnings:\n${encrypted}`);
    }
  }
});

test('decrypting keeps every line that held no secret exactly as written', async () => {
  const { identity, recipient } = await generateIdentity();
  const text = 'apiVersion: v1\nkind:   Secret   # odd spacing kept\nmetadata:\n  name: s\nstringData:\n  key: value\n  cert: |\n    -----BEGIN-----\n    abc\n    -----END-----\n';
  const enc = await encryptText(text, { format: 'yaml', recipients: [recipient], rules: { encryptedRegex: '^(data|stringData)$' } });
  assert.match(enc, /^kind: {3}Secret {3}# odd spacing kept$/m);
  assert.equal(await decryptText(enc, { format: 'yaml', identities: [identity] }), text.replace('  cert: |\n    -----BEGIN', '  cert: |\n      -----BEGIN').replace('    abc\n    -----END', '      abc\n      -----END'));
});

test('a secret that starts with "-" (a base64url Talos cluster id, 1 in 64) decrypts plain, as yaml.v3 writes it; "-" alone, before a space, or "---" stays quoted', async () => {
  // yaml.v3 emitterc.go (yaml_emitter_analyze_scalar): a leading '-' is an indicator only when whitespace or the end
  // follows it; a leading '---' or '...' is a document marker.
  const { identity, recipient } = await generateIdentity();
  const text = 'cluster:\n  id: -B0tc-EtSwFhT6ERX4pOCE7ycbmaANuF2czFuCmK0dk=\n  dash: "-"\n  item: "- x"\n  neg: "-1"\n  marker: "---x"\n  dots: "...x"\n';
  const enc = await encryptText(text, { format: 'yaml', recipients: [recipient] });
  assert.equal(await decryptText(enc, { format: 'yaml', identities: [identity] }), text);
});

test('syntax outside the fast path (aliases, flow, tags, folded scalars) round-trips through the Document store', async () => {
  const { identity, recipient } = await generateIdentity();
  const src = 'base: &b\n  x: 1\n  y: [a, b]\nother: *b\nflow: {k: v, n: 2}\nfolded: >\n  folded\n  text\ntagged: !!str 123\nint: !!int "7"\n';
  assert.equal(parseYamlFast(src), undefined);
  const enc = await encryptText(src, { format: 'yaml', recipients: [recipient] });
  assert.ok(parseYamlFast(enc), 'the encrypted file is block style');
  assert.equal(await decryptText(enc, { format: 'yaml', identities: [identity] }), 'base:\n    x: 1\n    y:\n        - a\n        - b\nother:\n    x: 1\n    y:\n        - a\n        - b\nflow:\n    k: v\n    n: 2\nfolded: |\n    folded text\ntagged: "123"\nint: 7\n');
  await assert.rejects(encryptText('a: *nope\n', { format: 'yaml', recipients: [recipient] }), /alias/);
});
