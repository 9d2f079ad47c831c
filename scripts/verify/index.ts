/**
 * `npm test`: the whole offline gate. Runs every check as its own process (a crash in one cannot take the
 * others down, and both cores are used): Jest first and alone, since its two workers keep both cores busy,
 * then the others two at a time. Prints each check's findings as it finishes, a summary table with timings,
 * and as the very last line `N passed, N failed`: every check counts as one, plus every Jest test.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess, tail } from '../lib/exec';
import { formatFinding, toolError, type CheckResult } from '../lib/findings';
import { packageDir } from '../lib/project';

export interface GateCheck {
  name: string;
  /** TypeScript module with a CLI accepting `--root <dir> --json <file>`. */
  script: string;
  /**
   * Keeps every core busy on its own (Jest's workers), so it runs alone, before the other checks share the cores.
   * Beside another check it cost a fifth more CPU in all: `npm test` took 188–197 s and 5.9–6.3 min of CPU with
   * Jest beside the others, 171 s and 4.8 min with every check alone, on 2 cores.
   */
  usesEveryCore?: boolean;
}

/** Longest first, so the two slots finish together (those that use every core run before the rest). */
export const CHECKS: GateCheck[] = [
  { name: 'jest', script: 'jest.ts', usesEveryCore: true },
  { name: 'apex-semantics', script: 'apex-semantics.ts' },
  { name: 'apex-types', script: 'apex-types.ts' },
  { name: 'types', script: 'types.ts' },
  { name: 'code-analyzer', script: 'code-analyzer.ts' },
  { name: 'lint', script: 'lint.ts' },
  { name: 'format', script: 'format.ts' },
  { name: 'docs', script: 'docs.ts' },
  { name: 'metadata', script: 'metadata.ts' },
  { name: 'lwc', script: 'lwc-compile.ts' },
  { name: 'lwc-refs', script: 'lwc-refs.ts' },
  { name: 'isolation', script: 'isolation.ts' },
  { name: 'org-proof', script: 'org-proof.ts' },
  { name: 'apex-syntax', script: 'apex-syntax.ts' }
].map((c): GateCheck => ({ ...c, script: path.join(__dirname, c.script) }));

export interface GateOptions {
  checks?: GateCheck[];
  concurrency?: number;
  timeoutMs?: number;
  /** Called as each check finishes (the CLI prints there). */
  onResult?: (result: CheckResult) => void;
}

export interface GateResult {
  results: CheckResult[];
  passed: number;
  failed: number;
  durationMs: number;
}

/** Runs one check's CLI in a child process and reads its JSON result; any other outcome is a failure. */
export async function runCheckProcess(
  root: string,
  check: GateCheck,
  timeoutMs: number
): Promise<CheckResult> {
  const start = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gate-${check.name}-`));
  const jsonFile = path.join(dir, 'result.json');
  try {
    const tsx = path.join(packageDir('tsx'), 'dist', 'cli.mjs');
    const run = await runProcess(
      process.execPath,
      [tsx, check.script, '--root', root, '--json', jsonFile],
      {
        cwd: root,
        timeoutMs
      }
    );
    let parsed: CheckResult | undefined;
    try {
      parsed = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as CheckResult;
    } catch {
      parsed = undefined;
    }
    const valid =
      parsed &&
      typeof parsed.ok === 'boolean' &&
      Array.isArray(parsed.findings) &&
      Array.isArray(parsed.notes);
    if (!valid || run.error) {
      const why = run.error ?? `exited with ${run.code ?? run.signal} without a readable result`;
      return {
        name: check.name,
        ok: false,
        findings: [toolError(root, check.name, `${why}: ${tail(run.stderr || run.stdout)}`)],
        durationMs: Date.now() - start,
        notes: []
      };
    }
    const result = parsed!;
    // a check that reports success must also exit 0, and the other way round
    if (result.ok !== (run.code === 0)) {
      result.ok = false;
      result.findings.push(
        toolError(
          root,
          check.name,
          `result says ok=${result.ok} but the process exited ${run.code}`
        )
      );
    }
    return { ...result, name: check.name, durationMs: Date.now() - start };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function runGate(root: string, options: GateOptions = {}): Promise<GateResult> {
  const start = Date.now();
  const checks = options.checks ?? CHECKS;
  const concurrency = options.concurrency ?? Number(process.env.GATE_CONCURRENCY ?? 2);
  const results: CheckResult[] = new Array<CheckResult>(checks.length);
  /** Runs the checks at `indexes`, `slots` at a time, each result in its check's place. */
  const runAll = async (indexes: number[], slots: number): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < indexes.length) {
        const index = indexes[next++]!;
        const result = await runCheckProcess(root, checks[index]!, options.timeoutMs ?? 450_000);
        results[index] = result;
        options.onResult?.(result);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, slots) }, worker));
  };
  const indexes = checks.map((_, index) => index);
  await runAll(
    indexes.filter((index) => checks[index]!.usesEveryCore),
    1
  );
  await runAll(
    indexes.filter((index) => !checks[index]!.usesEveryCore),
    concurrency
  );
  let passed = 0;
  let failed = 0;
  for (const result of results) {
    if (result.ok) passed++;
    else failed++;
    passed += result.tests?.passed ?? 0;
    failed += result.tests?.failed ?? 0;
  }
  return { results, passed, failed, durationMs: Date.now() - start };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function summaryTable(gate: GateResult): string {
  const rows = gate.results.map((r) => [
    r.name,
    r.ok ? 'PASS' : 'FAIL',
    String(r.findings.length),
    r.tests ? `${r.tests.passed}/${r.tests.passed + r.tests.failed}` : '',
    seconds(r.durationMs)
  ]);
  const header = ['check', 'status', 'findings', 'tests', 'time'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The plain last line CI reads: `N passed, N failed`. */
export function totalsLine(gate: Pick<GateResult, 'passed' | 'failed'>): string {
  return `${gate.passed} passed, ${gate.failed} failed`;
}

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? process.cwd());
  console.log(`Offline gate on ${root} (${CHECKS.length} checks: Jest alone, then 2 at a time)\n`);
  const gate = await runGate(root, {
    onResult: (result) => {
      const tests = result.tests
        ? `, ${result.tests.passed} tests passed, ${result.tests.failed} failed`
        : '';
      console.log(
        `${result.ok ? 'PASS' : 'FAIL'} ${result.name} (${seconds(result.durationMs)}${tests})`
      );
      for (const finding of result.findings) console.log(`  ${formatFinding(finding, root)}`);
      for (const note of result.notes) console.log(`  note: ${note}`);
    }
  });
  console.log(`\n${summaryTable(gate)}\n\nwall time ${seconds(gate.durationMs)}`);
  console.log(totalsLine(gate));
  process.exitCode = gate.failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    console.log('0 passed, 1 failed');
    process.exitCode = 1;
  });
}
