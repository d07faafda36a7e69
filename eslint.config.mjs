import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import noPositionSpread from './eslint-rules/no-position-spread.cjs';

// Module boundaries are checked twice on purpose: here by eslint-plugin-import-x (editor feedback, in
// `npm run lint`) and in `npm run deps` by dependency-cruiser (.dependency-cruiser.cjs), which also follows
// `import type` edges, so a cycle made only of types fails the build too. Packages are refused by name with
// the core `no-restricted-imports` (no resolution needed); directories by resolved path with `no-restricted-paths`.

/** Packages that do I/O: the domain is pure and never imports them. */
const IO_PACKAGES = [
  '@aws-sdk/*',
  '@aws-lambda-powertools/*',
  '@alpacahq/*',
  'aws-lambda',
  'aws-cdk-lib',
  'aws-cdk-lib/*',
  'node:http',
  'node:https',
  'node:net',
  'node:fs',
  'http',
  'https',
  'net',
  'fs',
  'undici',
  'axios',
  'node-fetch',
];

/** shared/domain: pure rules and values. */
const DOMAIN_ZONE = {
  target: './shared/domain',
  from: [
    './shared/adapters',
    './shared/handlers',
    './shared/use-cases',
    './shared/ports.ts',
    './shared/wiring.ts',
    './shared/config.ts',
    './shared/powertools.ts',
    './lambdas',
    './lib',
  ],
  message: 'shared/domain is pure: it may not import adapters, handlers, use cases, ports or wiring.',
};

/** Production code never reaches into the local stand-ins, the tools or the tests. */
const SHARED_ZONE = {
  target: './shared',
  from: ['./local', './scripts', './test'],
  message: 'shared/ is production code: it may not import from local/, scripts/ or test/.',
};

/** The simulator is an independent oracle of Alpaca's rules (issue 13): it must not share the code it checks. */
const SIMULATOR_ZONE = {
  target: './local/alpaca-sim',
  from: './shared',
  message: 'local/alpaca-sim is an independent oracle: it may not import production code from shared/.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'cdk.out/',
      'dist/',
      'coverage/',
      '.local/',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Dependencies are parsed as TypeScript (else no-cycle sees no imports in them) and resolved by Node's
      // rules with .ts added; no TypeScript resolver is needed for the relative imports the rules look at.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Never parse packages: only our own modules can form a cycle, and parsing node_modules costs seconds.
      'import-x/ignore': ['node_modules'],
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.d.ts', '.js', '.json'] })],
    },
    rules: {
      // import-x skips `import type` edges (they vanish at compile time); the domain zone below still keeps
      // the domain from importing ports.ts, the one type-only cycle the tree had.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: [DOMAIN_ZONE, SHARED_ZONE, SIMULATOR_ZONE] }],
    },
  },
  {
    // Every record change is an event (issue 22): outside the domain a Position changes only through a named
    // function of shared/domain/position-lifecycle.ts. The rule reads types, so only these files are parsed
    // with the type checker, in one program of production code (tsconfig.lint.json: no tests, which roughly
    // halves the typed parse); tests stay untyped, and the simulator can hold no Position (it may not import
    // shared/).
    files: [
      'shared/**/*.ts',
      'lambdas/**/*.ts',
      'lib/**/*.ts',
      'bin/**/*.ts',
      'local/**/*.ts',
      'scripts/**/*.ts',
    ],
    ignores: ['shared/domain/**', 'local/alpaca-sim/**'],
    languageOptions: {
      parserOptions: { project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { ops: { rules: { 'no-position-spread': noPositionSpread } } },
    rules: { 'ops/no-position-spread': 'error' },
  },
  {
    // One job per module and per function (issue 13): the size limits fail the build, not a review.
    files: ['shared/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['shared/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: IO_PACKAGES, message: 'shared/domain is pure: no AWS SDK, HTTP or I/O imports.' },
          ],
        },
      ],
    },
  },
  {
    // The simulator is an independent oracle: it must not share the production code it is used to test.
    files: ['local/alpaca-sim/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/shared', '**/shared/**'],
              message:
                'local/alpaca-sim is an independent oracle: no import from shared/ (write it fresh here).',
            },
          ],
        },
      ],
    },
  },
);
