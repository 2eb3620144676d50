// Owns the Talos config version contract: which Talos minors cloudlab renders for and the per-version switches
// that change what `talosctl gen config` emits (from talos pkg/machinery/config/contract.go and the goldens).
import { CloudlabError, EXIT_INVALID } from '../../core/errors.js';
import { LATEST_TALOS_VERSION, TALOS_MINORS, defaultKubernetesFor, supportedTalosRange } from '../../spec/versions.js';
import { parseTalosMinor } from './secrets.js';

/** What `cloudlab gen config` targets when --talos-version is not given (the newest stable Talos it knows). */
export const DEFAULT_TALOS_VERSION = LATEST_TALOS_VERSION;

export interface Contract {
  major: number;
  minor: number;
  /** rbac/stableHostname/apidCheckExtKeyUsage features and apiServer.disablePodSecurityPolicy (contract <= 1.11). */
  legacyFeatureFlags: boolean;
  /** apiServer.certSANs seeded with the endpoint host (contract <= 1.11). */
  populateClusterSANsFromEndpoint: boolean;
  /** install.grubUseUKICmdline: true (contract >= 1.12). */
  grubUseUKICmdline: boolean;
  /** Multi-document network config (HostnameConfig, LinkConfig, ResolverConfig, Layer2VIPConfig; >= 1.12). */
  multidocNetwork: boolean;
  /** `machine.network: {}` is emitted even when empty (contract <= 1.12). */
  emptyMachineNetwork: boolean;
  /** Kubernetes, discovery, install and host settings as separate documents (contract >= 1.14, generate-v114.ts). */
  kubeDocuments: boolean;
}

/** The contract of a Talos version; unsupported versions are input errors naming the field. */
export function contractFor(talosVersion: string, field = 'versions.talos'): Contract {
  const v = parseTalosMinor(talosVersion);
  if (!v || v[0] !== 1 || !TALOS_MINORS.some((m) => m.minor === `${v[0]}.${v[1]}`)) {
    throw new CloudlabError({
      code: 'TALOS_VERSION_UNSUPPORTED',
      message: `${field}: Talos ${talosVersion} is outside the supported range ${supportedTalosRange()}`,
      hint: `Use a supported Talos version, e.g. ${LATEST_TALOS_VERSION}.`,
      problems: [{ path: field, message: `unsupported Talos version ${talosVersion}` }],
      exitCode: EXIT_INVALID,
    });
  }
  const minor = v[1];
  return {
    major: 1,
    minor,
    legacyFeatureFlags: minor <= 11,
    populateClusterSANsFromEndpoint: minor <= 11,
    grubUseUKICmdline: minor >= 12,
    multidocNetwork: minor >= 12,
    emptyMachineNetwork: minor <= 12,
    kubeDocuments: minor >= 14,
  };
}

/** Default Kubernetes version of a Talos version (its constants.DefaultKubernetesVersion at the newest patch). */
export function defaultKubernetesVersion(talosVersion: string): string {
  const k = defaultKubernetesFor(talosVersion);
  if (!k) contractFor(talosVersion);
  return k!;
}

/** The Image Factory schematic of an image without customization (talos pkg/images DefaultInstallerImageSchematic). */
export const EMPTY_SCHEMATIC = '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba';

/**
 * talosctl's default installer image (`gen config --install-image`) for a Talos version: from 1.14 the Image
 * Factory's metal installer of the empty schematic (cmd/talosctl/cmd/mgmt/gen/config.go
 * `images.InstallerImageRepository("metal")`, commit 96a8ecd1e "feat: default to factory installer image"), before
 * it ghcr.io/siderolabs/installer (`images.DefaultInstallerImageRepository`).
 */
export function defaultInstallerImage(talosVersion: string): string {
  const tag = talosVersion.startsWith('v') ? talosVersion : `v${talosVersion}`;
  const minor = Number(/^v\d+\.(\d+)\./.exec(tag)?.[1] ?? 0);
  return minor >= 14 ? `factory.talos.dev/metal-installer/${EMPTY_SCHEMATIC}:${tag}` : `ghcr.io/siderolabs/installer:${tag}`;
}
