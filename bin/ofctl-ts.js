#!/bin/sh
':' //; unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"
// The binary runs the bundled CLI (scripts/bundle-cli.ts; made by `npm ci` through the prepare
// script, or `npm run build`), each bundle from a V8 code cache beside it: one file compiled once,
// where the compiled modules are ~90 files that Node resolves, reads and compiles one by one at
// every start (most of a command's time on a small bridge). First the flow commands' bundle: it
// runs a plain flow command line; any other line goes to the yargs CLI's bundle. This file is
// CommonJS (bin/package.json): an ES module entry would load Node's ESM loader first (~30 ms of
// CPU). Without the bundles, or with bundles older than the compiled modules (tsc run since), it
// runs the compiled modules as they are (dist/lib/cli/entry.js).
//
// Run as a program, the file is first a shell script (its line above, a no-op string to
// JavaScript), which runs Node on this same file without NODE_EXTRA_CA_CERTS: with that variable
// set, Node 20 reads and parses the whole file (~150 certificates of Debian's bundle) in C++ before
// any JavaScript runs, ~35-60 ms of every start, and nothing then can skip it but a new process.
// ofctl-ts trusts --ca-cert alone (lib/tls.ts gives every TLS connection its `ca`), so those
// certificates were never used; and the processes it starts (dot) are not Node's.
'use strict';
// The commands the yargs CLI runs (lib/cli/commands.ts YARGS_COMMANDS; a test holds the two equal).
const YARGS_COMMANDS = ['render', 'audit', 'pipeline', 'controller', 'status', 'topology'];
// A flow command's cost is mostly V8 warming up: TurboFan compiling each function once per place it
// is inlined. Without inlining a dump or a load costs 15-30% less CPU, at the same speed once warm
// (bench/dump, 2026-12-06). Not for the long-running controller and its kin. Set before any Script
// is made: a code cache is only accepted under the flags it was made with.
if (!YARGS_COMMANDS.includes(process.argv[2])) require('node:v8').setFlagsFromString('--no-turbo-inlining');
const { existsSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'lib', 'cli');
const quick = join(cli, 'ofctl-ts-quick.cjs');
const full = join(cli, 'ofctl-ts.cjs');

function fresh() {
  try {
    const built = statSync(join(cli, 'entry.js')).mtimeMs;
    return statSync(quick).mtimeMs >= built && statSync(full).mtimeMs >= built;
  } catch {
    return false;
  }
}

/**
 * Runs a bundle (a function of the CommonJS module's variables) and returns its exports. `words`:
 * the command line's words that may name the command (the quick bundle's), which picks its cache.
 */
function run(bundle, words) {
  const { Script } = require('node:vm');
  // One cache per command, Node version and architecture (V8 refuses a cache made by another V8),
  // made by the command's first successful run from everything it compiled: a command deserializes
  // its own code only (a dump: the codec and its printer; --help: the help text), where one cache
  // for all grew with every command run (430-510 kB, ~10 ms to deserialize for --help). The command
  // is the first word that is no option, unless an option's value came first: the first of two
  // words with a cache wins, else the cache of the lines without a command (--help, the yargs CLI's
  // bundle), a good start for any. A refused cache is rewritten; where the directory is read-only,
  // the CLI runs without one.
  const base = `${bundle}.${process.version}-${process.arch}`;
  const cacheOf = (command) => `${base}${command ? `.${command}` : ''}.cache`;
  const used = words.filter((w) => /^[a-z][a-z0-9-]*$/.test(w)).slice(0, 2).find((w) => existsSync(cacheOf(w))) ?? '';
  let cachedData;
  try {
    cachedData = readFileSync(cacheOf(used));
  } catch {
    // no cache yet
  }
  const script = new Script(readFileSync(bundle, 'latin1'), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  const module = { exports: {} };
  process.once('exit', (code) => {
    // The flow command the quick bundle ran (none for --help, and for the yargs CLI's bundle).
    const ran = module.exports.ranCommand ?? '';
    const file = cacheOf(ran);
    const refused = used === ran && cachedData !== undefined && script.cachedDataRejected;
    if (code !== 0 || module.exports.handled === false || (!refused && existsSync(file))) return;
    try {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, file);
    } catch {
      // a read-only install, a full disk: the next run compiles again
    }
  });
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, cli);
  return module.exports;
}

// Once nothing is left to do (every write done, every socket closed), exit at once: the same exit
// ('exit' listeners run), without Node's teardown of its environment and V8's heap (~5 ms).
process.once('beforeExit', (code) => process.exit(code));

const argv = process.argv.slice(2);
if (!fresh()) import('../dist/lib/cli/entry.js');
else if (!run(quick, argv.filter((w) => !w.startsWith('-'))).handled) run(full, []);
