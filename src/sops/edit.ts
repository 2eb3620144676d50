// Owns editing encrypted files (`secrets edit`, `sops edit`): decrypts into a 0600 file in a RAM-backed
// temporary directory, runs the user's editor (with a timeout), re-encrypts on change, always wipes the plaintext.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { parseDocument, isMap } from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { readSecretBytes, writeEncryptedFile } from './files.js';
import { formatFromPath, type SopsFormat } from './codec.js';

/** A directory in memory when the system has one (/dev/shm on Linux), else the temp directory. */
function ramDir(warn?: (m: string) => void): string {
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // fall through
  }
  warn?.('no RAM-backed directory (/dev/shm) here: the plaintext lives briefly in the temporary directory while you edit');
  return tmpdir();
}

function runEditor(editor: string, file: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolveP, reject) => {
    const child = spawn(`${editor} "${file}"`, { shell: true, stdio: 'inherit', env });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new CloudlabError({ code: 'SECRETS_EDITOR_TIMEOUT', message: `waited ${Math.round(timeoutMs / 60000)} minutes for the editor (${editor}) to exit; nothing was changed`, hint: 'pass --timeout <minutes> for longer edits' }));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CloudlabError({ code: 'SECRETS_EDITOR', message: `cannot start the editor ${editor}: ${e.message}`, hint: 'set SOPS_EDITOR (or EDITOR) to an editor command that waits, e.g. "vim" or "code --wait"' }));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveP();
      else reject(new CloudlabError({ code: 'SECRETS_EDITOR', message: `the editor exited with code ${code}; nothing was changed` }));
    });
  });
}

const TEMPLATES: Record<SopsFormat, string> = {
  yaml: '# one key per value, e.g.\n# proxmox:\n#     tokenSecret: …\n{}\n',
  json: '{}\n',
  dotenv: '',
  binary: '',
};

/**
 * Edits an encrypted file in the user's editor: the plaintext exists only in a 0600 file in a RAM-backed
 * directory, wiped afterwards. A new file starts from a small template. Returns whether the file changed.
 */
export async function editEncryptedFile(path: string, env: NodeJS.ProcessEnv, opts: { timeoutMs: number; warn?: (m: string) => void; format?: SopsFormat }): Promise<boolean> {
  const format = opts.format ?? formatFromPath(path);
  const before = existsSync(path) ? (await readSecretBytes(path, env, { format })).toString('utf8') : TEMPLATES[format];
  const dir = mkdtempSync(join(ramDir(opts.warn), 'cloudlab-edit-'));
  const file = join(dir, `plaintext${extname(path) || '.txt'}`);
  try {
    writeFileSync(file, before, { mode: 0o600 });
    // sops: SOPS_EDITOR, then EDITOR (cmd/sops/edit.go); VISUAL as other Unix tools before the fallback.
    const editor = env.SOPS_EDITOR || env.EDITOR || env.VISUAL || 'vi';
    await runEditor(editor, file, env, opts.timeoutMs);
    const after = readFileSync(file, 'utf8');
    if (after === before) return false;
    if (format === 'yaml') {
      const doc = parseDocument(after);
      if (doc.errors.length) throw new CloudlabError({ code: 'SECRETS_BAD_YAML', exitCode: EXIT_INVALID, message: `the edited file is not valid YAML (${doc.errors[0]?.message.split('\n')[0]}); nothing was changed`, hint: 'run the edit again' });
      if (doc.contents != null && !isMap(doc.contents)) throw new CloudlabError({ code: 'SECRETS_BAD_YAML', exitCode: EXIT_INVALID, message: 'the edited file must be a YAML map; nothing was changed' });
    }
    await writeEncryptedFile(path, after, env, { format });
    return true;
  } finally {
    try {
      if (existsSync(file)) writeFileSync(file, Buffer.alloc(Math.max(1, statSync(file).size)));
    } catch {
      // best effort wipe before removal
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
