// Owns the gzipped tar that Talos streams for Kubeconfig: a tolerant reader (Talos never closes the tar writer, so the
// trailer and final padding may be missing, and the gzip stream may be cut) and a writer with the same shape for the simulator.
import { gunzipSync, gzipSync, constants as zc } from 'node:zlib';

export interface TarEntry {
  name: string;
  mode: number;
  data: Buffer;
}

function octal(buf: Buffer, start: number, len: number): number {
  const s = buf.subarray(start, start + len).toString('ascii').replace(/\0.*$/s, '').trim();
  return s ? parseInt(s, 8) : 0;
}

/** Reads entries from a (possibly unterminated) tar; gzip is detected by its magic bytes. */
export function readTarGz(bytes: Buffer): TarEntry[] {
  let tar = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    tar = gunzipSync(bytes, { finishFlush: zc.Z_SYNC_FLUSH });
  }
  const entries: TarEntry[] = [];
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = octal(header, 124, 12);
    const mode = octal(header, 100, 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const start = off + 512;
    // A missing final padding (or a cut stream) leaves fewer bytes than the size says: keep what is there.
    const data = Buffer.from(tar.subarray(start, Math.min(start + size, tar.length)));
    if (type === '0' || type === '\0') entries.push({ name: prefix ? `${prefix}/${name}` : name, mode, data });
    off = start + Math.ceil(size / 512) * 512;
  }
  return entries;
}

function field(h: Buffer, start: number, len: number, value: string): void {
  h.write(value, start, len, 'ascii');
}

/** Writes a gzipped tar with one regular file, without the tar trailer (as Talos does). */
export function writeTarGzUnterminated(name: string, data: Buffer, mode = 0o600, mtime = Math.floor(Date.now() / 1000)): Buffer {
  const h = Buffer.alloc(512);
  field(h, 0, 100, name);
  field(h, 100, 8, mode.toString(8).padStart(7, '0') + '\0');
  field(h, 108, 8, '0000000\0');
  field(h, 116, 8, '0000000\0');
  field(h, 124, 12, data.length.toString(8).padStart(11, '0') + '\0');
  field(h, 136, 12, mtime.toString(8).padStart(11, '0') + '\0');
  field(h, 148, 8, '        ');
  h[156] = '0'.charCodeAt(0);
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return gzipSync(Buffer.concat([h, data, pad]));
}
