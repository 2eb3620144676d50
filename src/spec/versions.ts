// Owns the Talos support matrix: which Talos minors cloudlab supports, the newest patch of each, its default
// Kubernetes version and the Kubernetes range it supports. Facts from siderolabs/talos at each minor's newest tag:
// pkg/machinery/constants/constants.go (DefaultKubernetesVersion, SupportedKubernetesVersions = 6) and
// pkg/machinery/compatibility/talos1XX/talos1XX.go (Minimum/MaximumKubernetesVersion); docs/talos.md lists the tags.

export interface TalosMinor {
  minor: string; // "1.12"
  latest: string; // newest patch release cloudlab knows, e.g. "v1.12.11"
  defaultKubernetes: string; // DefaultKubernetesVersion of that patch, e.g. "1.35.4"
  kubernetesMin: string; // lowest supported Kubernetes minor, e.g. "1.30"
  kubernetesMax: string; // highest supported Kubernetes minor, e.g. "1.35"
}

/** Talos minors cloudlab supports, oldest first. */
export const TALOS_MINORS: readonly TalosMinor[] = [
  { minor: '1.11', latest: 'v1.11.6', defaultKubernetes: '1.34.1', kubernetesMin: '1.29', kubernetesMax: '1.34' },
  { minor: '1.12', latest: 'v1.12.11', defaultKubernetes: '1.35.4', kubernetesMin: '1.30', kubernetesMax: '1.35' },
  { minor: '1.13', latest: 'v1.13.9', defaultKubernetes: '1.36.3', kubernetesMin: '1.31', kubernetesMax: '1.36' },
  { minor: '1.14', latest: 'v1.14.4', defaultKubernetes: '1.37.1', kubernetesMin: '1.32', kubernetesMax: '1.37' },
];

/** The Talos version new specs and `gen config` use: the newest patch of the newest supported minor. */
export const LATEST_TALOS_VERSION = TALOS_MINORS.at(-1)!.latest;

/** "v1.11.x – v1.14.x": the supported range, for messages. */
export function supportedTalosRange(): string {
  return `v${TALOS_MINORS[0]!.minor}.x – v${TALOS_MINORS.at(-1)!.minor}.x`;
}

export function normalizeTalosVersion(v: string): string {
  return v.startsWith('v') ? v : `v${v}`;
}

export function normalizeKubernetesVersion(v: string): string {
  return v.startsWith('v') ? v.slice(1) : v;
}

function minorOf(v: string): string {
  const [maj, min] = normalizeKubernetesVersion(v.replace(/^v/, '')).split('.');
  return `${maj}.${min}`;
}

function cmpMinor(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1! - b1! || a2! - b2!;
}

export function talosMinor(version: string): TalosMinor | undefined {
  return TALOS_MINORS.find((m) => m.minor === minorOf(version));
}

export interface VersionCheck {
  ok: boolean;
  message?: string;
  hint?: string;
  field?: 'talos' | 'kubernetes';
}

/** Checks a Talos/Kubernetes pair against the support matrix. */
export function checkVersions(talos: string, kubernetes: string | undefined): VersionCheck {
  const tm = talosMinor(talos);
  if (!tm) {
    return {
      ok: false,
      field: 'talos',
      message: `Talos ${normalizeTalosVersion(talos)} is outside the supported range ${supportedTalosRange()}`,
      hint: `use a supported Talos version, e.g. ${LATEST_TALOS_VERSION} (the newest cloudlab knows)`,
    };
  }
  if (kubernetes === undefined) return { ok: true };
  const km = minorOf(kubernetes);
  if (cmpMinor(km, tm.kubernetesMin) < 0 || cmpMinor(km, tm.kubernetesMax) > 0) {
    return {
      ok: false,
      field: 'kubernetes',
      message: `Kubernetes ${normalizeKubernetesVersion(kubernetes)} is not supported by Talos ${tm.minor} (supported: ${tm.kubernetesMin}.x – ${tm.kubernetesMax}.x)`,
      hint: `use Kubernetes ${tm.defaultKubernetes} (the Talos ${tm.minor} default) or omit versions.kubernetes`,
    };
  }
  return { ok: true };
}

export function defaultKubernetesFor(talos: string): string | undefined {
  return talosMinor(talos)?.defaultKubernetes;
}
