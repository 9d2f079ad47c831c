import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkApexSyntax } from '../verify/apex-syntax';
import { CHECKS, runGate, summaryTable, totalsLine, type GateCheck } from '../verify/index';
import { formatFinding, TOOL_ERROR } from '../lib/findings';
import { FIXTURES, fixture, located } from './support';

jest.setTimeout(300_000);

const fake = (name: string): GateCheck => ({
  name,
  script: path.join(FIXTURES, 'fake-checks', `${name}.ts`)
});

describe('npm test runner', () => {
  it('runs every check of the gate', () => {
    // other checks may be added beside these (one line each in CHECKS); these must always run
    expect(CHECKS.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'apex-semantics',
        'apex-syntax',
        'apex-types',
        'code-analyzer',
        'format',
        'isolation',
        'jest',
        'lint',
        'lwc',
        'lwc-refs',
        'metadata',
        'types'
      ])
    );
    expect(new Set(CHECKS.map((c) => c.name)).size).toBe(CHECKS.length);
    for (const check of CHECKS) expect(fs.existsSync(check.script)).toBe(true);
  });

  it('counts each check as one plus every test, and fails checks that print garbage, crash or lie', async () => {
    const gate = await runGate(fixture('clean'), {
      checks: ['pass', 'fail', 'garbage', 'crash', 'lies'].map(fake),
      concurrency: 2
    });
    const byName = Object.fromEntries(gate.results.map((r) => [r.name, r]));
    expect(byName.pass!.ok).toBe(true);
    for (const name of ['fail', 'garbage', 'crash', 'lies']) expect(byName[name]!.ok).toBe(false);
    expect(byName.garbage!.findings[0]!.rule).toBe(TOOL_ERROR);
    expect(byName.crash!.findings[0]!.message).toContain('the tool fell over');
    expect(byName.lies!.findings.map((f) => f.rule)).toContain(TOOL_ERROR);
    // pass: 1 check + 5 tests; fail: 1 failed check + 2 passed / 1 failed test; 3 more failed checks
    expect([gate.passed, gate.failed]).toEqual([1 + 5 + 2, 1 + 1 + 3]);
    expect(totalsLine(gate)).toBe('8 passed, 5 failed');
    expect(summaryTable(gate).split('\n')[0]).toMatch(/^check\s+status\s+findings\s+tests\s+time$/);
  });

  it('runs a check that uses every core alone, before the others share the cores', async () => {
    // each its own name, all the same fake check
    const window = (name: string, usesEveryCore?: boolean): GateCheck => ({
      ...fake('window'),
      name,
      ...(usesEveryCore ? { usesEveryCore } : {})
    });
    const gate = await runGate(fixture('clean'), {
      checks: [window('first'), window('every-core', true), window('second')],
      concurrency: 2
    });
    const [first, everyCore, second] = gate.results.map(
      (r) => r.notes.map(Number) as [number, number]
    );
    expect(gate.results.map((r) => r.name)).toEqual(['first', 'every-core', 'second']);
    // the one that uses every core ran first, and ended before either of the others started
    expect(everyCore![1]).toBeLessThanOrEqual(Math.min(first![0], second![0]));
    expect(CHECKS.filter((c) => c.usesEveryCore).map((c) => c.name)).toEqual(['jest']);
  });

  it('prints findings as path:line:col rule message', () => {
    expect(
      formatFinding(
        { file: '/p/force-app/A.cls', line: 3, column: 7, rule: 'x/y', message: 'bad\n  thing' },
        '/p'
      )
    ).toBe('force-app/A.cls:3:7 x/y bad ⏎ thing');
  });

  it('treats an unreadable Apex file as a failure', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-runner-'));
    try {
      fs.writeFileSync(
        path.join(root, 'sfdx-project.json'),
        '{"packageDirectories":[{"path":"force-app"}]}'
      );
      fs.mkdirSync(path.join(root, 'force-app'));
      fs.symlinkSync(path.join(root, 'gone.cls'), path.join(root, 'force-app', 'Gone.cls'));
      const result = await checkApexSyntax(root);
      expect(result.ok).toBe(false);
      expect(located(result, root)).toEqual(['force-app/Gone.cls:0 apex-parser/unreadable']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
