// Owns the cluster directory's file layout: where each file lives relative to the directory holding the spec.
export { SOPS_CONFIG_FILE } from '../sops/config.js';

/** Values the spec refers to (`fromSecret`), SOPS-encrypted. */
export const SECRETS_FILE = 'secrets.enc.yaml';
/** The Talos secrets bundle (CAs, tokens), SOPS-encrypted; created by the first apply. */
export const TALOS_SECRETS_FILE = 'talos-secrets.enc.yaml';
/** Client configs apply writes, SOPS-encrypted. */
export const TALOSCONFIG_FILE = 'output/talosconfig.enc.yaml';
export const KUBECONFIG_FILE = 'output/kubeconfig.enc.yaml';
/** Where an in-repository key lives when asked for (`secrets init --in-repo`); always git-ignored. */
export const IN_REPO_KEY_FILE = '.age-key.txt';
