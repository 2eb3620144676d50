// Owns the shapes both machine-config generators share (generate.ts, generate-v114.ts): a config document and the
// input of a generation.
import type { SecretsBundle } from './secrets.js';
import type { Contract } from './contract.js';

export type ConfigDoc = Record<string, unknown>;

export interface GenInput {
  clusterName: string;
  /** https://host:port */
  endpoint: string;
  /** Without v prefix. */
  kubernetesVersion: string;
  contract: Contract;
  bundle: SecretsBundle;
  installDisk?: string;
  installImage?: string;
  additionalSANs?: string[];
  dnsDomain?: string;
  podSubnets?: string[];
  serviceSubnets?: string[];
  allowSchedulingOnControlPlanes?: boolean;
  /** `--registry-mirror host=url` pairs, in flag order. */
  registryMirrors?: { host: string; endpoint: string }[];
}
