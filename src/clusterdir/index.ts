// The cluster directory: its file layout, secret values, the Talos bundle, client credentials, encrypted
// outputs and merging them into the user's kubeconfig/talosconfig. Other areas import from here.
export * from './layout.js';
export { getSecretValue, setSecretValue, deleteSecretValue, initSecrets, sopsConfigText, gitRoot, editSecrets, resolveSecretRef, configSecrets, type InitOptions, type InitResult } from './secrets.js';
export { readBundle, writeBundle, isSopsEncrypted, clusterBundle, type Env } from './bundle.js';
export { talosCredentials } from './credentials.js';
export { writeClientConfigs, readClientConfig, sameKubeconfig } from './outputs.js';
export { mergeKubeconfig, mergeTalosconfig, configClusterName, fluxSopsSecret } from './clientconfig.js';
