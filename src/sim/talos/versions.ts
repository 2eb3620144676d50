// Owns what differs between the Talos versions a simulated node boots (its version comes from the image its VM was
// created from, so a spec with `talos: v1.13.x` meets 1.13 behaviour end to end). Upstream, per version:
// - 1.11/1.12: a separate maintenance server (internal/app/maintenance/server.go): only ApplyConfiguration, every
//   other call "API is not implemented in maintenance mode" (Unimplemented), apply modes TRY/REBOOT/AUTO.
// - 1.13+: maintenance and regular APIs unified (commit b7d70cf62): apid runs with ReadonlyRoleMode and
//   SkipVerifyingClientCert (internal/app/machined/pkg/controllers/runtime/api_service_config.go), peers get the
//   Reader role (pkg/grpc/middleware/authz/injector.go ReadOnlyWithAdminOnSiderolink), Version answers (no
//   maintenance guard in v1alpha1_server.go), ApplyConfiguration is allowed without Admin while in maintenance and
//   resolves REBOOT and AUTO to NO_REBOOT (v1alpha1_server.go ApplyConfiguration, v1.13.9 l.192-262).
// - 1.14+: in configured mode REBOOT is refused ("the REBOOT mode is not supported, please use AUTO or NO_REBOOT
//   modes instead", Unimplemented) and AUTO always resolves to NO_REBOOT, without the CanApplyImmediate check
//   (v1alpha1_server.go, v1.14.0-rc.1 l.218-255; commit 995bc30d5).

export interface VersionBehaviour {
  minor: number;
  /** 1.13+: maintenance mode serves the regular API with the Reader role for peers without a client certificate. */
  unifiedMaintenance: boolean;
  /** 1.14+: configured apply never reboots: REBOOT refused, AUTO → NO_REBOOT. */
  applyWithoutReboot: boolean;
}

/** The behaviour of a Talos version tag (v1.13.2); unknown tags behave as 1.12. */
export function behaviourOf(talosVersion: string): VersionBehaviour {
  const m = /^v?1\.(\d+)\./.exec(talosVersion);
  const minor = m ? Number(m[1]) : 12;
  return { minor, unifiedMaintenance: minor >= 13, applyWithoutReboot: minor >= 14 };
}

/** 1.14's refusal of REBOOT on a configured node. */
export const REBOOT_MODE_REFUSED = 'the REBOOT mode is not supported, please use AUTO or NO_REBOOT modes instead';
