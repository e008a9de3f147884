// `npm run lint` (run by `npm test` with --max-warnings 0): ESLint with
// typescript-eslint's type-checked recommended rules over src/, test/ and
// scripts/ (TypeScript and the .mjs scripts), types from tsconfig.json.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals, for the .mjs files (TypeScript files get them from @types/node). */
const NODE_GLOBALS = { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' };

/** The no-unsafe-* rules, off where values are deliberately untyped (see each use). */
const UNTYPED_VALUES_ALLOWED = {
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
};

export default defineConfig(
  { ignores: ['dist/', 'coverage/', '.tmp/', 'test/fixtures/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The .mjs files are in no tsconfig: they get the default project.
        projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'require-await': 'off',
      '@typescript-eslint/require-await': 'error',
      // As tsc's noUnusedLocals: `const { a: _a, ...rest } = x` leaves `a` out of `rest`.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // node:test's describe() and it() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // A default case counts: the code's defaults throw (e.g. a `typeof` switch).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    files: ['test/**'],
    rules: {
      // The tests and the stack read and tamper with raw server JSON from
      // JSON.parse (deliberately untyped: they forge what the product must
      // reject); src/ and scripts/ keep these rules.
      ...UNTYPED_VALUES_ALLOWED,
    },
  },
  {
    files: ['test/unit/**'],
    rules: {
      // Unit tests read methods off objects without calling them: to show a
      // map without a prototype has no `toString`, or to save
      // process.stdout.write and put it back.
      '@typescript-eslint/unbound-method': 'off',
      // Fakes of async interfaces (a MetadataSource, a TrustStore, the server
      // client, a pool task) are `async` so that a throw rejects, as the real
      // ones do.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['src/cli/main.ts'],
    rules: {
      // The CLI's entry is kept in syntax any old Node.js parses, so an old one
      // prints what it needs instead of a SyntaxError (see the file).
      'no-var': 'off',
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: NODE_GLOBALS },
    rules: {
      // Plain JavaScript: every parameter and JSON value is `any` here; the
      // scripts' types are in their .d.mts files, checked where TypeScript uses them.
      ...UNTYPED_VALUES_ALLOWED,
    },
  },
);
