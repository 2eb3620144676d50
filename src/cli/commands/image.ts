// Owns `cloudlab image`: schematic IDs computed offline and the installer / disk / ISO URLs of a spec.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_SPEC } from './spec.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function register(program: Command, ctx: CliContext): void {
  const image = program.command('image').description('Image Factory schematics and image URLs');

  image
    .command('schematic-id')
    .description('print the Image Factory ID of a schematic YAML (computed offline, exactly as the factory does)')
    .argument('[file]', 'schematic file, or - for stdin', '-')
    .option('--factory <url>', 'also create the schematic on this Image Factory and check it computes the same ID')
    .action(async (file: string, o: { factory?: string }) => {
      const { runSchematicId, confirmSchematicOnline } = await import('../../actions/image.js');
      let text: string;
      if (file === '-') {
        if (!ctx.io.stdin) throw new Error('no standard input');
        text = await readAll(ctx.io.stdin);
      } else {
        const { resolve } = await import('node:path');
        const { readTextFile } = await import('../../core/files.js');
        text = readTextFile(resolve(ctx.cwd, file), 'schematic');
      }
      const r = runSchematicId(text, file === '-' ? 'stdin' : file);
      if (o.factory) await confirmSchematicOnline(text, file === '-' ? 'stdin' : file, o.factory);
      if (ctx.flags.json) ctx.json({ id: r.id, schematic: r.canonical });
      else ctx.out(r.id);
    });

  image
    .command('urls')
    .description("print the installer image and the disk / ISO URLs for the spec's platform, architecture and Secure Boot choice")
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .option('--online', "check the Talos version and extensions with the spec's Image Factory and confirm the schematic ID")
    .action(async (o: { file: string; online?: boolean }) => {
      const { runImageUrls } = await import('../../actions/image.js');
      const r = await runImageUrls({ cwd: ctx.cwd, file: o.file, ...(o.online ? { online: true } : {}) });
      if (ctx.flags.json) ctx.json(r);
      else {
        ctx.out(`schematic  ${r.schematicId}`);
        ctx.out(`installer  ${r.installer}`);
        ctx.out(`disk       ${r.disk}`);
        ctx.out(`iso        ${r.iso}`);
      }
    });
}
