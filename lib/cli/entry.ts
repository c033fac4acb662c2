// The CLI module by module, as bin/ofctl-ts.js runs it when there is no fresh bundle (the
// bundles, scripts/bundle-cli.ts, are these two steps): a plain flow command runs without yargs
// (quick.ts), the rest goes to yargs (main.ts).
const { handled } = await import('./quick-entry.js');
if (!handled) await import('./main.js');
