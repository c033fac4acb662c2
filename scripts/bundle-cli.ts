// `npm run build` / `npm ci` (prepare), after tsc: bundles the compiled CLI into two CommonJS
// files beside it, which bin/ofctl-ts.js runs, each from its V8 code cache: ofctl-ts-quick.cjs,
// the plain flow commands (lib/cli/quick-entry.ts and what it reaches), and ofctl-ts.cjs, the
// yargs CLI (lib/cli/main.ts and everything it reaches, yargs included) for the rest. One file
// read and compiled (or taken from the cache) instead of ~90 ES modules resolved, read and
// compiled one by one: most of what a command on a small bridge cost at start-up
// (bench/startup.ts). A flow command loads no byte of yargs, and no compiled code of it.
import { build, Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'lib', 'cli');
/** Each bundle and the compiled module it starts from. */
const BUNDLES = [['ofctl-ts-quick.cjs', 'quick-entry.js'], ['ofctl-ts.cjs', 'main.js']] as const;

// Stale code caches of an earlier bundle would only be rejected: remove them (and the lists of
// learnt commands that an earlier bin kept beside its one cache).
for (const f of readdirSync(CLI)) if (/^ofctl-ts.*\.cjs\..*\.cache(\.commands)?$/.test(f)) rmSync(join(CLI, f));

// rxjs's package exports give Node its CommonJS build, which cannot be tree-shaken (340 kB where a
// few classes are used): every rxjs import, the package's and its internal modules alike, is taken
// from its ES2015 build instead, so that there is one copy of each class.
const RXJS = join(ROOT, 'node_modules', 'rxjs', 'dist', 'esm');
const rxjsEsm: Plugin = {
  name: 'rxjs-esm',
  setup(b) {
    b.onResolve({ filter: /^rxjs(\/internal\/.*)?$/ }, (a) => ({ path: join(RXJS, a.path === 'rxjs' ? 'index.js' : `${a.path.slice(5)}.js`) }));
  },
};

// A module that finds a file through import.meta.url (package.json, fixtures/) keeps its own URL,
// that of the compiled module it was, relative to the bundle.
const importMetaUrl: Plugin = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      return { contents: text.replaceAll('import.meta.url', `__ofctlTsUrl(${JSON.stringify(relative(CLI, a.path))})`), loader: 'js' };
    });
  },
};

let modules = 0;
let bytes = 0;
for (const [bundle, entry] of BUNDLES) {
  const out = join(CLI, bundle);
  const r = await build({
    entryPoints: [join(CLI, entry)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Loaded from node_modules when used: pino (OFCTL_TS_LOG, the controller) starts worker
    // threads by file name, and both serve the long-running controller, not start-up; etcd3 reads
    // its .proto files beside its own modules.
    external: ['pino', 'pino-pretty', 'prom-client', 'etcd3'],
    // A function of the CommonJS module's variables, as Node would wrap it: bin/ofctl-ts.js
    // compiles it as it is. Strict, as the ES modules it is made of were.
    banner: { js: '(function (exports, require, module, __filename, __dirname) {"use strict";const __ofctlTsUrl = (p) => require("node:url").pathToFileURL(require("node:path").join(__dirname, p)).href;' },
    footer: { js: '})' },
    // Minified, the file is ASCII only (a one-byte string for V8, half the size of the two-byte one
    // that a single non-ASCII character in a comment makes of it) and its code cache is smaller.
    // Names stay for error types in logs and stack traces (OFCTL_TS_DEBUG=1): the quick bundle
    // renames and keeps them (esbuild's keepNames: a call at each function's creation), the full
    // one, which runs the controller, does not rename them. keepNames there cost the replicas of
    // the scale-out bench ~1 ms of CPU per port event (closures made in every pass).
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: bundle === 'ofctl-ts-quick.cjs',
    keepNames: bundle === 'ofctl-ts-quick.cjs',
    logLevel: 'warning',
    legalComments: 'none',
    metafile: true,
    plugins: [rxjsEsm, importMetaUrl],
  });
  if (r.errors.length || r.warnings.length) throw new Error('bundle-cli: esbuild reported problems (above)');
  // bin/ofctl-ts.js reads it as latin1 (no UTF-8 decoding), which only ASCII makes right.
  if (readFileSync(out).some((b) => b > 0x7f)) throw new Error(`bundle-cli: ${out} is not ASCII only`);
  modules += Object.keys(r.metafile.inputs).length;
  bytes += r.metafile.outputs[Object.keys(r.metafile.outputs)[0]!]!.bytes;
}

// yargs reads its messages from ../locales beside its build (y18n, by the user's locale); the
// bundle's own directory stands in for that build's.
cpSync(join(ROOT, 'node_modules', 'yargs', 'locales'), join(CLI, '..', 'locales'), { recursive: true });

// The code caches, made now for this Node (bin/ofctl-ts.js: one a command, from its first
// successful run): the lines without a command (--help) and the yargs CLI's (`render --help`), and
// diff-flows of two files, which needs no switch. Each other command makes its own on first use.
const BIN = join(ROOT, 'bin', 'ofctl-ts.js');
const FLOWS = join(ROOT, 'fixtures', 'seed-003', 'compute-br-tun.add-flows.txt');
for (const args of [['--help'], ['render', '--help'], ['diff-flows', FLOWS, FLOWS]]) {
  spawnSync(process.execPath, [BIN, ...args], { stdio: 'ignore' });
}

console.log(`bundle-cli: ${modules} modules -> dist/lib/cli/${BUNDLES.map(([b]) => b).join(', ')} (${(bytes / 1024).toFixed(0)} kB)`);
