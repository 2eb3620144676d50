// Owns the Talos support matrix: which Talos minors cloudlab renders for, each minor's default Kubernetes
// version and the Kubernetes range it supports (from the Talos docs' support matrix and machinery constants).

export interface TalosMinor {
  minor: string; // "1.12"
  defaultKubernetes: string; // latest patch default, e.g. "1.35.4"
  kubernetesMin: string; // lowest supported Kubernetes minor, e.g. "1.30"
  kubernetesMax: string; // highest supported Kubernetes minor, e.g. "1.35"
}

/** Talos minors cloudlab supports, oldest first. */
export const TALOS_MINORS: readonly TalosMinor[] = [
  { minor: '1.10', defaultKubernetes: '1.33.6', kubernetesMin: '1.28', kubernetesMax: '1.33' },
  { minor: '1.11', defaultKubernetes: '1.34.1', kubernetesMin: '1.29', kubernetesMax: '1.34' },
  { minor: '1.12', defaultKubernetes: '1.35.4', kubernetesMin: '1.30', kubernetesMax: '1.35' },
  { minor: '1.13', defaultKubernetes: '1.36.3', kubernetesMin: '1.31', kubernetesMax: '1.36' },
];

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
    const supported = TALOS_MINORS.map((m) => `v${m.minor}.x`).join(', ');
    return { ok: false, field: 'talos', message: `Talos ${normalizeTalosVersion(talos)} is not supported by this cloudlab`, hint: `use one of ${supported}` };
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
