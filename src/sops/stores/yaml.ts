// Owns the SOPS YAML store on top of the `yaml` Document API: multi-document files, key order and comments
// preserved, yaml.v3 scalar typing (so MAC bytes match Go sops), comments as encryptable leaves.
import { parseAllDocuments, isMap, isSeq, isScalar, isAlias, isPair, visit, Document, Scalar, YAMLMap, type Node as YNode } from 'yaml';
import { invalidInput } from '../../core/errors.js';
import type { SopsScalar } from '../cipher.js';
import { needsYamlQuoting, resolvePlainYaml, goParseInt, goParseBool, jsonNumber, str } from '../values.js';
import type { Leaf, SopsDoc } from './types.js';
import { parseYamlFast } from './yaml-fast.js';

const STR_TAGS = new Set(['tag:yaml.org,2002:str', '!!str', '!']);

/** The typed value of a YAML scalar, following yaml.v3 (null → undefined: never encrypted, not in the MAC). */
function scalarValue(node: Scalar, where: string): SopsScalar | null {
  const text = String(node.value ?? '');
  const tag = node.tag;
  if (tag && !STR_TAGS.has(tag)) {
    const short = tag.replace(/^tag:yaml\.org,2002:/, '!!');
    if (short === '!!int') {
      const v = goParseInt(text);
      if (v === undefined) throw invalidInput('SOPS_BAD_YAML', `${where}: !!int value ${JSON.stringify(text)} is not an integer`);
      return { type: 'int', bytes: Buffer.from(v.toString()) };
    }
    if (short === '!!float') return jsonNumber(text.replace(/_/g, ''));
    if (short === '!!bool') {
      const b = goParseBool(text);
      if (b === undefined) throw invalidInput('SOPS_BAD_YAML', `${where}: !!bool value ${JSON.stringify(text)} is not a boolean`);
      return { type: 'bool', bytes: Buffer.from(b ? 'True' : 'False') };
    }
    if (short === '!!null') return null;
    return str(text);
  }
  if (tag && STR_TAGS.has(tag)) return str(text);
  if (node.type === 'PLAIN' || node.type === undefined) return resolvePlainYaml(text);
  return str(text);
}

/** A multi-line string a `|` block can hold without an indentation indicator (the first content line unindented). */
function literalSafe(text: string): boolean {
  if (text.includes('\r') || /^\s*$/.test(text)) return false;
  const first = text.split('\n').find((l) => l !== '');
  return first !== undefined && !/^[ \t]/.test(first) && !/[^\n\x20-\x7e\u00a0-\uffff]/u.test(text.replace(/\t/g, ' '));
}

/** Writes a typed plaintext into a scalar node so that yaml.v3 reads back the same type and bytes. */
function assignScalar(node: Scalar, v: SopsScalar): void {
  node.tag = undefined;
  const text = v.bytes.toString('utf8');
  switch (v.type) {
    case 'int':
      node.value = text;
      node.type = 'PLAIN';
      return;
    case 'float': {
      let t = text;
      if (t === '+Inf') t = '.inf';
      else if (t === '-Inf') t = '-.inf';
      else if (t === 'NaN') t = '.nan';
      else if (!/[.eE]/.test(t)) t += '.0';
      node.value = t;
      node.type = 'PLAIN';
      return;
    }
    case 'bool':
      node.value = goParseBool(text) ? 'true' : 'false';
      node.type = 'PLAIN';
      return;
    case 'time':
      node.value = text;
      node.type = 'PLAIN';
      return;
    default:
      node.value = text;
      if (needsYamlQuoting(text)) node.type = 'QUOTE_DOUBLE';
      else if (text.includes('\n') || text.includes('\r')) node.type = literalSafe(text) ? 'BLOCK_LITERAL' : 'QUOTE_DOUBLE';
      else node.type = 'PLAIN';
  }
}

type CommentHolder = { commentBefore?: string | null; comment?: string | null };

class YamlDoc implements SopsDoc {
  readonly format = 'yaml' as const;
  constructor(private readonly docs: Document[]) {}

  private maps(): (YAMLMap | null)[] {
    return this.docs.map((d) => (isMap(d.contents) ? (d.contents as YAMLMap) : null));
  }

  leaves(opts: { forEncrypt?: boolean } = {}): Leaf[] {
    const out: Leaf[] = [];
    const forEncrypt = Boolean(opts.forEncrypt);
    const addComments = (holder: CommentHolder | null | undefined, path: string[]): void => {
      if (!holder) return;
      for (const prop of ['commentBefore', 'comment'] as const) {
        const text = holder[prop];
        if (typeof text !== 'string' || text === '') continue;
        const lines = text.split('\n');
        lines.forEach((line, i) => {
          if (line === '') return;
          const set = (s: string): void => {
            lines[i] = s;
            holder[prop] = lines.join('\n');
          };
          out.push({ path, comment: true, value: { type: 'comment', bytes: Buffer.from(line, 'utf8') }, setPlain: (v) => set(v.bytes.toString('utf8')), setEncrypted: set });
        });
      }
    };
    // `container` is the path comments in this node belong to: the innermost enclosing map, or the key
    // path of the enclosing sequence (sops: a comment's AAD is the path of the collection holding it).
    const walk = (node: unknown, path: string[], container: string[], where: string): void => {
      if (isMap(node)) {
        addComments(node as CommentHolder, container);
        const seen = new Set<string>();
        for (const pair of node.items) {
          const keyNode = pair.key;
          let key: string;
          if (isScalar(keyNode)) {
            key = String(keyNode.value ?? '');
            if (forEncrypt && (keyNode.type === 'PLAIN' || keyNode.type === undefined) && needsYamlQuoting(key, { yaml11: false })) keyNode.type = 'QUOTE_DOUBLE';
          } else if (keyNode == null) {
            key = '';
          } else {
            throw invalidInput('SOPS_BAD_YAML', `${where}: complex (non-scalar) mapping keys are not supported`, [], 'use plain string keys');
          }
          if (seen.has(key)) throw invalidInput('SOPS_BAD_YAML', `${where}: duplicate key ${JSON.stringify(key)}`, [], 'remove one of the duplicate keys');
          seen.add(key);
          const childPath = [...path, key];
          addComments(keyNode as CommentHolder, path);
          walk(pair.value, childPath, path, `${where}.${key}`);
        }
        return;
      }
      if (isSeq(node)) {
        addComments(node as CommentHolder, container);
        node.items.forEach((item, i) => walk(item, path, path, `${where}[${i}]`));
        return;
      }
      if (isScalar(node)) {
        addComments(node as CommentHolder, container);
        let v = scalarValue(node, where);
        if (v === null) return;
        if (forEncrypt && v.type === 'time') {
          // sops 3.9 cannot encrypt time values: keep them as strings (quoted, so sops 3.10+ agrees).
          v = str(String(node.value));
          node.type = 'QUOTE_DOUBLE';
        }
        const n = node;
        out.push({ path, comment: false, value: v, setPlain: (p) => assignScalar(n, p), setEncrypted: (enc) => ((n.value = enc), (n.type = 'PLAIN'), (n.tag = undefined)) });
        return;
      }
    };
    this.docs.forEach((d, i) => {
      addComments(d as CommentHolder, []);
      const m = d.contents;
      if (m == null) return;
      addComments(m as CommentHolder, []);
      const items = isMap(m) ? m.items.filter((p) => !(isScalar(p.key) && p.key.value === 'sops')) : [];
      const top = new YAMLMap();
      top.items = items;
      walk(top, [], [], `document ${i + 1}`);
    });
    return out;
  }

  getMetadata(): Record<string, unknown> | undefined {
    const m = this.maps()[0];
    const node = m?.items.find((p) => isScalar(p.key) && p.key.value === 'sops')?.value;
    if (!node) return undefined;
    const js = (node as YNode).toJSON() as unknown;
    return js && typeof js === 'object' && !Array.isArray(js) ? (js as Record<string, unknown>) : { invalid: js };
  }

  setMetadata(meta: Record<string, unknown>): void {
    this.removeMetadata();
    for (const d of this.docs) {
      if (d.contents == null) d.contents = new YAMLMap() as unknown as typeof d.contents;
      const prepared = JSON.parse(JSON.stringify(meta), (_k, v: unknown) => (typeof v === 'boolean' ? `\u0000bool:${v}` : v)) as unknown;
      const node = d.createNode(prepared);
      visit(node, {
        Scalar(_, n) {
          if (typeof n.value !== 'string') return;
          if (n.value.startsWith('\u0000bool:')) {
            n.value = n.value.slice(6);
            n.type = 'PLAIN';
          } else if (!n.value.includes('\n') && needsYamlQuoting(n.value)) n.type = 'QUOTE_DOUBLE';
        },
      });
      (d.contents as YAMLMap).items.push(d.createPair('sops', node) as never);
    }
  }

  removeMetadata(): void {
    for (const m of this.maps()) if (m) m.items = m.items.filter((p) => !(isScalar(p.key) && p.key.value === 'sops'));
  }

  serialize(): Buffer {
    const text = this.docs.map((d, i) => {
      const s = d.toString({ indent: 4, lineWidth: 0, minContentWidth: 0 });
      return i === 0 && !d.directives?.docStart ? s : (s.startsWith('---') ? s : `---\n${s}`);
    });
    return Buffer.from(text.join(''), 'utf8');
  }
}

/**
 * Parses YAML text (plaintext or SOPS-encrypted) into a store document; top levels must be mappings.
 * Block-style files take the fast line-based path (untouched lines kept byte for byte); anything else, and
 * every error report, goes through the `yaml` Document API.
 */
export function parseYaml(text: string, file = '<input>'): SopsDoc {
  return parseYamlFast(text) ?? parseYamlDocument(text, file);
}

/** The general path: the `yaml` Document API (flow style, anchors, tags, multi-line scalars …). */
export function parseYamlDocument(text: string, file = '<input>'): SopsDoc {
  // Duplicate keys are checked while walking (O(n)); the parser's own check is quadratic in map size.
  const docs = parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: false, keepSourceTokens: false });
  if (!Array.isArray(docs)) return new YamlDoc([]);
  for (const d of docs) {
    const err = d.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      throw invalidInput('SOPS_BAD_YAML', `${file}: not valid YAML: ${err.message.split('\n')[0]}`, [{ file, ...(line ? { line } : {}), message: err.message.split('\n')[0] ?? 'parse error' }], 'fix the YAML syntax');
    }
  }
  docs.forEach((d, i) => {
    if (d.contents != null && !isMap(d.contents)) {
      throw invalidInput('SOPS_BAD_YAML', `${file}: document ${i + 1} is not a mapping`, [{ file, message: 'top level must be a mapping' }], 'sops only encrypts YAML documents whose top level is a map of keys');
    }
    // Aliases are expanded, as yaml.v3 does when sops loads a file.
    visit(d, {
      Alias(_, node) {
        const target = node.resolve(d);
        if (!target) throw invalidInput('SOPS_BAD_YAML', `${file}: unresolved alias *${node.source}`, [{ file, message: `alias *${node.source} has no anchor` }], 'define the anchor (&name) before using the alias');
        return target.clone() as YNode;
      },
    });
    // Anchors go (their aliases are expanded) and collections are written in block style, as sops writes them.
    visit(d, {
      Node(_, node) {
        if (!isAlias(node) && !isPair(node) && (node as { anchor?: string }).anchor) (node as { anchor?: string }).anchor = undefined;
        if ((isMap(node) || isSeq(node)) && node.items.length > 0) node.flow = false;
      },
    });
  });
  return new YamlDoc(docs as Document[]);
}
