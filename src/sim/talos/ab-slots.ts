// Owns a simulated node's A/B boot slots and its installer images, as Talos keeps them: the installer writes the
// inactive slot and marks it for the next boot; a boot that fails falls back to the slot that booted before
// (the node comes back on its old version, upstream docs "upgrading-talos.mdx", FAQ on rollback); images pulled into
// containerd's system namespace stay until the node reboots (ImageService.Pull, internal/app/images/images.go); the
// installer's pre-flight refuses a host too old or too new for the target (pkg/machinery/compatibility/
// talos_version.go UpgradeableFrom, with talos113.go / talos114.go: a host at least two minors older, or two newer).
import { createHash } from 'node:crypto';

export interface SlotImage {
  version: string;
  /** Schematic ID (64 hex) the image was built from; '' for a plain ghcr.io installer. */
  schematic: string;
}

export interface PulledImage extends SlotImage {
  ref: string;
  /** The canonical reference the node reports: `name@sha256:…`. */
  pinned: string;
}

/** Splits an installer reference into version and schematic; null when it names no `vX.Y.Z` tag. */
export function installerImage(ref: string): SlotImage | null {
  const m = /^[a-z0-9][\w.-]*(?::\d+)?((?:\/[\w.-]+)+):(v\d+\.\d+\.\d+(?:-[\w.]+)?)(?:@sha256:[0-9a-f]{64})?$/.exec(ref);
  if (!m) return null;
  const last = m[1]!.split('/').pop() ?? '';
  return { version: m[2]!, schematic: /^[0-9a-f]{64}$/.test(last) ? last : '' };
}

const parse = (v: string) => v.replace(/^v/, '').split(/[.-]/).slice(0, 3).map(Number) as [number, number, number];

/** The installer's UpgradeableFrom check: the error text, or null when the host may upgrade to the target. */
export function upgradeableFrom(host: string, target: string): string | null {
  const [hM, hm] = parse(host);
  const [tM, tm] = parse(target);
  const h = hM * 1000 + hm;
  const t = tM * 1000 + tm;
  if (h < t - 2) return `host version ${host.replace(/^v/, '')} is too old to upgrade to Talos ${target.replace(/^v/, '')}`;
  if (h >= t + 2) return `host version ${host.replace(/^v/, '')} is too new to downgrade to Talos ${target.replace(/^v/, '')}`;
  return null;
}

export class BootSlots {
  /** The slot the node booted from. */
  active: SlotImage;
  /** The other slot (what booted before the last upgrade, or the installed-but-not-booted upgrade). */
  inactive: SlotImage | null = null;
  /** The next boot tries the inactive slot (set by an install). */
  private bootInactive = false;
  /** Installer images in containerd (gone after a reboot: the system namespace lives in memory). */
  readonly images = new Map<string, PulledImage>();
  /** An install is running (one at a time, as the lifecycle service's lock). */
  installing = false;

  constructor(initial: SlotImage) {
    this.active = { ...initial };
  }

  /** Records a pulled image; returns its pinned reference. */
  pulled(ref: string, img: SlotImage): PulledImage {
    const digest = createHash('sha256').update(`${ref}`).digest('hex');
    // reference.ParseDockerRef(...).Name(): the repository without tag or digest, pinned to the digest.
    const name = ref.replace(/@sha256:[0-9a-f]{64}$/, '').replace(/:[\w][\w.-]*$/, '');
    const p: PulledImage = { ...img, ref, pinned: `${name}@sha256:${digest}` };
    this.images.set(ref, p);
    return p;
  }

  /** The installer wrote `img` into the inactive slot; the next boot tries it. */
  installed(img: SlotImage): void {
    this.inactive = { ...img };
    this.bootInactive = true;
  }

  /**
   * A boot: when an install is pending the node tries the new slot; `fails` makes that boot fail, so the
   * bootloader falls back to the slot that booted before. Returns what booted and whether it rolled back.
   */
  boot(fails: () => boolean): { booted: SlotImage; rolledBack: boolean } {
    this.images.clear();
    if (!this.bootInactive || !this.inactive) return { booted: this.active, rolledBack: false };
    this.bootInactive = false;
    if (fails()) return { booted: this.active, rolledBack: true };
    const previous = this.active;
    this.active = this.inactive;
    this.inactive = previous;
    return { booted: this.active, rolledBack: false };
  }
}
