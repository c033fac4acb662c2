// Lint: typescript-eslint's recommended type-aware rules; no `any` anywhere.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Data flows one way (topology → host state → pipelines → flow sets → reconcile → codec → socket), and
// test support (testing/, test/) is never imported by what ships. Imports are relative, so each rule
// matches the folder a specifier climbs into: `^(\.\./)+X/` is X at the top level from any depth.
// (Dynamic import() is not checked by this rule.)
const up = (folders, why) => ({ regex: `^(\\.\\./)+(${folders})/`, message: why });
const NO_TEST_SUPPORT = up('testing|test', 'shipped code never imports test support (testing/, test/).');
const NO_LIB = up('lib|pipelines', 'codecs/ is the ground: it imports no stage above it (lib/, pipelines/).');
const NO_ORCHESTRATOR_FROM_PIPELINES = up('lib/(controller|cli|switch|ovsdb)',
  'pipelines/ are pure: they import lib/state and lib/topology types, never the controller, CLI or sessions.');
const NO_ORCHESTRATOR_FROM_STAGE = up('(lib/)?(controller|cli)',
  'a stage (lib/topology, lib/state, lib/flowset) imports nothing of the controller or CLI that wire it.');
const restrict = (files, ...patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  // bin/ is plain CommonJS outside the TypeScript project (bin/package.json): lint it for the import direction only.
  {
    files: ['bin/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'commonjs',
      globals: { process: 'readonly', require: 'readonly', __dirname: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  // One block per file group: a later block replaces an earlier one's rule options for the same file.
  restrict(['codecs/**'], NO_LIB, NO_TEST_SUPPORT),
  restrict(['pipelines/**'], NO_ORCHESTRATOR_FROM_PIPELINES, NO_TEST_SUPPORT),
  restrict(['lib/**'], NO_TEST_SUPPORT),
  restrict(['lib/topology/**', 'lib/state/**', 'lib/flowset/**'], NO_ORCHESTRATOR_FROM_STAGE, NO_TEST_SUPPORT),
  restrict(['testing/**', 'demo/**', 'bench/**', 'scripts/**'],
    up('test', 'test/ holds tests and their own helpers: support used outside test/ lives in testing/.')),
  restrict(['bin/**'], up('(dist/)?(testing|test)', 'the binary never imports test support (testing/, test/).')),
);
