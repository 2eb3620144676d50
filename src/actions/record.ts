// Owns `--record FILE` for the use cases that talk to Proxmox and Talos (doctor, apply): runs one while the clients
// report every exchange, then writes the redacted transcript — also when the use case fails — and says where.
import { resolve } from 'node:path';
import { startRecording, stopRecording } from '../providers/record/transcript.js';

/** Runs `fn` while recording when `file` is set; `onWritten` hears where the transcript went and how long it is. */
export async function withRecording<T>(o: { file: string | undefined; cwd: string; command: string; names: string[] }, fn: () => Promise<T>, onWritten: (path: string, exchanges: number) => void): Promise<T> {
  if (!o.file) return fn();
  const rec = startRecording(o.command);
  rec.names(...o.names);
  try {
    return await fn();
  } finally {
    stopRecording();
    const out = resolve(o.cwd, o.file);
    const t = rec.write(out);
    onWritten(out, t.exchanges.length);
  }
}

/** Names in a spec file worth redacting beyond what the exchanges reveal: the cluster and host names. */
export async function specNames(file: string | undefined, cwd: string): Promise<string[]> {
  if (!file) return [];
  try {
    const { loadSpec } = await import('../spec/load.js');
    const s = loadSpec(file, cwd).spec;
    return [s.name, ...s.proxmox.hosts.map((h) => h.name)];
  } catch {
    return [];
  }
}
