// The Talos schema cloudlab carries (src/providers/talos/proto.ts) resolves whole: its types resolve lazily at run
// time (a command pays only for the messages it uses), so this is where a broken type reference fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { METHODS, messageType, root } from '../../src/providers/talos/proto.js';

test('every type of the Talos schema resolves, and every method names messages that exist', () => {
  assert.doesNotThrow(() => root.resolveAll());
  for (const [name, m] of Object.entries(METHODS)) {
    assert.ok(messageType(m.request).fullName.endsWith(m.request), `${name}: request ${m.request}`);
    assert.ok(messageType(m.response).fullName.endsWith(m.response), `${name}: response ${m.response}`);
  }
});
