/**
 * Reads the JSON that `sf apex run test --code-coverage --json` prints and fails when the Apex tests failed or when
 * the project's line coverage is under the threshold. Used by the scratch-org job of `.github/workflows/ci.yml`:
 *   npx tsx scripts/ci/apex-coverage.ts apex-test-result.json 90
 */
import { readFileSync } from 'node:fs';

export interface ClassCoverage {
  readonly name: string;
  readonly totalLines: number;
  readonly totalCovered: number;
}

export interface CoverageVerdict {
  readonly ok: boolean;
  readonly percent: number;
  readonly lines: string[];
}

interface ApexTestJson {
  readonly status?: number;
  readonly result?: {
    readonly summary?: { outcome?: string; failing?: number; passing?: number };
    readonly coverage?: { coverage?: readonly ClassCoverage[] };
  };
}

/** Judges one test run: every test passed and covered lines / coverable lines ≥ threshold. */
export function judgeApexTestRun(json: ApexTestJson, thresholdPercent: number): CoverageVerdict {
  const summary = json.result?.summary;
  const classes = json.result?.coverage?.coverage ?? [];
  const lines: string[] = [];
  if (!summary)
    return { ok: false, percent: 0, lines: ['No test summary in the result: did the run finish?'] };
  const totalLines = classes.reduce((sum, item) => sum + item.totalLines, 0);
  const covered = classes.reduce((sum, item) => sum + item.totalCovered, 0);
  const percent = totalLines === 0 ? 0 : Math.floor((covered / totalLines) * 1000) / 10;
  for (const item of [...classes].sort((a, b) => a.name.localeCompare(b.name))) {
    const classPercent =
      item.totalLines === 0 ? 100 : Math.round((item.totalCovered / item.totalLines) * 100);
    lines.push(
      `${item.name.padEnd(48)} ${String(classPercent).padStart(3)}% (${item.totalCovered}/${item.totalLines})`
    );
  }
  lines.push(
    `Tests: ${summary.passing ?? 0} passed, ${summary.failing ?? 0} failed; outcome ${summary.outcome}`
  );
  lines.push(`Coverage: ${percent}% of ${totalLines} lines (threshold ${thresholdPercent}%)`);
  const testsPassed = (summary.failing ?? 0) === 0 && summary.outcome === 'Passed';
  if (totalLines === 0) lines.push('No coverage data: run the tests with --code-coverage.');
  return { ok: testsPassed && totalLines > 0 && percent >= thresholdPercent, percent, lines };
}

if (require.main === module) {
  const [file, threshold = '90'] = process.argv.slice(2);
  if (!file) {
    console.error(
      'usage: tsx scripts/ci/apex-coverage.ts <sf apex run test --json output> [threshold]'
    );
    process.exit(2);
  }
  const verdict = judgeApexTestRun(
    JSON.parse(readFileSync(file, 'utf8')) as ApexTestJson,
    Number(threshold)
  );
  console.log(verdict.lines.join('\n'));
  process.exitCode = verdict.ok ? 0 : 1;
}
