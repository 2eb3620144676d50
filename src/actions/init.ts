// Owns the entry points of `cloudlab init` and its pre-commit hook for the CLI: the work lives in src/init/
// (templates, the cluster directory it creates, hooks), which returns data like every action.
export { parseTemplate, templateDefaults } from '../init/template.js';
export { initCluster } from '../init/init.js';
export { preCommit } from '../init/precommit.js';
