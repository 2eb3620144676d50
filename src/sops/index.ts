// Public API of the SOPS area: the file format (encrypt/decrypt text in four stores), encrypted files on
// disk, age key lookup and .sops.yaml rules. (The cluster directory's files are src/clusterdir.) Other areas
// import only from here.
export { encryptText, decryptText, encryptBytes, decryptBytes, rewrapKeys, rotateDataKey, formatFromPath, parseFormat, convertPlain, FORMATS, type SopsFormat, type EncryptOptions, type DecryptOptions } from './codec.js';
export type { EncryptionRules } from './rules.js';
export { readSecretFile, readSecretBytes, writeEncryptedFile, recipientsForPath, readRaw } from './files.js';
export { findAgeIdentities, ageIdentityLookup, defaultAgeKeyFile, parseIdentities, readKeyFile, userKeyFileLocation, keyFileText, type KeyLookupOptions, type AgeIdentities, type IdentityLookup } from './keys.js';
export { generateIdentity, recipientOf, checkRecipient } from './age.js';
export { findSopsConfig, loadSopsConfig, parseSopsConfig, matchCreationRule, SOPS_CONFIG_FILE, type SopsConfig, type CreationRule } from './config.js';
