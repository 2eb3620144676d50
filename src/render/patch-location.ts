// Owns pointing a failed spec patch at its place in the spec file (`spec.yaml:line:column` and the field
// path); other errors pass through unchanged.
import { CloudlabError } from '../core/errors.js';
import type { LoadedSpec } from '../spec/load.js';
import { formatPath } from '../spec/source.js';

/**
 * A failed spec patch (`patches.nodes.cp-1[0]`, or a file named in `patches`) pointed at its place in the spec
 * file: the error gains `spec.yaml:line:column` and the field path; other errors pass through unchanged.
 */
export function locatePatchError(e: unknown, loaded: LoadedSpec): unknown {
  if (!(e instanceof CloudlabError) || e.code !== 'PATCH_FAILED') return e;
  const first = e.problems[0];
  const label = first?.file ?? '';
  let at: (string | number)[] | undefined;
  const m = /^patches\.(all|controlplane|worker)\[(\d+)\]$/.exec(label) ?? /^patches\.(pools|nodes)\.(.+)\[(\d+)\]$/.exec(label);
  if (m) at = m.length === 3 ? ['patches', m[1]!, Number(m[2])] : ['patches', m[1]!, m[2]!, Number(m[3])];
  else {
    // A file patch is labelled by its path as written in the spec (then ` (path)` when it could not be read).
    const file = label.replace(/ \(.*\)$/, '');
    const p = loaded.spec.patches;
    const groups: [(string | number)[], readonly unknown[]][] = [
      [['patches', 'all'], p.all],
      [['patches', 'controlplane'], p.controlplane],
      [['patches', 'worker'], p.worker],
      ...Object.entries(p.pools).map(([k, v]): [(string | number)[], readonly unknown[]] => [['patches', 'pools', k], v]),
      ...Object.entries(p.nodes).map(([k, v]): [(string | number)[], readonly unknown[]] => [['patches', 'nodes', k], v]),
    ];
    for (const [path, list] of groups) {
      const i = list.indexOf(file);
      if (i >= 0) {
        at = [...path, i];
        break;
      }
    }
  }
  if (!at) return e;
  // An inline JSON patch failure names its operation (`[2]`, `[2].op`): point at that operation.
  const op = /^\[(\d+)\]/.exec(first?.path ?? '');
  const item = loaded.source.locate(at);
  const opPath = op && m ? [...at, 'jsonPatch', Number(op[1])] : at;
  const pos = op && m ? loaded.source.locate(opPath) : item;
  const where = `${loaded.source.file}:${pos.line}:${pos.column}`;
  return new CloudlabError({
    code: e.code,
    message: `${where}: ${e.message}`,
    ...(e.hint ? { hint: e.hint } : {}),
    exitCode: e.exitCode,
    problems: e.problems.map((p) => ({
      ...p,
      file: loaded.source.file,
      line: pos.line,
      column: pos.column,
      path: formatPath(opPath),
      message: [m ? '' : label, p.path ?? ''].filter(Boolean).join(' ') + (m || p.path ? ': ' : '') + p.message,
    })),
    details: { ...e.details, patch: label },
    ...(e.cause ? { cause: e.cause } : {}),
  });
}

