// yargs through its CommonJS build: unbundled it loads in ~20 ms against ~60-100 ms for its ESM
// builds, and the bundler (scripts/bundle-cli.ts) takes this build in as it is.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS module, on purpose */
import yargs = require('yargs/yargs');
import helpers = require('yargs/helpers');
/* eslint-enable @typescript-eslint/no-require-imports */

export = { yargs, hideBin: helpers.hideBin };
