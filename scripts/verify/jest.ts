/**
 * jest: runs Jest (both projects of `jest.config.js`: LWC component tests and Node tests) with
 * `--json --outputFile`, counts passed and failed tests, and reports every failed test and every suite that
 * could not run at the test's file:line.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess, stripAnsi, tail } from '../lib/exec';
import {
  runCli,
  timed,
  toolError,
  type CheckResult,
  type Finding,
  type TestCounts
} from '../lib/findings';
import { nodeBin } from '../lib/project';

interface JestAssertion {
  status: string;
  fullName: string;
  failureMessages: string[];
  location?: { line: number; column: number } | null;
}
interface JestSuite {
  name: string;
  status: string;
  message: string;
  assertionResults: JestAssertion[];
}
export interface JestReport {
  numPassedTests: number;
  numFailedTests: number;
  numTotalTests: number;
  numRuntimeErrorTestSuites: number;
  testResults: JestSuite[];
}

function firstMeaningfulLine(text: string): string {
  // strip ANSI colours, keep the first non-empty line of the failure
  const plain = stripAnsi(text);
  return (plain.split('\n').find((l) => l.trim() !== '') ?? plain).trim();
}

export function jestFindings(report: JestReport): { findings: Finding[]; tests: TestCounts } {
  const findings: Finding[] = [];
  for (const suite of report.testResults) {
    for (const test of suite.assertionResults) {
      if (test.status !== 'failed') continue;
      findings.push({
        file: suite.name,
        line: test.location?.line ?? 0,
        ...(test.location ? { column: test.location.column } : {}),
        rule: 'jest/failed',
        message: `${test.fullName}: ${firstMeaningfulLine(test.failureMessages.join('\n'))}`
      });
    }
    if (suite.status === 'failed' && suite.assertionResults.every((t) => t.status !== 'failed')) {
      findings.push({
        file: suite.name,
        line: 0,
        rule: 'jest/suite-error',
        message: `test suite failed to run: ${firstMeaningfulLine(suite.message)}`
      });
    }
  }
  return {
    findings,
    tests: {
      passed: report.numPassedTests,
      failed: report.numFailedTests + report.numRuntimeErrorTestSuites
    }
  };
}

export interface JestOptions {
  /** Worker processes; default 2 (the machines have 2 cores). */
  maxWorkers?: number;
  timeoutMs?: number;
}

export function checkJest(root: string, options: JestOptions = {}): Promise<CheckResult> {
  return timed('jest', root, async (notes) => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-jest-'));
    const outputFile = path.join(outDir, 'report.json');
    try {
      const { command, args } = nodeBin('jest', 'bin/jest.js');
      const config = path.join(root, 'jest.config.js');
      const result = await runProcess(
        command,
        [
          ...args,
          ...(fs.existsSync(config) ? ['--config', config] : []),
          '--ci',
          '--json',
          '--outputFile',
          outputFile,
          '--testLocationInResults',
          `--maxWorkers=${options.maxWorkers ?? Number(process.env.GATE_JEST_WORKERS ?? 2)}`
        ],
        {
          cwd: root,
          timeoutMs: options.timeoutMs ?? 420_000,
          env: { ...process.env, CI: 'true', FORCE_COLOR: '0' }
        }
      );
      if (result.error) return { findings: [toolError(root, 'jest', result.error)] };
      let report: JestReport;
      try {
        report = JSON.parse(fs.readFileSync(outputFile, 'utf8')) as JestReport;
      } catch {
        return {
          findings: [
            toolError(
              root,
              'jest',
              `no readable JSON report (exit ${result.code ?? result.signal}): ${tail(result.stderr || result.stdout)}`
            )
          ]
        };
      }
      const { findings, tests } = jestFindings(report);
      if (result.code !== 0 && findings.length === 0) {
        findings.push(
          toolError(
            root,
            'jest',
            `exited with ${result.code ?? result.signal}: ${tail(result.stderr)}`
          )
        );
      }
      if (report.numTotalTests === 0) notes.push('no tests found');
      notes.push(`${report.testResults.length} test file(s), ${report.numTotalTests} test(s)`);
      return { findings, tests };
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
}

if (require.main === module) runCli((root) => checkJest(root));
