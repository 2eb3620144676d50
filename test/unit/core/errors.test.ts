import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudlabError, invalidInput, formatLocation, toCloudlabError } from '../../../src/core/errors.js';
import { redact, registerSecret, redactValue, clearSecrets } from '../../../src/core/redact.js';
import { CliContext } from '../../../src/cli/context.js';
import { cli } from '../../support/cli.js';

test('CloudlabError carries code, hint, exit code and causes', () => {
  const inner = new Error('socket hang up');
  const e = new CloudlabError({ code: 'X', message: 'outer', hint: 'do this', cause: inner });
  assert.equal(e.exitCode, 1);
  assert.deepEqual(e.toJSON(), { code: 'X', message: 'outer', hint: 'do this', causes: ['socket hang up'] });
  assert.equal(invalidInput('SPEC', 'bad').exitCode, 2);
  assert.equal(toCloudlabError(inner).message, 'socket hang up');
});

test('formatLocation renders file:line:column: path', () => {
  assert.equal(formatLocation({ file: 'c.yaml', line: 3, column: 5, path: 'a.b' }), 'c.yaml:3:5: a.b');
  assert.equal(formatLocation({ path: 'a' }), 'a');
});

test('redaction masks registered secrets, token headers, age keys and secret-named fields', () => {
  clearSecrets();
  registerSecret('s3cr3t-value-123');
  assert.equal(redact('token is s3cr3t-value-123!'), 'token is ***!');
  assert.equal(redact('Authorization: PVEAPIToken=root@pam!ci=abcd-ef'), 'Authorization: PVEAPIToken=root@pam!ci=***');
  assert.equal(redact('AGE-SECRET-KEY-1QQQQ'), 'AGE-SECRET-KEY-1***');
  assert.deepEqual(redactValue({ tokenId: 'root@pam!ci', tokenSecret: 'x', nested: [{ password: 'p' }] }), {
    tokenId: 'root@pam!ci',
    tokenSecret: '***',
    nested: [{ password: '***' }],
  });
});

test('the error printer shows Error / problems / Try this / Caused by and no stack without --debug', () => {
  let err = '';
  const ctx = new CliContext({ stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: { NO_COLOR: '1' }, cwd: '/' });
  const code = ctx.printError(
    new CloudlabError({ code: 'A', message: 'it broke', hint: 'fix it', exitCode: 2, problems: [{ file: 'f.yaml', line: 2, column: 1, path: 'x', message: 'bad x', hint: 'use y' }], cause: new Error('root cause') }),
  );
  assert.equal(code, 2);
  assert.match(err, /^Error: it broke$/m);
  assert.match(err, /f\.yaml:2:1: x: bad x/);
  assert.match(err, /hint: use y/);
  assert.match(err, /Try this: fix it/);
  assert.match(err, /Caused by: root cause/);
  assert.doesNotMatch(err, /at .*errors\.test/);
});

test('cli --version and unknown commands', async () => {
  const v = await cli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const bad = await cli(['no-such-command']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Try this/);
});
