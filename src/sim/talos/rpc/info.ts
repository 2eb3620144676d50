// Owns the read-only node calls: Version (tag, platform, features), ServiceList, and Read of the files the simulator has.
import { createHash } from 'node:crypto';
import { nodeServices } from '../services.js';
import { fail, one, S, type Handlers } from './types.js';

export const infoHandlers: Handlers = {
  Version: ({ node }) => one({
    version: { tag: node.talosVersion, sha: createHash('sha1').update(node.talosVersion).digest('hex').slice(0, 8), built: '', go_version: 'go1.24.11', os: 'linux', arch: 'amd64' },
    platform: { name: 'nocloud', mode: 'cloud' },
    features: { rbac: true },
  }),
  ServiceList: ({ node }) => one({ services: nodeServices(node) }),
  Read: ({ node, req }) => {
    if (req.path === '/proc/sys/kernel/random/boot_id') return { stream: [Buffer.from(`${node.bootId}\n`)] };
    throw fail(S.NOT_FOUND, `open ${String(req.path)}: no such file or directory`);
  },
};
