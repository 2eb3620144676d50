// Owns asking for a secret on a terminal: the question on stderr, the answer read without echo, so a secret
// typed by hand never appears on screen, in scrollback or in a shell history.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { CliContext } from './context.js';

export function promptHidden(ctx: CliContext, question: string): Promise<string> {
  const stdin = ctx.io.stdin!;
  let muted = false;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) ctx.io.stderr.write(chunk.toString());
      cb();
    },
  });
  const rl = createInterface({ input: stdin, output: sink, terminal: true });
  return new Promise((resolve, reject) => {
    rl.on('SIGINT', () => {
      rl.close();
      ctx.io.stderr.write('\n');
      reject(new Error('cancelled'));
    });
    rl.question(question, (answer) => {
      rl.close();
      ctx.io.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}
