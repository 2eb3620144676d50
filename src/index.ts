// Owns cloudlab's public library API (the package's main export): load and validate a spec, plan it offline, the
// JSON Schema, the SOPS file format and the cluster's secret files, the secret scanner, and the one error type.
// Everything else is internal and may change between versions.
export { CloudlabError, EXIT_OK, EXIT_FAILURE, EXIT_INVALID, type Problem, type SourceLocation } from './core/errors.js';
export { loadSpec, parseSpec, type LoadedSpec } from './spec/load.js';
export { clusterJsonSchema } from './spec/schema.js';
export { planCluster } from './plan/planner.js';
export type { Plan, PlanNode, PlanHost } from './plan/types.js';
export { encryptText, decryptText, readSecretFile, writeEncryptedFile, type SopsFormat } from './sops/index.js';
export { getSecretValue, setSecretValue, initSecrets } from './clusterdir/index.js';
export { scan, scanText, type Finding, type ScanResult, type ScanOptions } from './scan/scanner.js';
export { initCluster, type InitResult } from './init/init.js';
export { TEMPLATES, type Template } from './init/template.js';
export { TALOS_MINORS } from './spec/versions.js';
