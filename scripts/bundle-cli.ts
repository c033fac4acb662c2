// `npm run build` / `npm ci` (prepare), after tsc: bundles the compiled CLI (dist/lib/cli/entry.js
// and every module it reaches, yargs and rxjs included) into one CommonJS file beside it,
// dist/lib/cli/ofctl-ts.cjs, which bin/ofctl-ts.js runs with a V8 code cache. One file read and
// compiled (or taken from the cache) instead of ~90 ES modules resolved, read and compiled one by
// one: most of what a command on a small bridge cost at start-up (bench/startup.ts).
import { build, Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'lib', 'cli');
export const BUNDLE = join(CLI, 'ofctl-ts.cjs');

// Stale code caches of an earlier bundle would only be rejected: remove them.
for (const f of readdirSync(CLI)) if (f.startsWith('ofctl-ts.cjs.') && f.endsWith('.cache')) rmSync(join(CLI, f));

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

const r = await build({
  entryPoints: [join(CLI, 'entry.js')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Loaded from node_modules when used: pino (OFCTL_TS_LOG, the controller) starts worker
  // threads by file name, and both serve the long-running controller, not start-up.
  external: ['pino', 'pino-pretty', 'prom-client'],
  banner: { js: 'const __ofctlTsUrl = (p) => require("node:url").pathToFileURL(require("node:path").join(__dirname, p)).href;' },
  // Minified, the file is ASCII only (a one-byte string for V8, half the size of the two-byte one
  // that a single non-ASCII character in a comment makes of it) and its code cache is smaller;
  // names are kept for error names and stack traces (OFCTL_TS_DEBUG=1).
  minify: true,
  keepNames: true,
  logLevel: 'warning',
  legalComments: 'none',
  metafile: true,
  plugins: [rxjsEsm, importMetaUrl],
});
if (r.errors.length || r.warnings.length) throw new Error('bundle-cli: esbuild reported problems (above)');

// yargs reads its messages from ../locales beside its build (y18n, by the user's locale); the
// bundle's own directory stands in for that build's.
cpSync(join(ROOT, 'node_modules', 'yargs', 'locales'), join(CLI, '..', 'locales'), { recursive: true });

// bin/ofctl-ts.js reads it as latin1 (no UTF-8 decoding), which only ASCII makes right.
if (readFileSync(BUNDLE).some((b) => b > 0x7f)) throw new Error(`bundle-cli: ${BUNDLE} is not ASCII only`);

// The code cache, made now for this Node: each run below adds the functions it compiled (command
// line parsing, the flow parser, the help text). A run with another Node makes its own on first use.
const BIN = join(ROOT, 'bin', 'ofctl-ts.js');
const FLOWS = join(ROOT, 'fixtures', 'seed-003', 'compute-br-tun.add-flows.txt');
for (const args of [['--help'], ['diff-flows', FLOWS, FLOWS], ['dump-flows', 'unix:/nonexistent/ofctl-ts-warm-up']]) {
  spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, OFCTL_TS_WRITE_CODE_CACHE: '1' }, stdio: 'ignore' });
}

const inputs = Object.keys(r.metafile.inputs).length;
console.log(`bundle-cli: ${inputs} modules -> dist/lib/cli/ofctl-ts.cjs (${(r.metafile.outputs[Object.keys(r.metafile.outputs)[0]!]!.bytes / 1024).toFixed(0)} kB)`);
