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

/** Writes `file` (replacing any base version), lints it with the project's config; returns `rule:line` per message. */
function lint(file: string, text: string): string[] {
  write(file, text);
  const run = spawnSync(
    process.execPath,
    [ESLINT_BIN, '--no-config-lookup', '--config', 'eslint.config.js', '--format', 'json', file],
    { cwd: tree, encoding: 'utf8' }
  );
  if (run.status !== 0 && run.status !== 1) {
    throw new Error(`eslint exited with ${run.status}: ${run.stderr}`);
  }
  const [result] = JSON.parse(run.stdout) as { messages: { ruleId: string; line: number }[] }[];
  return (result?.messages ?? []).map((message) => `${message.ruleId}:${message.line}`);
}

describe('import direction (ESLint)', () => {
  it('rejects a pattern importing another pattern', () => {
    expect(
      lint(
        'remote-system/src/request-reply/uses-other-pattern.ts',
        "import { SHIPMENTS } from '../data-virtualization/entity';\nexport const s = SHIPMENTS;\n"
      )
    ).toContain('import/no-restricted-paths:1');
  });

  it('rejects a pattern importing the composition root', () => {
    expect(
      lint(
        'remote-system/src/data-virtualization/uses-server.ts',
        "import { buildServer } from '../server';\nexport const b = buildServer;\n"
      )
    ).toContain('import/no-restricted-paths:1');
  });

  it('rejects a shared module importing a pattern', () => {
    expect(
      lint(
        'remote-system/src/http/uses-pattern.ts',
        "import { PATTERN } from '../request-reply';\nexport const n = PATTERN;\n"
      )
    ).toContain('import/no-restricted-paths:1');
  });

  it("rejects one pattern's tests importing another pattern", () => {
    expect(
      lint(
        'remote-system/test/request-reply/uses-other.test.ts',
        "import { SHIPMENTS } from '../../src/data-virtualization/entity';\nexport const s = SHIPMENTS;\n"
      )
    ).toContain('import/no-restricted-paths:1');
  });

  it('rejects an import cycle', () => {
    // server.ts imports http/errors.ts; errors.ts importing a module that imports the server closes a cycle.
    write(
      'remote-system/src/http/uses-server.ts',
      "import { buildServer } from '../server';\nexport const b = buildServer;\n"
    );
    try {
      expect(
        lint(
          'remote-system/src/http/errors.ts',
          "import { b } from './uses-server';\nexport const CODE = 1;\nexport const again = b;\n"
        )
      ).toContain('import/no-cycle:1');
    } finally {
      write(
        'remote-system/src/http/errors.ts',
        BASE_FILES['remote-system/src/http/errors.ts'] as string
      );
      fs.rmSync(path.join(tree, 'remote-system/src/http/uses-server.ts'));
    }
  });

  it('accepts the composition root mounting patterns, and a pattern using shared modules', () => {
    expect(
      lint('remote-system/src/patterns.ts', BASE_FILES['remote-system/src/patterns.ts'] as string)
    ).toEqual([]);
    expect(
      lint(
        'remote-system/src/request-reply/index.ts',
        BASE_FILES['remote-system/src/request-reply/index.ts'] as string
      )
    ).toEqual([]);
  });
});
