// Flat ESLint config: Salesforce's LWC rules for component JavaScript, typescript-eslint for every TypeScript file
// (scripts, remote system, LWC Jest tests and mocks).
const lwcConfig = require('@salesforce/eslint-config-lwc');
const tseslint = require('typescript-eslint');
const jestPlugin = require('eslint-plugin-jest');
const globals = require('globals');
const fs = require('node:fs');
const path = require('node:path');
const importPlugin = require('eslint-plugin-import');

/**
 * Import direction in the remote system (issue 8, "arrows run one way"): each pattern folder under
 * `remote-system/src/<id>/` imports only shared modules, never another pattern nor the composition root; shared
 * modules (everything else in `remote-system/src`) never import a pattern folder, except the composition root
 * `src/patterns.ts`. Pattern tests (`remote-system/test/<id>/`) keep to their own pattern the same way.
 */
const PATTERN_IDS = [
  'remote-call-in',
  'request-reply',
  'fire-and-forget',
  'batch-sync',
  'data-virtualization',
  'ui-update',
  'ui-integration',
  'event-driven'
];
const REMOTE_SRC = path.join(__dirname, 'remote-system', 'src');
/** Files of the composition root: they may import patterns, and patterns must not import them. */
const COMPOSITION_ROOT = ['patterns.ts', 'server.ts', 'main.ts'];
/** Every shared entry of `remote-system/src` (read at lint time, so a new shared folder is covered at once). */
const SHARED_ENTRIES = fs.existsSync(REMOTE_SRC)
  ? fs
      .readdirSync(REMOTE_SRC)
      .filter((entry) => !PATTERN_IDS.includes(entry) && entry !== 'patterns.ts')
  : [];
const src = (entry) => `./remote-system/src/${entry}`;
const patternMessage =
  'A pattern imports only shared modules (src/http, src/config, src/db, src/pattern-module, src/salesforce, ' +
  'src/faults, src/traffic, ...), never another pattern or the composition root. See docs/adding-a-pattern.md.';
const importDirectionZones = [
  ...PATTERN_IDS.map((id) => ({
    target: src(id),
    from: [
      ...PATTERN_IDS.filter((other) => other !== id).map(src),
      ...COMPOSITION_ROOT.map(src),
      src('console')
    ],
    message: patternMessage
  })),
  // A pattern's tests start the whole server through test/support.ts, but never reach into another pattern.
  ...PATTERN_IDS.map((id) => ({
    target: `./remote-system/test/${id}`,
    from: PATTERN_IDS.filter((other) => other !== id).flatMap((other) => [
      src(other),
      `./remote-system/test/${other}`
    ]),
    message: 'Tests of one pattern never import another pattern (source or tests).'
  })),
  {
    target: SHARED_ENTRIES.map(src),
    from: PATTERN_IDS.map(src),
    message:
      'Shared modules never import a pattern; only the composition root src/patterns.ts mounts patterns.'
  }
];

module.exports = [
  {
    ignores: [
      'node_modules/**',
      'coverage/**',
      '.sf/**',
      '.sfdx/**',
      '.cache/**',
      'remote-system/data/**',
      'bench/tmp/**',
      'scripts/test/fixtures/**',
      '**/staticresources/**'
    ]
  },
  ...lwcConfig.configs.recommended.map((config) => ({
    ...config,
    files: ['force-app/**/lwc/**/*.js']
  })),
  ...tseslint.configs.recommended.map((config) => ({
    ...config,
    files: ['**/*.ts']
  })),
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  },
  {
    files: ['force-app/**/__tests__/**/*.ts', 'force-app/test/jest-mocks/**/*.ts'],
    ...jestPlugin.configs['flat/recommended'],
    languageOptions: { globals: { ...globals.browser, ...globals.jest } }
  },
  {
    files: ['remote-system/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { globals: { ...globals.node } }
  },
  {
    files: ['remote-system/**/*.ts'],
    plugins: { import: importPlugin },
    settings: {
      'import/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
      // never parse dependencies: the rules below are about the project's own modules, and parsing
      // node_modules for the cycle check cost four times the rest of the lint
      'import/ignore': ['node_modules']
    },
    rules: {
      'import/no-cycle': ['error', { ignoreExternal: true }],
      'import/no-restricted-paths': ['error', { basePath: __dirname, zones: importDirectionZones }]
    }
  },
  {
    files: ['*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } }
  }
];
