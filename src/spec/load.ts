// Owns loading a spec file: YAML parsing with positions, schema validation with located problems and
// did-you-mean hints, then the cross-field rules. All problems are reported together in one error.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type * as z from 'zod';
import { CloudlabError, EXIT_INVALID, type Problem } from '../core/errors.js';
import { readTextFile } from '../core/files.js';
import { clusterSpecSchema, type ClusterSpec, API_VERSION, KIND } from './schema.js';
import { SourceMap, formatPath, type PathSegment } from './source.js';
import { didYouMean } from '../core/suggest.js';
import { validateSpec, type ValidateOptions } from './validate.js';
import type { LoadedSpec } from './loaded.js';

export type { LoadedSpec } from './loaded.js';

type AnySchema = z.ZodType;
interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  innerType?: AnySchema;
  in?: AnySchema;
  element?: AnySchema;
  valueType?: AnySchema;
  options?: AnySchema[];
  values?: unknown[];
}
const defOf = (s: AnySchema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Finds the object schema at a path and returns its known keys (for did-you-mean). */
function knownKeysAt(schema: AnySchema, path: readonly PathSegment[]): string[] {
  let cur: AnySchema | undefined = schema;
  const unwrap = (s: AnySchema): AnySchema[] => {
    const d = defOf(s);
    if (d.type === 'default' || d.type === 'optional' || d.type === 'nullable' || d.type === 'prefault') return unwrap(d.innerType!);
    if (d.type === 'pipe') return unwrap(d.in!);
    if (d.type === 'union') return d.options!.flatMap(unwrap);
    return [s];
  };
  let candidates: AnySchema[] = cur ? unwrap(cur) : [];
  for (const seg of path) {
    const next: AnySchema[] = [];
    for (const c of candidates) {
      const d = defOf(c);
      if (d.type === 'object' && typeof seg === 'string' && d.shape?.[seg]) next.push(...unwrap(d.shape[seg]));
      else if (d.type === 'array' && typeof seg === 'number') next.push(...unwrap(d.element!));
      else if (d.type === 'record') next.push(...unwrap(d.valueType!));
    }
    candidates = next;
    cur = candidates[0];
  }
  const keys = new Set<string>();
  for (const c of candidates) {
    const d = defOf(c);
    if (d.type === 'object' && d.shape) for (const k of Object.keys(d.shape)) keys.add(k);
  }
  return [...keys];
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string "${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  return `${typeof v} ${String(v)}`;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur == null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Turns zod issues into located problems with hints. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], source: SourceMap, raw: unknown): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(clusterSpecSchema, path);
        for (const key of issue.keys) {
          const guess = didYouMean(key, known);
          problems.push(source.problem([...path, key], `unknown field "${key}"`, guess ? `did you mean "${guess}"?` : known.length ? `known fields here: ${known.join(', ')}` : undefined, { key: true }));
        }
        break;
      }
      case 'invalid_type': {
        const actual = valueAt(raw, path);
        if (actual === undefined) {
          problems.push(source.problem(path, `missing required field "${formatPath(path.slice(-1))}"`, `add ${formatPath(path)} (expected ${issue.expected})`));
        } else {
          problems.push(source.problem(path, `expected ${issue.expected}, got ${describeType(actual)}`));
        }
        break;
      }
      case 'invalid_value': {
        const actual = valueAt(raw, path);
        const allowed = issue.values.map((v) => String(v));
        const guess = typeof actual === 'string' ? didYouMean(actual, allowed) : undefined;
        const msg = issue.message && !issue.message.startsWith('Invalid') ? issue.message : `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`;
        problems.push(source.problem(path, `${describeType(actual)} is not allowed: ${msg}`, guess ? `did you mean "${guess}"?` : undefined));
        break;
      }
      case 'invalid_union': {
        problems.push(source.problem(path, `${describeType(valueAt(raw, path))} is not valid here`, 'see the JSON Schema (schema/cluster.schema.json) for the accepted forms'));
        break;
      }
      case 'too_small':
      case 'too_big': {
        problems.push(source.problem(path, issue.message.replace(/^Too (small|big): expected (\w+) to have /, 'must have ').replace(/^Too (small|big): expected number to be /, 'must be ')));
        break;
      }
      default:
        problems.push(source.problem(path, issue.message));
    }
  }
  return problems;
}

/** Parses YAML text into a source map, reporting syntax errors with positions. */
export function parseYamlSource(text: string, file: string): SourceMap {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const problems: Problem[] = [];
  for (const d of list) {
    for (const err of d.errors) {
      const pos = lines.linePos(err.pos[0]);
      const msg = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      problems.push({ file, line: pos.line, column: pos.col, message: `YAML syntax error: ${msg}`, hint: err.code === 'DUPLICATE_KEY' ? 'remove or rename the repeated key' : 'check indentation, colons and quotes around this line' });
    }
  }
  if (problems.length) throw new CloudlabError({ code: 'SPEC_YAML', message: `${file} is not valid YAML`, problems, exitCode: EXIT_INVALID });
  const real = list.filter((d) => d.contents !== null);
  if (real.length === 0) {
    throw new CloudlabError({ code: 'SPEC_EMPTY', message: `${file} is empty`, exitCode: EXIT_INVALID, hint: `start with:\n  apiVersion: ${API_VERSION}\n  kind: ${KIND}\n  name: my-cluster\n(see examples/single-node.yaml)` });
  }
  if (real.length > 1) {
    const pos = lines.linePos(real[1]!.range[0]);
    throw new CloudlabError({ code: 'SPEC_MULTIDOC', message: `${file} holds ${real.length} YAML documents; a spec is one document`, exitCode: EXIT_INVALID, problems: [{ file, line: pos.line, column: pos.col, message: 'second document starts here', hint: 'put each cluster in its own file' }] });
  }
  return new SourceMap(file, real[0]!, lines);
}

/** Validates already-parsed spec text. `file` is used in messages. */
export function parseSpec(text: string, file: string, absFile: string = resolve(file), opts: ValidateOptions = {}): LoadedSpec {
  const source = parseYamlSource(text, file);
  const raw = source.doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CloudlabError({ code: 'SPEC_INVALID', message: `${file} must be a YAML mapping (key: value pairs)`, exitCode: EXIT_INVALID, problems: [source.problem([], `got ${describeType(raw)}`)] });
  }
  // Interpreted, not JIT-compiled: zod's JIT builds a parser per object shape with `new Function` on first use,
  // which no compile cache keeps; a spec is parsed once per process, so that costs more than it saves (about 6 ms
  // of `plan --offline`'s start-up). The result is the same either way.
  const result = clusterSpecSchema.safeParse(raw, { jitless: true });
  if (!result.success) {
    const problems = issuesToProblems(result.error.issues, source, raw);
    throw specError(file, problems);
  }
  const loaded: LoadedSpec = { spec: result.data, file: absFile, dir: dirname(absFile), source, patchFiles: readPatchFiles(result.data, dirname(absFile)) };
  const problems = validateSpec(loaded, opts);
  if (problems.length) throw specError(file, problems);
  return loaded;
}

/** Reads every patch file the spec names, relative to its directory; an unreadable one is kept as its error (the
 * config that needs it fails, located, when it is rendered). */
function readPatchFiles(spec: ClusterSpec, dir: string): LoadedSpec['patchFiles'] {
  const p = spec.patches;
  const all: unknown[] = [...p.all, ...p.controlplane, ...p.worker, ...Object.values(p.pools).flat(), ...Object.values(p.nodes).flat()];
  const out: LoadedSpec['patchFiles'] = {};
  for (const patch of all) {
    if (typeof patch !== 'string' || patch in out) continue;
    try {
      out[patch] = { text: readFileSync(isAbsolute(patch) ? patch : resolve(dir, patch), 'utf8') };
    } catch (e) {
      out[patch] = { error: (e as Error).message };
    }
  }
  return out;
}

function specError(file: string, problems: Problem[]): CloudlabError {
  const sorted = [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  const n = sorted.length;
  return new CloudlabError({
    code: 'SPEC_INVALID',
    message: `${file}: ${n} problem${n === 1 ? '' : 's'} in the cluster spec`,
    problems: sorted,
    exitCode: EXIT_INVALID,
    hint: 'fix the fields above; `cloudlab validate` re-checks without touching anything',
  });
}

/** Reads and validates a spec file. `cwd` resolves a relative path. */
export function loadSpec(file: string, cwd = process.cwd(), opts: ValidateOptions = {}): LoadedSpec {
  const path = resolve(cwd, file);
  const text = readTextFile(path, 'cluster spec');
  return parseSpec(text, file, path, opts);
}
