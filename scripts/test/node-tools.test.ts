import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkFormat, parsePrettierOutput } from '../verify/format';
import { checkLint, parseEslintJson } from '../verify/lint';
import { checkTypes, parseTscOutput } from '../verify/types';
import { TOOL_ERROR } from '../lib/findings';
import { fixture, located } from './support';

jest.setTimeout(300_000);

const defects = fixture('ts-defects');
const clean = fixture('clean');

describe('format (prettier)', () => {
  it('reports the unformatted file', async () => {
    const result = await checkFormat(defects);
    expect(located(result, defects)).toEqual(['src/unformatted.ts:0 prettier/unformatted']);
  });

  it('passes the clean project, Apex and XML included', async () => {
    const result = await checkFormat(clean);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('is a failure, not a pass, when Prettier errors without naming a file', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-format-'));
    try {
      fs.writeFileSync(
        path.join(root, '.prettierrc'),
        '{ "plugins": ["prettier-plugin-that-does-not-exist"] }'
      );
      fs.writeFileSync(path.join(root, 'a.ts'), 'export const a = 1;\n');
      const result = await checkFormat(root);
      expect(result.ok).toBe(false);
      expect(result.findings.map((f) => f.rule)).toEqual([TOOL_ERROR]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('lint (eslint)', () => {
  it('reports both unused variables at their lines', async () => {
    const result = await checkLint(defects);
    expect(located(result, defects)).toEqual([
      'src/defects.ts:2 eslint/@typescript-eslint/no-unused-vars',
      'src/defects.ts:3 eslint/@typescript-eslint/no-unused-vars'
    ]);
  });

  it('passes the clean project', async () => {
    expect((await checkLint(clean)).findings).toEqual([]);
  });

  it('refuses output that is not ESLint JSON', () => {
    expect(() => parseEslintJson('/p', 'Oops! Something went wrong')).toThrow('not JSON');
  });
});

describe('types (tsc)', () => {
  it('reports the type error at its line and column', async () => {
    const result = await checkTypes(defects);
    expect(result.findings).toEqual([
      expect.objectContaining({
        file: path.join(defects, 'src/defects.ts'),
        line: 2,
        column: 9,
        rule: 'tsc/TS2322'
      })
    ]);
  });

  it('passes the clean project', async () => {
    expect((await checkTypes(clean)).findings).toEqual([]);
  });

  it('fails when there is no tsconfig to check', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-types-'));
    try {
      const result = await checkTypes(root);
      expect(result.ok).toBe(false);
      expect(result.findings[0]!.rule).toBe(TOOL_ERROR);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('parses global errors too', () => {
    expect(parseTscOutput('/p', "error TS5083: Cannot read file '/p/tsconfig.base.json'.")).toEqual(
      [
        {
          file: '/p',
          line: 0,
          rule: 'tsc/TS5083',
          message: "Cannot read file '/p/tsconfig.base.json'."
        }
      ]
    );
  });
});

describe('prettier output parsing', () => {
  it('reads coloured output (Prettier colours it when CI is set)', () => {
    const root = fixture('ts-defects');
    const coloured = '\u001b[33mwarn\u001b[39m';
    expect(
      parsePrettierOutput(
        root,
        `[${coloured}] src/unformatted.ts\n[${coloured}] Code style issues found`
      )
    ).toEqual([
      expect.objectContaining({
        file: path.join(root, 'src/unformatted.ts'),
        rule: 'prettier/unformatted'
      })
    ]);
  });
});
