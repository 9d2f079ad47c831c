import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkJest, jestFindings, type JestReport } from '../verify/jest';
import { checkLwc, compileLwcFile } from '../verify/lwc-compile';
import { TOOL_ERROR } from '../lib/findings';
import { fixture, located } from './support';

jest.setTimeout(300_000);

const defects = fixture('lwc-defects');
const LWC = 'force-app/main/default/lwc';

describe('lwc compile', () => {
  it('reports a template error and a decorator misuse at their lines', async () => {
    const result = await checkLwc(defects);
    expect(located(result, defects)).toEqual([
      `${LWC}/badDecorator/badDecorator.js:4 lwc/1093`,
      `${LWC}/badTemplate/badTemplate.html:3 lwc/1071`
    ]);
    expect(result.findings[1]!.message).toContain('Missing key for element <p> inside of iterator');
    expect(result.ok).toBe(false);
  });

  it('reports unclosed tags and bad template expressions', () => {
    const unclosed = compileLwcFile('/p/x.html', '<template>\n  <div>\n</template>\n', 'x');
    expect(unclosed).toHaveLength(1);
    expect(unclosed[0]!.line).toBeGreaterThan(0);
    const expression = compileLwcFile(
      '/p/y.html',
      '<template>\n  <p>{a + b}</p>\n</template>\n',
      'y'
    );
    expect(expression.map((f) => f.line)).toEqual([2]);
  });

  it('passes the clean project', async () => {
    const result = await checkLwc(fixture('clean'));
    expect(result.findings).toEqual([]);
    expect(result.notes).toEqual(['2 file(s) in 1 LWC bundle(s) compiled']);
  });
});

describe('jest', () => {
  it('counts the tests and reports the failing one at its file and line', async () => {
    const result = await checkJest(defects, { maxWorkers: 1 });
    expect(result.tests).toEqual({ passed: 1, failed: 1 });
    expect(located(result, defects)).toEqual([
      `${LWC}/counter/__tests__/counter.test.js:17 jest/failed`
    ]);
    expect(result.findings[0]!.message).toContain('fails on purpose');
    expect(result.ok).toBe(false);
  });

  it('passes the clean project', async () => {
    const result = await checkJest(fixture('clean'), { maxWorkers: 1 });
    expect(result.tests).toEqual({ passed: 2, failed: 0 });
    expect(result.ok).toBe(true);
  });

  it('fails with a clear message when Jest itself cannot run', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-jest-test-'));
    try {
      fs.writeFileSync(path.join(root, 'jest.config.js'), "throw new Error('broken config');\n");
      const result = await checkJest(root, { maxWorkers: 1 });
      expect(result.ok).toBe(false);
      expect(result.findings).toEqual([
        expect.objectContaining({
          rule: TOOL_ERROR,
          message: expect.stringContaining('no readable JSON report')
        })
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('reports a suite that could not run even though no single test failed', () => {
    const report: JestReport = {
      numPassedTests: 0,
      numFailedTests: 0,
      numTotalTests: 0,
      numRuntimeErrorTestSuites: 1,
      testResults: [
        {
          name: '/p/a.test.ts',
          status: 'failed',
          message: '\n  Cannot find module x',
          assertionResults: []
        }
      ]
    };
    const { findings, tests } = jestFindings(report);
    expect(tests).toEqual({ passed: 0, failed: 1 });
    expect(findings).toEqual([
      {
        file: '/p/a.test.ts',
        line: 0,
        rule: 'jest/suite-error',
        message: 'test suite failed to run: Cannot find module x'
      }
    ]);
  });
});
