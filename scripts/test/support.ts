/** Helpers of the gate's own tests: fixture paths and finding matchers. */
import * as path from 'node:path';
import type { CheckResult, Finding } from '../lib/findings';

export const FIXTURES = path.join(__dirname, 'fixtures');

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

/** Findings as `relative/path:line rule` strings, easy to compare in assertions. */
export function located(result: CheckResult, root: string): string[] {
  return result.findings.map((f: Finding) => `${path.relative(root, f.file)}:${f.line} ${f.rule}`);
}

/** The findings of a result on one file (path relative to the root). */
export function findingsIn(result: CheckResult, root: string, relativeFile: string): Finding[] {
  return result.findings.filter((f) => path.relative(root, f.file) === relativeFile);
}

export const CLASSES = 'force-app/main/default/classes';
