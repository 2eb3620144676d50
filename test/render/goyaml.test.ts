// Tests the Go-yaml-compatible emitter: indentation of nested blocks, quoting, literal blocks, empty values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { goYaml, goYamlDocuments } from '../../src/render/goyaml.js';

test('layout: 4-space indent, indented sequences, list-item blocks indent from the dash', () => {
  const doc = { a: { b: [1, 2], c: {} , d: [] }, e: [{ name: 'x', conf: { k: 'v' }, opts: ['r'] }], f: '' };
  assert.equal(goYaml(doc), 'a:\n    b:\n        - 1\n        - 2\n    c: {}\n    d: []\ne:\n    - name: x\n      conf:\n        k: v\n      opts:\n        - r\nf: ""\n');
  assert.equal(goYamlDocuments([{ a: 1 }, { b: 2 }]), 'a: 1\n---\nb: 2\n');
});

test('quoting follows go-yaml: YAML 1.1 booleans, base-60, numbers-as-strings, keywords', () => {
  const out = goYaml({ a: 'yes', b: 'off', c: '10', d: '1:20', e: 'true', f: '0xa', g: 'plain-text/ok', h: 'has space', i: '*star', j: 3, k: false });
  assert.equal(out, 'a: "yes"\nb: "off"\nc: "10"\nd: "1:20"\ne: "true"\nf: "0xa"\ng: plain-text/ok\nh: has space\ni: "*star"\nj: 3\nk: false\n');
  assert.deepEqual(YAML.parse(out, { version: '1.1' }).a, 'yes');
});

test('multi-line strings become literal blocks that parse back', () => {
  const v = { m: 'line1\nline2\n', p: 'no-final\nnewline' };
  const out = goYaml(v);
  assert.equal(out, 'm: |\n    line1\n    line2\np: |-\n    no-final\n    newline\n');
  assert.deepEqual(YAML.parse(out), v);
  const inList = goYaml({ meta: [{ key: 10, value: 'a: 1\nb: 2\n' }] });
  assert.deepEqual(YAML.parse(inList), { meta: [{ key: 10, value: 'a: 1\nb: 2\n' }] });
});

test('literal blocks in list items indent from the dash, as Talos encodes inlineManifests', () => {
  const out = goYaml({ cluster: { inlineManifests: [{ name: 'cilium', contents: '---\napiVersion: v1\n' }] } });
  assert.equal(out, 'cluster:\n    inlineManifests:\n        - name: cilium\n          contents: |\n            ---\n            apiVersion: v1\n');
});
