// Owns the image step: each Talos disk image on each host's image storage (once when the storage is shared; the
// cluster's image, and nodes' own images on metal + static), after its schematic is registered with the factory,
// verified by size against what the factory URL serves, replaced when it is truncated or foreign.
import { CloudlabError } from '../../core/errors.js';
import { defineStep } from './step.js';
import type { ApplyState, ImageDownload } from './state.js';

/** Some VM to be created (not cloned from a template) takes its disk from this download. */
function needsImage(s: ApplyState, d: ImageDownload): boolean {
  return s.plan.vm.template === null && s.plan.nodes.some((n) => s.image.ofNode.get(n.name)?.step === d.id && s.actions.get(n.name)?.kind === 'create');
}

export const imageStep = defineStep<ImageDownload>({
  name: 'image',
  targets: (f) => f.image.downloads,
  id: (d) => d.id,
  title: (f, d) => `Image ${d.image.diskFile} on ${d.host}:${f.plan.proxmox.imageStorage}`,
  after: (_f, d) => ['preflight', `schematic:${d.image.schematicId.slice(0, 12)}`],
  keys: (f, d) => [`storage:${d.host}/${f.plan.proxmox.imageStorage}`],
  guard: (s, d) => (needsImage(s, d) ? true : 'no VM to create from it'),
  describe: (s, d) => `download ${d.image.url} to ${d.host}:${s.plan.proxmox.imageStorage} (server-side download-url)`,
  run: async (s, d, ctx) => {
    const { proxmox } = s.session;
    const host = d.host;
    const { url, volid, diskFile } = d.image;
    // Verified by size against what the URL serves (the factory publishes no checksums): a truncated or
    // foreign file with our name is replaced, a good one is reused. A URL the server refuses stops here (C2).
    const meta = { size: await proxmox.urlSize(host, url) };
    const storage = s.plan.proxmox.imageStorage;
    const existing = (await proxmox.storageContent(host, storage, { content: 'import' })).find((i) => i.volid === volid);
    if (existing && meta?.size && existing.size !== meta.size) {
      ctx.warn(`${volid} on ${host} is ${existing.size} bytes but ${url} serves ${meta.size}: replacing it`);
      await proxmox.deleteVolume(host, storage, volid);
    } else if (existing) {
      return meta?.size ? `already present (${existing.size} bytes, verified)` : 'already present';
    }
    ctx.progress('downloading');
    await proxmox.ensureDownloaded(host, storage, { url, content: 'import', filename: diskFile });
    const got = (await proxmox.storageContent(host, storage, { content: 'import' })).find((i) => i.volid === volid);
    if (!got) throw new CloudlabError({ code: 'IMAGE_MISSING', message: `the download of ${url} finished but ${volid} is not on ${host}`, hint: `check the download task log on ${host}` });
    if (meta?.size && got.size !== meta.size) throw new CloudlabError({ code: 'IMAGE_SIZE', message: `${volid} on ${host} is ${got.size} bytes, the URL serves ${meta.size}`, hint: 'the download was cut short; run apply again to retry it' });
    return `downloaded (${got.size} bytes${meta?.size ? ', verified' : ''})`;
  },
});
