// Diagnosis of Talos failures: gRPC status codes and TLS probe findings become CloudlabErrors naming the node and what to do.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { diagnose, isTransient, waitTimeout } from '../../src/providers/talos/errors.js';
import { whyRejected } from '../../src/providers/talos/probe.js';
import { generateCA, issueCertificate } from '../../src/render/talos/pki.js';

const ctx = { node: '10.0.0.5', op: 'version', secure: true };

describe('Talos error diagnosis', () => {
  it('maps gRPC codes to codes, exit codes and hints', () => {
    const cases: [number, string, number][] = [
      [status.UNAVAILABLE, 'TALOS_UNREACHABLE', 1],
      [status.PERMISSION_DENIED, 'TALOS_PERMISSION_DENIED', 1],
      [status.FAILED_PRECONDITION, 'TALOS_PRECONDITION', 1],
      [status.ALREADY_EXISTS, 'TALOS_ALREADY_EXISTS', 1],
      [status.INVALID_ARGUMENT, 'TALOS_INVALID_ARGUMENT', 2],
      [status.NOT_FOUND, 'TALOS_NOT_FOUND', 1],
      [status.UNIMPLEMENTED, 'TALOS_UNIMPLEMENTED', 1],
      [status.INTERNAL, 'TALOS_API', 1],
    ];
    for (const [code, expected, exit] of cases) {
      const e = diagnose({ code, details: 'why' }, ctx);
      assert.equal(e.code, expected);
      assert.equal(e.exitCode, exit);
      assert.match(e.message, /Talos node 10\.0\.0\.5: version/);
      assert.equal(e.details.grpcStatus, status[code]);
    }
    assert.equal(diagnose({ code: status.UNIMPLEMENTED, details: 'x' }, { ...ctx, secure: false }).code, 'TALOS_MAINTENANCE_UNSUPPORTED');
    assert.match(diagnose({ code: status.UNAVAILABLE, details: 'x', probe: 'client-cert-required' }, { ...ctx, secure: false }).hint ?? '', /talosconfig/);
  });

  it('names a certificate that does not cover the address used', () => {
    const e = diagnose({ code: status.UNAVAILABLE, details: "Hostname/IP does not match certificate's altnames: IP: 10.0.0.9 is not in the cert's list" }, ctx);
    assert.equal(e.code, 'TALOS_CERT_NAME_MISMATCH');
    assert.match(e.hint ?? '', /certSANs/);
  });

  it('treats only unavailability without a TLS trust problem as transient', () => {
    assert.equal(isTransient({ code: status.UNAVAILABLE, details: 'connect ECONNREFUSED' }), true);
    assert.equal(isTransient({ code: status.UNAVAILABLE, details: 'x', probe: 'refused' }), true);
    assert.equal(isTransient({ code: status.UNAVAILABLE, details: 'x', probe: 'server-untrusted' }), false);
    assert.equal(isTransient({ code: status.UNAVAILABLE, details: 'self-signed certificate' }), false);
    assert.equal(isTransient({ code: status.PERMISSION_DENIED, details: 'no' }), false);
  });

  it('says what a wait waited for', () => {
    const e = waitTimeout('the node to be ready', '10.0.0.5', 90_000, new Error('service etcd is Preparing'));
    assert.equal(e.code, 'TALOS_WAIT_TIMEOUT');
    assert.equal(e.message, 'timed out after 90s waiting for the node to be ready on Talos node 10.0.0.5 (last: service etcd is Preparing)');
  });

  it('judges a refused client certificate locally: expired, or from another CA', async () => {
    const os = await generateCA({ algorithm: 'ed25519', organization: 'talos', validityDays: 10 });
    const other = await generateCA({ algorithm: 'ed25519', organization: 'talos', validityDays: 10 });
    const old = await issueCertificate(os, { algorithm: 'ed25519', organizations: ['os:admin'], usages: ['clientAuth'], validityDays: 1, notBefore: new Date(Date.now() - 5 * 86_400_000) });
    assert.equal(whyRejected({ ca: os.crt, crt: old.crt }).kind, 'client-cert-expired');
    const foreign = await issueCertificate(other, { algorithm: 'ed25519', organizations: ['os:admin'], usages: ['clientAuth'], validityDays: 1 });
    const r = whyRejected({ ca: os.crt, crt: foreign.crt });
    assert.equal(r.kind, 'client-cert-rejected');
    assert.match(r.detail, /not by the OS CA/);
    assert.equal(diagnose({ code: status.UNAVAILABLE, details: r.detail, probe: r.kind }, ctx).code, 'TALOS_CLIENT_CERT_REJECTED');
  });
});
