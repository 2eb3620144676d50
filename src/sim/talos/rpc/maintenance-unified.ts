// Owns maintenance mode as Talos 1.13+ serves it (see ../versions.ts): the regular API with the Reader role for
// peers without a client certificate. Version answers (no features without a config); ApplyConfiguration is allowed
// and resolves REBOOT and AUTO to NO_REBOOT ("Applied configuration without a reboot"); calls the Reader role may
// not make are "not authorized" (internal/app/machined/pkg/system/services/machined.go rules).
import { createHash } from 'node:crypto';
import type { MethodName } from '../../../providers/talos/proto.js';
import { configDiff } from '../config-diff.js';
import type { SimTalosNode } from '../node.js';
import { ROLE_NEEDS } from './roles.js';
import { validateConfig } from './validate.js';
import { fail, one, S, type Reply, type Req, type RpcEnv } from './types.js';

export function unifiedMaintenanceCall(node: SimTalosNode, name: MethodName, req: Req, env: RpcEnv): Reply {
  if (name === 'ApplyConfiguration') return apply(node, req, env);
  if (!ROLE_NEEDS[name].includes('os:reader')) throw fail(S.PERMISSION_DENIED, 'not authorized');
  if (name === 'Version') {
    return one({
      version: { tag: node.talosVersion, sha: createHash('sha1').update(node.talosVersion).digest('hex').slice(0, 8), built: '', go_version: 'go1.26.6', os: 'linux', arch: 'amd64' },
      platform: { name: 'nocloud', mode: 'cloud' },
    });
  }
  // Other Reader calls answer on real 1.13+ (machined runs without a config); the simulator does not model them here.
  throw fail(S.UNIMPLEMENTED, `the simulator does not model ${name} in maintenance mode (Talos ${node.talosVersion} answers it with the Reader role)`);
}

function apply(node: SimTalosNode, req: Req, env: RpcEnv): Reply {
  if (node.busy || node.state !== 'maintenance') throw fail(S.FAILED_PRECONDITION, 'another apply configuration is already in progress');
  const { config, warnings } = validateConfig(req.data as Buffer);
  let mode = String(req.mode);
  if (mode === 'REBOOT' || mode === 'AUTO') mode = 'NO_REBOOT';
  let details: string;
  if (mode === 'NO_REBOOT' || mode === 'TRY') details = 'Applied configuration without a reboot';
  else if (mode === 'STAGED') details = 'Staged configuration to be applied after the next reboot';
  else throw fail(S.INVALID_ARGUMENT, `incorrect mode '${mode}' specified for the apply config call`);
  if (req.dry_run) return one({ mode, mode_details: `Dry run summary:\n${details} (skipped in dry-run).\n${configDiff('', config.raw)}` });
  if (mode === 'STAGED') {
    node.stageConfig(config);
    return one({ warnings, mode, mode_details: details });
  }
  // The configuration is taken at once; the node installs and boots into it (the API switches to mutual TLS).
  node.install(config);
  const cluster = node.host.clusterFor(config);
  const caKey = config.osCa.key ? config.osCa : cluster.knownOsCa;
  if (config.osCa.key) cluster.knownOsCa = config.osCa;
  if (caKey?.key) env.prefetchApidCert(node, { crt: caKey.crt, key: caKey.key }, config.hostname ?? node.hostname);
  return one({ warnings, mode, mode_details: details });
}
