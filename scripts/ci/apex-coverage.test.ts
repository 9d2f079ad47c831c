import { judgeApexTestRun } from './apex-coverage';

const run = (
  failing: number,
  classes: { name: string; totalLines: number; totalCovered: number }[]
) => ({
  status: failing ? 100 : 0,
  result: {
    summary: { outcome: failing ? 'Failed' : 'Passed', passing: 10, failing },
    coverage: { coverage: classes }
  }
});

describe('judgeApexTestRun', () => {
  it('passes at or above the threshold, weighting classes by their lines', () => {
    const verdict = judgeApexTestRun(
      run(0, [
        { name: 'Big', totalLines: 90, totalCovered: 85 },
        { name: 'Small', totalLines: 10, totalCovered: 5 }
      ]),
      90
    );
    expect(verdict.percent).toBe(90);
    expect(verdict.ok).toBe(true);
    expect(verdict.lines).toContain('Coverage: 90% of 100 lines (threshold 90%)');
  });

  it('fails under the threshold', () => {
    const verdict = judgeApexTestRun(
      run(0, [{ name: 'A', totalLines: 100, totalCovered: 89 }]),
      90
    );
    expect(verdict).toMatchObject({ ok: false, percent: 89 });
  });

  it('fails when a test failed, whatever the coverage', () => {
    expect(judgeApexTestRun(run(1, [{ name: 'A', totalLines: 10, totalCovered: 10 }]), 90).ok).toBe(
      false
    );
  });

  it('fails without coverage data or without a summary', () => {
    expect(judgeApexTestRun(run(0, []), 90).ok).toBe(false);
    expect(judgeApexTestRun({ status: 1 }, 90)).toMatchObject({ ok: false, percent: 0 });
  });
});
