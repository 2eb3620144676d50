// Owns cloudlab's public library API (the package's main export): load and validate a spec, plan it offline, the
// JSON Schema, rendering (machine configs, secrets bundles, talosconfigs, image URLs), the SOPS file format and the
// cluster directory, the secret scanner, the use cases the CLI runs (returning data), and the one error type.
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

// Rendering: pure functions from a plan (and a secrets bundle) to Talos documents, talosconfigs and image URLs.
export { resolveAddresses } from './plan/planner.js';
export { validateSpec } from './spec/validate.js';
export { renderNodeConfig, renderAllConfigs, genConfig } from './render/talos/config.js';
export { generateSecretsBundle, parseSecretsBundle, serializeSecretsBundle, type SecretsBundle } from './render/talos/secrets.js';
export { generateTalosconfig, parseTalosconfig } from './render/talos/talosconfig.js';
export { schematicId, canonicalSchematic, parseSchematic, imageUrls } from './render/image/schematic.js';

// More of SOPS and the cluster directory: age keys, .sops.yaml rules, the Talos bundle, encrypted outputs.
export { encryptBytes, decryptBytes, findAgeIdentities, generateIdentity, recipientOf, loadSopsConfig, matchCreationRule } from './sops/index.js';
export { SECRETS_FILE, TALOS_SECRETS_FILE, TALOSCONFIG_FILE, KUBECONFIG_FILE, clusterBundle, readBundle, writeBundle } from './clusterdir/index.js';

// The use cases the CLI runs, returning data (nothing prints).
export { offlinePlan, livePlan, stepGraph, type LivePlan } from './actions/plan.js';
export { applyCluster, applyDryRun, type ApplyHooks, type ApplyOutcome } from './actions/apply.js';
export { clusterStatusOf, type StatusOutcome } from './actions/status.js';
export { destroyCluster, type DestroyOutcome } from './actions/destroy.js';
export type { LiveInput, Notices } from './actions/live.js';
