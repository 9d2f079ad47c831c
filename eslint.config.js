// Flat ESLint config: Salesforce's LWC rules for component JavaScript, typescript-eslint for every TypeScript file
// (scripts, remote system, LWC Jest tests and mocks).
const lwcConfig = require('@salesforce/eslint-config-lwc');
const tseslint = require('typescript-eslint');
const jestPlugin = require('eslint-plugin-jest');
const globals = require('globals');

module.exports = [
  {
    ignores: [
      'node_modules/**',
      'coverage/**',
      '.sf/**',
      '.sfdx/**',
      '.cache/**',
      'remote-system/data/**',
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
    files: ['*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } }
  }
];
