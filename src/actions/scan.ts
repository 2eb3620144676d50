// Owns the entry points of `cloudlab scan` for the CLI: the scanner and its rule list live in src/scan/ and
// return findings (never the secret) as data.
export { scan } from '../scan/scanner.js';
export { ownRuleList } from '../scan/rules.js';
