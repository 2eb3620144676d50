// The documented figures say what they measure: a re-apply figure a user reads as "how long does `cloudlab apply`
// take" is the whole command's, and the in-process steps time is labelled as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const APPLY_MD = fileURLToPath(new URL('../../../docs/apply.md', import.meta.url));

test('D20: docs/apply.md quotes the whole command\'s re-apply time and labels the steps-only figure', () => {
  const text = readFileSync(APPLY_MD, 'utf8');
  const header = text.split('\n').find((l) => l.startsWith('| cluster |'));
  assert.ok(header, 'the figures table exists');
  assert.match(header!, /converged re-apply \(steps, in-process\)/);
  assert.match(text, /whole command of a converged\s+3\+27 re-apply[^]*?\*\*2\.45–3\.29 s\*\*/);
  assert.match(text, /CLOUDLAB_TIMEOUT_SCALE/, 'the timeout setting is documented');
  assert.match(text, /15 minutes/, 'the lock expiry is documented');
});
