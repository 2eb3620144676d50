// Owns whether a configured node may apply a new configuration without a reboot, as Talos v1.12's
// Runtime.CanApplyImmediate decides: only the v1alpha1 document counts, and only the listed sections may change.
import { parseAllDocuments, stringify } from 'yaml';
import { unifiedDiff } from './textdiff.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sections of `machine` that may change in place (v1.12 CanApplyImmediate). */
const MACHINE_IMMEDIATE = [
  'ca', 'acceptedCAs', 'time', 'certSANs', 'install', 'network', 'sysfs', 'sysctls', 'logging', 'controlPlane', 'kubelet',
  'kernel', 'registries', 'pods', 'seccompProfiles', 'nodeAnnotations', 'nodeLabels', 'nodeTaints',
];
/** Sections of `machine.features` that may change in place. */
const FEATURES_IMMEDIATE = ['kubernetesTalosAPIAccess', 'kubePrism', 'hostDNS', 'imageCache', 'nodeAddressSortAlgorithm'];

function v1alpha1(raw: string): Obj | null {
  for (const d of parseAllDocuments(raw)) {
    const o = d.toJSON() as unknown;
    if (isObj(o) && o.version === 'v1alpha1' && o.kind === undefined) return o;
  }
  return null;
}

/** The v1alpha1 document with the in-place sections taken from `current` (as Talos copies them before comparing). */
function withImmediateFrom(next: Obj, current: Obj): Obj {
  const out = structuredClone(next);
  const copy = (dst: Obj, src: Obj, key: string) => {
    if (key in src) dst[key] = structuredClone(src[key]);
    else delete dst[key];
  };
  copy(out, current, 'debug');
  copy(out, current, 'cluster');
  const m = out.machine;
  const cm = current.machine;
  if (isObj(m) && isObj(cm)) {
    for (const k of MACHINE_IMMEDIATE) copy(m, cm, k);
    if (isObj(m.features) && isObj(cm.features)) for (const k of FEATURES_IMMEDIATE) copy(m.features, cm.features, k);
  }
  return out;
}

const encode = (o: Obj) => stringify(o, { lineWidth: 0, sortMapEntries: true });

/**
 * Null when `nextRaw` can be applied without a reboot on a node running `currentRaw`; otherwise Talos' error text,
 * "this config change can't be applied in immediate mode\ndiff:\n<diff of the v1alpha1 sections that need a reboot>".
 */
export function immediateApplyError(currentRaw: string, nextRaw: string): string | null {
  const current = v1alpha1(currentRaw);
  const next = v1alpha1(nextRaw);
  if (!current) return 'current config is not v1alpha1';
  if (!next) return 'new config is not v1alpha1';
  const masked = withImmediateFrom(next, current);
  const before = encode(current);
  const after = encode(masked);
  if (before === after) return null;
  return `this config change can't be applied in immediate mode\ndiff:\n${unifiedDiff(before, after).trimEnd()}`;
}

/** A duration as Go's time.Duration.String() prints whole seconds ("1m0s", "1m30s", "45s", "1h0m0s"). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}
