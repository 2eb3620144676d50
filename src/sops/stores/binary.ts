// Owns the SOPS binary store: the whole file becomes one `data` value (raw bytes, never UTF-8 decoded),
// written through the JSON store as `{"data": "ENC[…]", "sops": {…}}`.
import { invalidInput } from '../../core/errors.js';
import type { Leaf, SopsDoc } from './types.js';
import { parseJson, printJson, toJNode, type JsonDoc } from './json.js';

class BinaryPlainDoc implements SopsDoc {
  readonly format = 'binary' as const;
  private enc: string | undefined;
  private meta: Record<string, unknown> | undefined;
  constructor(private data: Buffer) {}

  leaves(): Leaf[] {
    return [{ path: ['data'], comment: false, value: { type: 'str', bytes: this.data }, setPlain: (v) => (this.data = v.bytes), setEncrypted: (e) => (this.enc = e) }];
  }
  getMetadata(): Record<string, unknown> | undefined {
    return this.meta;
  }
  setMetadata(meta: Record<string, unknown>): void {
    this.meta = meta;
  }
  removeMetadata(): void {
    this.meta = undefined;
  }
  serialize(): Buffer {
    if (this.enc === undefined) return this.data;
    const root = { k: 'obj' as const, entries: [{ key: 'data', value: { k: 'str' as const, v: this.enc } }, ...(this.meta ? [{ key: 'sops', value: toJNode(this.meta) }] : [])] };
    return Buffer.from(printJson(root), 'utf8');
  }
}

/** An encrypted binary-store file: the JSON store with one `data` leaf; serializes the raw bytes once decrypted. */
class BinaryEncryptedDoc implements SopsDoc {
  readonly format = 'binary' as const;
  private plain: Buffer | undefined;
  constructor(private readonly json: JsonDoc) {}
  leaves(): Leaf[] {
    const leaves = this.json.leaves().filter((l) => l.path.length === 1 && l.path[0] === 'data');
    return leaves.map((l) => ({ ...l, path: l.path, comment: false, value: l.value, setPlain: (v) => (this.plain = v.bytes), setEncrypted: l.setEncrypted }));
  }
  getMetadata(): Record<string, unknown> | undefined {
    return this.json.getMetadata();
  }
  setMetadata(meta: Record<string, unknown>): void {
    this.json.setMetadata(meta);
  }
  removeMetadata(): void {
    this.json.removeMetadata();
  }
  serialize(): Buffer {
    return this.plain ?? this.json.serialize();
  }
}

export function binaryPlain(data: Buffer): SopsDoc {
  return new BinaryPlainDoc(data);
}

export function parseBinaryEncrypted(text: string, file = '<input>'): SopsDoc {
  const json = parseJson(text, file);
  if (!json.root.entries.some((e) => e.key === 'data' && e.value.k === 'str')) {
    throw invalidInput('SOPS_NOT_ENCRYPTED', `${file}: not a SOPS binary-store file (no "data" value)`, [{ file, message: 'missing "data"' }], 'pass --input-type if the file is YAML, JSON or dotenv');
  }
  return new BinaryEncryptedDoc(json);
}
