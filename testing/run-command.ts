// Runs one command module (lib/cli/cmd-*.ts) in a process of its own, as the CLI will once the
// command table has it: its stdout, `ofctl-ts: CMD: MESSAGE` and exit 1 for a failure.
// Usage: node dist/testing/run-command.js MODULE EXPORT CMD OPTIONS-JSON [ARG...]
type Command = (args: readonly string[], opts: object, out: (s: string | Buffer) => void) => Promise<number>;

const [mod, name, cmd, opts, ...args] = process.argv.slice(2);
const fn = (await import(new URL(`../lib/cli/${mod!}.js`, import.meta.url).href) as Record<string, Command>)[name!]!;
try {
  process.exitCode = await fn(args, JSON.parse(opts!) as object, (s) => process.stdout.write(s));
} catch (err) {
  process.stderr.write(`ofctl-ts: ${cmd!}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
