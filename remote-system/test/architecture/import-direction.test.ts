import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The import direction of the remote system is enforced by ESLint (`eslint.config.js`: `import/no-restricted-paths`
 * and `import/no-cycle`). These tests copy the project's own `eslint.config.js` into a temporary tree (with a link to
 * the installed `node_modules`), write small files there that break each rule, lint them, and expect the rule to
 * fire — so a config edit that silently disables a check fails here. Nothing is written into the working tree.
 * ESLint runs in a child process because it loads its flat config with a dynamic `import()`, which Jest's module
 * sandbox refuses.
 */
const ROOT = path.resolve(__dirname, '../../..');
const ESLINT_BIN = path.join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js');

jest.setTimeout(60_000);

/** A minimal remote system: two patterns, a shared module, the composition root. */
const BASE_FILES: Record<string, string> = {
  'remote-system/src/http/errors.ts': 'export const CODE = 1;\n',
  'remote-system/src/request-reply/index.ts':
    "import { CODE } from '../http/errors';\nexport const PATTERN = CODE;\n",
  'remote-system/src/data-virtualization/entity.ts': 'export const SHIPMENTS = 2;\n',
  'remote-system/src/patterns.ts':
    "import { PATTERN } from './request-reply';\nimport { SHIPMENTS } from './data-virtualization/entity';\nexport const all = [PATTERN, SHIPMENTS];\n",
  'remote-system/src/server.ts':
    "import { all } from './patterns';\nimport { CODE } from './http/errors';\nexport const buildServer = () => [all, CODE];\n"
};

let tree: string;

beforeAll(() => {
  tree = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-lint-'));
  fs.copyFileSync(path.join(ROOT, 'eslint.config.js'), path.join(tree, 'eslint.config.js'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules'), 'dir');
  for (const [file, text] of Object.entries(BASE_FILES)) write(file, text);
});

afterAll(() => {
  fs.rmSync(tree, { recursive: true, force: true });
});

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
  fs.writeFileSync(path.join(tree, file), text);
}

/**
 * Writes `files` (replacing any base version) and lints them with the project's config in one ESLint run (each run
 * costs seconds of start-up); returns `rule:line` per message, by file.
 */
function lint(files: Record<string, string>): Record<string, string[]> {
  for (const [file, text] of Object.entries(files)) write(file, text);
  const run = spawnSync(
    process.execPath,
    [
      ESLINT_BIN,
      '--no-config-lookup',
      '--config',
      'eslint.config.js',
      '--format',
      'json',
      ...Object.keys(files)
    ],
    { cwd: tree, encoding: 'utf8' }
  );
  if (run.status !== 0 && run.status !== 1) {
    throw new Error(`eslint exited with ${run.status}: ${run.stderr}`);
  }
  const results = JSON.parse(run.stdout) as {
    filePath: string;
    messages: { ruleId: string; line: number }[];
  }[];
  const byFile: Record<string, string[]> = {};
  for (const result of results) {
    byFile[path.relative(tree, result.filePath)] = result.messages.map(
      (message) => `${message.ruleId}:${message.line}`
    );
  }
  return byFile;
}

/** Files that break a rule (each checked by its own test below), and files that break none. */
const CASES = {
  patternImportsPattern: [
    'remote-system/src/request-reply/uses-other-pattern.ts',
    "import { SHIPMENTS } from '../data-virtualization/entity';\nexport const s = SHIPMENTS;\n"
  ],
  patternImportsRoot: [
    'remote-system/src/data-virtualization/uses-server.ts',
    "import { buildServer } from '../server';\nexport const b = buildServer;\n"
  ],
  sharedImportsPattern: [
    'remote-system/src/http/uses-pattern.ts',
    "import { PATTERN } from '../request-reply';\nexport const n = PATTERN;\n"
  ],
  testImportsOtherPattern: [
    'remote-system/test/request-reply/uses-other.test.ts',
    "import { SHIPMENTS } from '../../src/data-virtualization/entity';\nexport const s = SHIPMENTS;\n"
  ],
  rootMountsPatterns: [
    'remote-system/src/patterns.ts',
    BASE_FILES['remote-system/src/patterns.ts'] as string
  ],
  patternUsesShared: [
    'remote-system/src/request-reply/index.ts',
    BASE_FILES['remote-system/src/request-reply/index.ts'] as string
  ]
} as const;

/** What ESLint said of each case's file, from one run over them all. */
let messages: Record<string, string[]>;

beforeAll(() => {
  messages = lint(Object.fromEntries(Object.values(CASES)));
});

/** The messages for one case's file. */
const of = (name: keyof typeof CASES): string[] | undefined => messages[CASES[name][0]];

describe('import direction (ESLint)', () => {
  it('rejects a pattern importing another pattern', () => {
    expect(of('patternImportsPattern')).toContain('import/no-restricted-paths:1');
  });

  it('rejects a pattern importing the composition root', () => {
    expect(of('patternImportsRoot')).toContain('import/no-restricted-paths:1');
  });

  it('rejects a shared module importing a pattern', () => {
    expect(of('sharedImportsPattern')).toContain('import/no-restricted-paths:1');
  });

  it("rejects one pattern's tests importing another pattern", () => {
    expect(of('testImportsOtherPattern')).toContain('import/no-restricted-paths:1');
  });

  it('rejects an import cycle', () => {
    // server.ts imports http/errors.ts; errors.ts importing a module that imports the server closes a cycle. Its own
    // ESLint run, after the others: the cycle would pass through the files the other cases expect clean.
    const errors = 'remote-system/src/http/errors.ts';
    write(
      'remote-system/src/http/uses-server.ts',
      "import { buildServer } from '../server';\nexport const b = buildServer;\n"
    );
    try {
      expect(
        lint({
          [errors]:
            "import { b } from './uses-server';\nexport const CODE = 1;\nexport const again = b;\n"
        })[errors]
      ).toContain('import/no-cycle:1');
    } finally {
      write(errors, BASE_FILES[errors] as string);
      fs.rmSync(path.join(tree, 'remote-system/src/http/uses-server.ts'));
    }
  });

  it('accepts the composition root mounting patterns, and a pattern using shared modules', () => {
    expect(of('rootMountsPatterns')).toEqual([]);
    expect(of('patternUsesShared')).toEqual([]);
  });
});
