/**
 * types: `tsc --noEmit` on `tsconfig.json` (scripts, remote system) and `force-app/tsconfig.json` (LWC
 * Jest tests and mocks). Jest strips types without checking them, so this is where type errors fail.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess, tail, type ProcessResult } from '../lib/exec';
import { runCli, timed, toolError, type CheckResult, type Finding } from '../lib/findings';
import { nodeBin, toolCacheFile } from '../lib/project';

/** Incremental: a second run only re-checks what changed (the build info lives in .cache/gate). */
const incrementalArgs = (file: string | undefined): string[] =>
  file ? ['--incremental', '--tsBuildInfoFile', file] : [];

export const TSCONFIGS = ['tsconfig.json', 'force-app/tsconfig.json'];

/** `file(line,col): error TS2322: message` lines of `tsc --pretty false`. */
export function parseTscOutput(cwd: string, output: string): Finding[] {
  const findings: Finding[] = [];
  for (const line of output.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line.trimEnd());
    if (m) {
      findings.push({
        file: path.resolve(cwd, m[1]!),
        line: Number(m[2]),
        column: Number(m[3]),
        rule: `tsc/${m[4]}`,
        message: m[5]!
      });
      continue;
    }
    const global = /^error (TS\d+): (.*)$/.exec(line.trimEnd());
    if (global)
      findings.push({ file: cwd, line: 0, rule: `tsc/${global[1]}`, message: global[2]! });
  }
  return findings;
}

export function checkTypes(root: string): Promise<CheckResult> {
  return timed('types', root, async (notes) => {
    const configs = TSCONFIGS.filter((c) => fs.existsSync(path.join(root, c)));
    if (configs.length === 0)
      return { findings: [toolError(root, 'tsc', `none of ${TSCONFIGS.join(', ')} exists`)] };
    const { command, args } = nodeBin('typescript', 'bin/tsc');
    // one after the other: the gate already runs another heavy check next to this one on 2 cores
    const runs: ProcessResult[] = [];
    for (const config of configs) {
      const cache = toolCacheFile(`tsc-${config.replace(/\W+/g, '_')}`, root, 'tsbuildinfo');
      runs.push(
        await runProcess(
          command,
          [...args, '--noEmit', '--pretty', 'false', ...incrementalArgs(cache), '-p', config],
          { cwd: root, timeoutMs: 300_000 }
        )
      );
    }
    const findings: Finding[] = [];
    runs.forEach((result, i) => {
      const config = configs[i]!;
      if (result.error) {
        findings.push(toolError(root, 'tsc', `${config}: ${result.error}`));
        return;
      }
      const found = parseTscOutput(root, result.stdout);
      if (result.code !== 0 && found.length === 0) {
        findings.push(
          toolError(
            root,
            'tsc',
            `${config}: exited with ${result.code ?? result.signal}: ${tail(result.stdout + result.stderr)}`
          )
        );
      }
      findings.push(...found);
    });
    notes.push(`checked ${configs.join(' and ')}`);
    return { findings };
  });
}

if (require.main === module) runCli(checkTypes);
