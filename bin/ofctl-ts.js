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
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
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

/** Runs a bundle (a function of the CommonJS module's variables) and returns its exports. */
function run(bundle) {
  const { Script } = require('node:vm');
  // One cache per Node version and architecture (V8 refuses a cache made by another V8). A
  // missing or refused cache is written when the run ends, with every function the run compiled
  // (OFCTL_TS_WRITE_CODE_CACHE=1: rewritten anyway, as the build does); where the directory is
  // read-only, the CLI runs without one. The build cannot run every command to its end (no switch
  // there: a dump compiles no printer), so the first successful run of each flow command adds the
  // functions it compiled, once (the commands file beside the cache lists those that did).
  const cacheFile = `${bundle}.${process.version}-${process.arch}.cache`;
  const commandsFile = `${cacheFile}.commands`;
  let cachedData;
  let learnt = '';
  try {
    cachedData = readFileSync(cacheFile);
    learnt = readFileSync(commandsFile, 'latin1');
  } catch {
    // no cache, or none of its commands run yet
  }
  const script = new Script(readFileSync(bundle, 'latin1'), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  const stale = !cachedData || script.cachedDataRejected;
  const module = { exports: {} };
  process.once('exit', (code) => {
    // The flow command the quick bundle ran (options may come first: `-O OpenFlow13 dump-flows`).
    const command = module.exports.ranCommand;
    const learn = code === 0 && module.exports.handled === true && typeof command === 'string' && !learnt.split('\n').includes(command);
    if (!stale && !learn && !process.env.OFCTL_TS_WRITE_CODE_CACHE) return;
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
      writeFileSync(commandsFile, `${stale ? '' : learnt}${learn ? `${command}\n` : ''}`);
    } catch {
      // a read-only install, a full disk: the next run compiles again
    }
  });
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, cli);
  return module.exports;
}

if (!fresh()) import('../dist/lib/cli/entry.js');
else if (!run(quick).handled) run(full);
