// Benchmark child: runs one CLI invocation in this process and reports peak RSS on stderr as JSON.
import { runCli } from '../src/cli/main.js';

const args = process.argv.slice(2);
let bytes = 0;
const code = await runCli(args, {
  stdout: { write: (s: string) => (bytes += s.length) },
  stderr: { write: (s: string) => process.stderr.write(s) },
  env: process.env,
  cwd: process.cwd(),
});
process.stderr.write(JSON.stringify({ code, outputBytes: bytes, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
