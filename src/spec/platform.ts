// Owns the spec's platform section shapes: Cilium (cni: cilium), Flux GitOps with SOPS, and the Proxmox cloud
// controller manager and CSI plugin — with the pinned default versions cloudlab installs.
import * as z from 'zod';
import { secretRef } from './secret-ref.js';

/** Pinned defaults (see docs/platform.md for where each comes from and how to move a pin). */
export const PLATFORM_DEFAULTS = {
  /** Cilium release installed by the cilium-cli Job (quay.io/cilium/cilium:<version>). */
  ciliumVersion: 'v1.17.5',
  /** The cilium-cli image that runs `cilium install` (quay.io/cilium/cilium-cli:<tag>). */
  ciliumCliVersion: 'v0.18.5',
  /** Flux release whose install manifest is applied (fluxcd/flux2 releases). */
  fluxVersion: 'v2.9.4',
  /** sergelogvinov/proxmox-cloud-controller-manager image tag. */
  ccmVersion: 'v0.13.1',
  /** sergelogvinov/proxmox-csi-plugin image tag. */
  csiVersion: 'v0.19.1',
} as const;

const semverTag = (what: string, example: string) => z.string().regex(/^v\d+\.\d+\.\d+$/, `must be a ${what} release tag such as ${example}`);


export const ciliumSchema = z
  .strictObject({
    version: semverTag('Cilium', 'v1.17.5').default(PLATFORM_DEFAULTS.ciliumVersion).describe('Cilium release to install.'),
    cliVersion: semverTag('cilium-cli', 'v0.18.5').default(PLATFORM_DEFAULTS.ciliumCliVersion).describe('cilium-cli image tag that runs the install Job.'),
    kubeProxyReplacement: z.boolean().default(true).describe('Cilium replaces kube-proxy (Talos then disables kube-proxy); Cilium reaches the API through KubePrism (localhost:7445).'),
    hubble: z.boolean().default(false).describe('Enable Hubble (relay and UI).'),
    values: z.record(z.string(), z.unknown()).default({}).describe('Helm values merged over cloudlab\'s (deep merge; yours win).'),
  })
  .describe('Cilium, installed after bootstrap by a Job running the pinned cilium-cli (no local helm needed).');

export const fluxSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^(ssh:\/\/|https:\/\/|http:\/\/)\S+$/, 'must be a git URL: ssh://git@host/owner/repo.git or https://host/owner/repo.git')
      .describe('Git repository Flux syncs from (ssh:// for a deploy key, https:// for a token).'),
    branch: z.string().min(1).default('main').describe('Branch to sync.'),
    path: z.string().min(1).optional().describe('Path in the repository of this cluster (default clusters/<name>).'),
    version: semverTag('Flux', 'v2.9.4').default(PLATFORM_DEFAULTS.fluxVersion).describe('Flux release whose install manifest is applied.'),
    manifestUrl: z.url().optional().describe('Where to fetch the install manifest (default: the release\'s install.yaml on GitHub).'),
    manifestSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256').optional().describe('Pin of the install manifest; the committed flux-system/gotk-components.yaml is the pin otherwise.'),
    auth: z
      .strictObject({
        sshKey: secretRef.optional().describe('Private key (PEM or OpenSSH) of a deploy key; default: cloudlab generates an ed25519 key and stores it encrypted.'),
        knownHosts: z.string().min(1).optional().describe('known_hosts line(s) of the git server (ssh URLs).'),
        username: z.string().min(1).default('git').describe('HTTPS user name.'),
        token: secretRef.optional().describe('HTTPS token (password), from the secrets file.'),
      })
      .default({ username: 'git' }),
  })
  .describe('Flux GitOps: controllers, the source secret, the sops-age secret, GitRepository and Kustomization with SOPS decryption.');

export const gitopsSchema = z
  .strictObject({
    flux: fluxSchema.optional(),
  })
  .describe('GitOps bootstrap.');

export const ccmSchema = z
  .union([
    z.boolean(),
    z.strictObject({
      version: semverTag('proxmox-cloud-controller-manager', 'v0.13.1').default(PLATFORM_DEFAULTS.ccmVersion),
    }),
  ])
  .describe('Deploy the Proxmox cloud controller manager (true, or { version }).');

export const csiSchema = z
  .strictObject({
    storage: z.string().min(1).describe('Proxmox storage the CSI plugin provisions volumes on.'),
    storageClass: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name').optional().describe('StorageClass name (default proxmox-<storage>).'),
    fstype: z.enum(['ext4', 'xfs']).default('ext4'),
    default: z.boolean().default(true).describe('Make it the default StorageClass.'),
    version: semverTag('proxmox-csi-plugin', 'v0.19.1').default(PLATFORM_DEFAULTS.csiVersion),
  })
  .describe('Deploy the Proxmox CSI plugin with a StorageClass on this storage.');
