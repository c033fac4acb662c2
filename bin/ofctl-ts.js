#!/usr/bin/env node
// The binary only dispatches to the compiled CLI (built by `npm ci` through the prepare script).
// A plain dump-flows sends its request before the CLI loads, so the switch collects meanwhile.
import { startEarlyDump } from '../dist/lib/cli/early-dump.js';

startEarlyDump(process.argv.slice(2));
await import('../dist/lib/cli/main.js');
