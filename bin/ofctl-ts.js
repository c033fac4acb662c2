#!/usr/bin/env node
// The binary runs the bundled CLI (dist/lib/cli/ofctl-ts.cjs, made by `npm ci` through the
// prepare script, or `npm run build`) from a V8 code cache beside it: one file, compiled once,
// where the compiled modules are ~90 files that Node resolves, reads and compiles one by one at
// every start (most of a command's time on a small bridge). This file is CommonJS
// (bin/package.json): an ES module entry would load Node's ESM loader first (~30 ms of CPU).
// Without a bundle, or with one older than the compiled modules (tsc run since), it runs the
// compiled modules as they are (dist/lib/cli/entry.js).
'use strict';
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'lib', 'cli');
const bundle = join(cli, 'ofctl-ts.cjs');
let fresh;
try {
  fresh = statSync(bundle).mtimeMs >= statSync(join(cli, 'entry.js')).mtimeMs;
} catch {
  fresh = false;
}
if (!fresh) {
  import('../dist/lib/cli/entry.js');
} else {
  const { Script } = require('node:vm');
  // One cache per Node version and architecture (V8 refuses a cache made by another V8). A
  // missing or refused cache is written when the run ends, with every function the run compiled
  // (OFCTL_TS_WRITE_CODE_CACHE=1: rewritten anyway, as the build does); where the directory is
  // read-only, the CLI runs without one.
  const cacheFile = `${bundle}.${process.version}-${process.arch}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'latin1')}\n})`, {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  });
  if (!cachedData || script.cachedDataRejected || process.env.OFCTL_TS_WRITE_CODE_CACHE) {
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only install, a full disk: the next run compiles again
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
}
