// Public API of the SOPS area: the file format (encrypt/decrypt text in four stores), encrypted files on
// disk, age key lookup, and the cluster directory's secret files. Other areas import only from here.
export { encryptText, decryptText, encryptBytes, decryptBytes, rewrapKeys, rotateDataKey, formatFromPath, parseFormat, convertPlain, FORMATS, type SopsFormat, type EncryptOptions, type DecryptOptions } from './codec.js';
export type { EncryptionRules } from './rules.js';
export { readSecretFile, readSecretBytes, writeEncryptedFile, recipientsForPath, readRaw } from './files.js';
export { findAgeIdentities, defaultAgeKeyFile, parseIdentities, readKeyFile, userKeyFileLocation, keyFileText, type KeyLookupOptions } from './keys.js';
export { generateIdentity, recipientOf, checkRecipient } from './age.js';
export { findSopsConfig, loadSopsConfig, parseSopsConfig, matchCreationRule, SOPS_CONFIG_FILE, type SopsConfig, type CreationRule } from './config.js';
export { SECRETS_FILE, TALOS_SECRETS_FILE, TALOSCONFIG_FILE, KUBECONFIG_FILE, IN_REPO_KEY_FILE, getSecretValue, setSecretValue, deleteSecretValue, initSecrets, sopsConfigText, type InitOptions, type InitResult } from './cluster.js';
export { mergeKubeconfig, mergeTalosconfig, configClusterName, fluxSopsSecret } from './clientconfig.js';
