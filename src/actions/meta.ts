// Owns the facts about cloudlab itself: its version, the Node.js it runs on, and the Talos minors (with their
// Kubernetes range) it supports.
import { packageVersion } from '../core/package-root.js';
import { TALOS_MINORS } from '../spec/versions.js';

export interface VersionInfo {
  version: string;
  node: string;
  supported: { talos: string; kubernetes: { min: string; max: string; default: string } }[];
}

export function versionInfo(): VersionInfo {
  const supported = TALOS_MINORS.map((m) => ({ talos: `v${m.minor}`, kubernetes: { min: m.kubernetesMin, max: m.kubernetesMax, default: m.defaultKubernetes } }));
  return { version: packageVersion(), node: process.versions.node, supported };
}
