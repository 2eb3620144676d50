// Owns the image step: the Talos disk image on each host's image storage (once when the storage is shared),
// verified by size against what the factory URL serves, replaced when it is truncated or foreign.
import { CloudlabError } from '../../core/errors.js';
import { defineStep } from './step.js';
import type { ApplyState } from './state.js';

/** Some VM to be created (not cloned from a template) takes its disk from this host's image. */
function needsImage(s: ApplyState, host: string): boolean {
  return s.plan.vm.template === null && s.plan.nodes.some((n) => (s.image.shared || n.host === host) && s.actions.get(n.name)?.kind === 'create');
}

export const imageStep = defineStep<string>({
  name: 'image',
  targets: (f) => f.image.hosts,
  id: (host) => `image:${host}`,
  title: (f, host) => `Image ${f.image.diskFile} on ${host}:${f.plan.proxmox.imageStorage}`,
  after: () => ['preflight'],
  keys: (f, host) => [`storage:${host}/${f.plan.proxmox.imageStorage}`],
  guard: (s, host) => (needsImage(s, host) ? true : 'no VM to create from it'),
  describe: (s, host) => `download ${s.image.url} to ${host}:${s.plan.proxmox.imageStorage} (server-side download-url)`,
  run: async (s, host, ctx) => {
    const { proxmox } = s.session;
    const { url, volid, diskFile } = s.image;
    // Verified by size against what the URL serves (the factory publishes no checksums): a truncated or
    // foreign file with our name is replaced, a good one is reused.
    const meta = await proxmox.queryUrlMetadata(host, url).catch(() => null);
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
