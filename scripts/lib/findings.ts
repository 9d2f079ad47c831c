/**
 * Shared shapes of the offline verification gate: every check returns a {@link CheckResult} made of
 * {@link Finding}s, so the runner, the CLIs and the gate's own tests treat all tools alike.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { preferShortRunJvm } from './exec';

/** One problem a check found, located as precisely as the underlying tool allows. */
export interface Finding {
  /** Absolute path of the offending file (or of the project root when the tool gave no file). */
  file: string;
  /** 1-based line; 0 when the tool gave no line. */
  line: number;
  /** 1-based column, when known. */
  column?: number;
  /** `<tool>/<rule>`, e.g. `pmd/ApexCRUDViolation`, `tsc/TS2322`, `gate/tool-error`. */
  rule: string;
  message: string;
}

/** Jest-style test counts for checks that run tests. */
export interface TestCounts {
  passed: number;
  failed: number;
}

export interface CheckResult {
  name: string;
  /** False when there is any finding, or when the tool could not be run to completion. */
  ok: boolean;
  findings: Finding[];
  durationMs: number;
  /** Test counts (only the jest check fills this). */
  tests?: TestCounts;
  /** Informational lines, e.g. how many files were checked or what a filter excused. */
  notes: string[];
}

/** A check: takes a project root, never throws for problems in the project, returns findings. */
export type Check = (root: string) => Promise<CheckResult>;

/** Rule id used when a tool itself failed (missing, crashed, printed something we cannot read). */
export const TOOL_ERROR = 'gate/tool-error';

export function toolError(root: string, tool: string, message: string): Finding {
  return { file: root, line: 0, rule: TOOL_ERROR, message: `${tool}: ${message}` };
}

/** Wraps a check body: times it, turns an unexpected exception into a tool-error finding. */
export async function timed(
  name: string,
  root: string,
  body: (notes: string[]) => Promise<{ findings: Finding[]; tests?: TestCounts }>
): Promise<CheckResult> {
  const start = Date.now();
  const notes: string[] = [];
  let findings: Finding[];
  let tests: TestCounts | undefined;
  try {
    const out = await body(notes);
    findings = out.findings;
    tests = out.tests;
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    findings = [toolError(root, name, `check crashed: ${message}`)];
  }
  findings.sort(compareFindings);
  const failedTests = tests?.failed ?? 0;
  return {
    name,
    ok: findings.length === 0 && failedTests === 0,
    findings,
    durationMs: Date.now() - start,
    ...(tests ? { tests } : {}),
    notes
  };
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    a.file.localeCompare(b.file) ||
    a.line - b.line ||
    (a.column ?? 0) - (b.column ?? 0) ||
    a.rule.localeCompare(b.rule)
  );
}

/** `path/to/file:line:col rule message`, the path relative to the project root. */
export function formatFinding(finding: Finding, root: string): string {
  const rel = path.relative(root, finding.file) || '.';
  const where = `${rel}:${finding.line}${finding.column !== undefined ? `:${finding.column}` : ''}`;
  return `${where} ${finding.rule} ${finding.message.replace(/\s*\n\s*/g, ' ⏎ ')}`;
}

/**
 * Runs a check as a command-line program: prints findings as `file:line:col rule message`, exits 1 when
 * the check failed. `--root <dir>` points it at another project; `--json <file>` also writes the result
 * (the runner in index.ts uses that).
 */
export function runCli(check: Check, argv: string[] = process.argv.slice(2)): void {
  const rootArg = argValue(argv, '--root');
  const jsonOut = argValue(argv, '--json');
  const root = path.resolve(rootArg ?? process.cwd());
  preferShortRunJvm();
  check(root)
    .then((result) => {
      for (const finding of result.findings) console.log(formatFinding(finding, root));
      for (const note of result.notes) console.error(`note: ${note}`);
      const tests = result.tests
        ? `, tests ${result.tests.passed} passed ${result.tests.failed} failed`
        : '';
      console.error(
        `${result.name}: ${result.ok ? 'PASS' : 'FAIL'} (${result.findings.length} finding(s)${tests}, ${result.durationMs} ms)`
      );
      if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(result));
      process.exitCode = result.ok ? 0 : 1;
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 2;
    });
}

function argValue(argv: string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  return index >= 0 ? argv[index + 1] : undefined;
}
