// Two Jest projects: LWC component tests (jsdom, the sfdx-lwc-jest preset, which strips TypeScript types) and
// Node-side tests for the remote system and the scripts (swc strips types; `tsc --noEmit` checks them).
const { jestConfig } = require('@salesforce/sfdx-lwc-jest/config');

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...jestConfig,
      displayName: 'lwc',
      roots: ['<rootDir>/force-app'],
      testMatch: ['**/lwc/**/__tests__/**/*.test.ts'],
      moduleNameMapper: {
        '^lightning/empApi$': '<rootDir>/force-app/test/jest-mocks/lightning/empApi',
        '^lightning/platformShowToastEvent$':
          '<rootDir>/force-app/test/jest-mocks/lightning/platformShowToastEvent'
      },
      modulePathIgnorePatterns: ['<rootDir>/.localdevserver']
    },
    {
      displayName: 'node',
      testEnvironment: 'node',
      roots: ['<rootDir>/remote-system', '<rootDir>/scripts'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/fixtures/'],
      transform: {
        '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
        // jose 6 ships ES modules only; Node 20.19+ loads them with require(), Jest's module system does not.
        '/node_modules/jose/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' } }]
      },
      transformIgnorePatterns: ['/node_modules/(?!jose/)']
    }
  ]
};
