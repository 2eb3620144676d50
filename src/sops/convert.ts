// Owns conversion of plaintext between the structured stores (sops --output-type): YAML ↔ JSON, and flat
// maps to/from dotenv, through an ordered tree so key order (also of numeric-looking keys) is kept.
import { Document, Pair, YAMLMap, YAMLSeq, Scalar, isMap, isSeq, isScalar, parseAllDocuments } from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { resolvePlainYaml, needsYamlQuoting } from './values.js';
import { parseJsonOrdered, printJson, type JNode } from './stores/json.js';
import type { SopsFormat } from './stores/types.js';

function yamlToJ(node: unknown): JNode {
  if (isMap(node)) return { k: 'obj', entries: node.items.map((p) => ({ key: String(isScalar(p.key) ? p.key.value : p.key ?? ''), value: yamlToJ(p.value) })) };
  if (isSeq(node)) return { k: 'arr', items: node.items.map(yamlToJ) };
  if (isScalar(node)) {
    const text = String(node.value ?? '');
    const v = node.type === 'PLAIN' || node.type === undefined ? resolvePlainYaml(text) : { type: 'str' as const, bytes: Buffer.from(text) };
    if (v === null) return { k: 'null' };
    const b = v.bytes.toString('utf8');
    if (v.type === 'int') return { k: 'num', raw: b };
    if (v.type === 'float') return /^-?\d+(\.\d+)?$/.test(b) ? { k: 'num', raw: b } : { k: 'str', v: b };
    if (v.type === 'bool') return { k: 'bool', v: b === 'True' };
    return { k: 'str', v: b };
  }
  return { k: 'null' };
}

function jToYaml(n: JNode): unknown {
  switch (n.k) {
    case 'obj': {
      const m = new YAMLMap();
      for (const e of n.entries) {
        const key = new Scalar(e.key);
        if (needsYamlQuoting(e.key, { yaml11: false })) key.type = 'QUOTE_DOUBLE';
        m.items.push(new Pair(key, jToYaml(e.value)));
      }
      return m;
    }
    case 'arr': {
      const s = new YAMLSeq();
      s.items = n.items.map(jToYaml);
      return s;
    }
    case 'str': {
      const s = new Scalar(n.v);
      s.type = needsYamlQuoting(n.v) || /[\n\r]/.test(n.v) ? 'QUOTE_DOUBLE' : 'PLAIN';
      return s;
    }
    case 'num': {
      const s = new Scalar(n.raw);
      s.type = 'PLAIN';
      return s;
    }
    case 'bool':
      return Object.assign(new Scalar(n.v ? 'true' : 'false'), { type: 'PLAIN' });
    case 'null':
      return Object.assign(new Scalar('null'), { type: 'PLAIN' });
  }
}

function badConversion(file: string, why: string): CloudlabError {
  return new CloudlabError({ code: 'SOPS_BAD_FORMAT', exitCode: EXIT_INVALID, message: `${file}: cannot convert: ${why}`, hint: 'use an output type that can hold this data' });
}

/** Converts plaintext of one structured store into another. */
export function convertVia(input: Buffer, from: SopsFormat, to: SopsFormat, file: string): Buffer {
  let roots: JNode[];
  const text = input.toString('utf8');
  if (from === 'yaml') roots = parseAllDocuments(text, { schema: 'failsafe' }).map((d) => yamlToJ(d.contents));
  else if (from === 'json') roots = [parseJsonOrdered(text, file)];
  else {
    const entries = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
      const eq = l.indexOf('=');
      return { key: l.slice(0, eq), value: { k: 'str', v: l.slice(eq + 1).replace(/\\n/g, '\n') } as JNode };
    });
    roots = [{ k: 'obj', entries }];
  }
  if (to === 'json') {
    if (roots.length !== 1) throw badConversion(file, 'a multi-document YAML file has no single JSON form');
    return Buffer.from(printJson(roots[0] as JNode), 'utf8');
  }
  if (to === 'yaml') {
    return Buffer.from(roots.map((r, i) => {
      const d = new Document(undefined, { schema: 'failsafe' });
      d.contents = jToYaml(r) as never;
      return (i ? '---\n' : '') + d.toString({ indent: 4, lineWidth: 0 });
    }).join(''), 'utf8');
  }
  if (roots.length !== 1 || roots[0]?.k !== 'obj') throw badConversion(file, 'dotenv needs a single flat map');
  const lines = roots[0].entries.map((e) => {
    if (e.value.k === 'obj' || e.value.k === 'arr') throw badConversion(file, `"${e.key}" is nested; dotenv holds flat KEY=VALUE pairs`);
    const v = e.value.k === 'str' ? e.value.v : e.value.k === 'num' ? e.value.raw : e.value.k === 'bool' ? String(e.value.v) : '';
    return `${e.key}=${v.replace(/\n/g, '\\n')}\n`;
  });
  return Buffer.from(lines.join(''), 'utf8');
}
