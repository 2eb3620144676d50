// Owns the cross-field rules of the spec's platform settings (Cilium, Flux, Proxmox CCM/CSI): settings that
// cannot take effect, git URLs and credentials that do not fit each other, add-ons that need a CNI.
import type { PathSegment } from './source.js';
import type { ClusterSpec } from './schema.js';

type Add = (path: PathSegment[], message: string, hint?: string, key?: boolean) => void;

export function checkPlatform(spec: ClusterSpec, add: Add): void {
  // apply installs Cilium, deploys the Proxmox CCM/CSI and bootstraps Flux: what is left here are settings that cannot work.
  if (spec.cilium !== undefined && spec.cni !== 'cilium') {
    add(['cilium'], `Cilium settings are given but cni is ${spec.cni}: they would be ignored`, 'set cni: cilium, or remove the cilium section', true);
  }
  const values = spec.cilium?.values;
  if (values && 'kubeProxyReplacement' in values) {
    add(['cilium', 'values', 'kubeProxyReplacement'], 'set kube-proxy replacement with cilium.kubeProxyReplacement, not in values', 'cloudlab also disables kube-proxy in the Talos config from that field; use cilium.kubeProxyReplacement: true|false', true);
  }
  const flux = spec.gitops?.flux;
  if (flux) {
    const ssh = flux.url.startsWith('ssh://');
    if (ssh && flux.auth.token) add(['gitops', 'flux', 'auth', 'token'], 'a token is for https:// repositories; this URL is ssh://', 'use auth.sshKey (or let cloudlab generate a deploy key), or an https:// URL', true);
    if (!ssh && flux.auth.sshKey) add(['gitops', 'flux', 'auth', 'sshKey'], 'an SSH key is for ssh:// repositories; this URL is https://', 'use auth.token with an https:// URL, or an ssh://git@host/owner/repo.git URL', true);
    if (ssh && !flux.auth.knownHosts) add(['gitops', 'flux', 'url'], 'an ssh:// repository needs the git server\'s host key: Flux refuses unknown hosts', 'add gitops.flux.auth.knownHosts with the line `ssh-keyscan HOST` prints');
    if (spec.cni === 'none') add(['gitops', 'flux'], 'Flux needs pod networking, and cni is none: its controllers would never start', 'use cni: flannel or cni: cilium (cloudlab installs it before Flux)');
    if (flux.path !== undefined && (flux.path.startsWith('/') || flux.path.split('/').includes('..'))) add(['gitops', 'flux', 'path'], `"${flux.path}" is not a path inside the repository`, 'use a relative path such as clusters/my-cluster');
  }
  if ((spec.proxmox.ccm || spec.proxmox.csi) && spec.cni === 'none') {
    add(['proxmox', spec.proxmox.ccm ? 'ccm' : 'csi'], 'the Proxmox CCM/CSI run as pods and cni is none: they would never start', 'use cni: flannel or cni: cilium');
  }
}
