import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Code that runs in a browser: the edge's page and the Shopify theme extension. */
const browserFiles = ['edge/public/**/*.js', 'examples/**/*.js'];

export default defineConfig(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.wrangler/**',
      '**/.state/**',
      'edge/worker-configuration.d.ts',
      'test-artifacts/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Type information from the project that includes each file (see tsconfig.json). A file
        // that no project includes is an error, so nothing escapes the typecheck.
        project: [
          './tsconfig.json',
          './edge/tsconfig.json',
          './edge/tsconfig.node.json',
          './deploy/tsconfig.json',
          './test/e2e/tsconfig.json',
          './test/e2e/tsconfig.browser.json',
          './test/e2e/tsconfig.page.json',
        ],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: true },
      ],
      // Numbers read naturally in messages; everything else is converted on purpose.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `(resolve) => setTimeout(resolve, ms)` and `return reply(res, ...)` in a void function are
      // idiomatic; a void value used anywhere else is still an error.
      '@typescript-eslint/no-confusing-void-expression': [
        'error',
        { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true },
      ],
      // With noUncheckedIndexedAccess (tsconfig.json) every typed-array and byte-parsing loop reads
      // `data[i]!` for an index the loop bounds keep in range; the assertion is the idiom there.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Passing on a caught `unknown` as it is (a rethrow through a promise) is fine.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    ignores: browserFiles,
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['edge/**/*.ts'],
    languageOptions: { globals: { ...globals.serviceworker } },
  },
  {
    files: browserFiles,
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.test.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.any, expect.stringMatching, ...) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
