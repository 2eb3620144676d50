// Owns the Flux objects and files cloudlab creates instead of `flux bootstrap` (fluxcd/flux2 pkg/manifestgen/sync and
// sourcesecret): the flux-system source Secret, the sops-age Secret (key age.agekey), the GitRepository and the
// Kustomization with SOPS decryption, and the flux-system/ files (gotk-sync.yaml, kustomization.yaml) Flux later
// manages itself from. Pure: secrets come in as arguments and only end up inside Secret objects.
import { stringify } from 'yaml';
import type { PlanFlux } from '../../plan/types.js';
import type { KubeObject } from './cilium.js';

export const FLUX_NAMESPACE = 'flux-system';
export const FLUX_NAME = 'flux-system';
export const SOPS_AGE_SECRET = 'sops-age';

export type FluxCredentials =
  | { kind: 'ssh'; identity: string; identityPub: string; knownHosts: string }
  | { kind: 'https'; username: string; password: string };

export function sourceSecret(creds: FluxCredentials): KubeObject {
  const stringData = creds.kind === 'ssh' ? { identity: creds.identity, 'identity.pub': creds.identityPub, known_hosts: creds.knownHosts } : { username: creds.username, password: creds.password };
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: FLUX_NAME, namespace: FLUX_NAMESPACE }, type: 'Opaque', stringData };
}

/** The Secret Flux's kustomize-controller reads age identities from (keys ending in .agekey). */
export function sopsAgeSecret(ageIdentity: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: SOPS_AGE_SECRET, namespace: FLUX_NAMESPACE }, type: 'Opaque', stringData: { 'age.agekey': ageIdentity } };
}

/**
 * GitRepository and Kustomization as `flux bootstrap` writes them (intervals 1m/10m), with SOPS decryption. The
 * GitRepository names the source Secret unless there is none (an https repository read without a token).
 */
export function syncObjects(f: PlanFlux, opts: { secret: boolean } = { secret: true }): KubeObject[] {
  return [
    {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: FLUX_NAME, namespace: FLUX_NAMESPACE },
      spec: { interval: '1m0s', ref: { branch: f.branch }, ...(opts.secret ? { secretRef: { name: FLUX_NAME } } : {}), url: f.url },
    },
    {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: FLUX_NAME, namespace: FLUX_NAMESPACE },
      spec: {
        interval: '10m0s',
        path: `./${f.path}`,
        prune: true,
        sourceRef: { kind: 'GitRepository', name: FLUX_NAME },
        decryption: { provider: 'sops', secretRef: { name: SOPS_AGE_SECRET } },
      },
    },
  ];
}

const HEADER = '# Written by cloudlab (flux-system bootstrap). Commit and push it: Flux manages itself from here.\n';

/** The files of `<path>/flux-system/`, by name (gotk-components.yaml is the pinned install manifest itself). */
export function fluxSystemFiles(f: PlanFlux, components: string, opts: { secret: boolean } = { secret: true }): Record<string, string> {
  return {
    'gotk-components.yaml': components,
    'gotk-sync.yaml': HEADER + syncObjects(f, opts).map((o) => '---\n' + stringify(o, { lineWidth: 0 })).join(''),
    'kustomization.yaml': HEADER + stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['gotk-components.yaml', 'gotk-sync.yaml'] }, { lineWidth: 0 }),
  };
}

/** The .sops.yaml creation rule that lets Flux decrypt the cluster's manifests: the repository path, both keys. */
export function manifestsRulePath(f: PlanFlux): string {
  return `${f.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/.*\\.ya?ml$`;
}
