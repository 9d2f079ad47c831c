/**
 * format: `prettier --check .` with the project's `.prettierrc` (Apex and XML plugins). Unformatted files
 * and files Prettier cannot parse are findings; a Prettier that fails without naming a file is a tool error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProcess, stripAnsi, tail } from '../lib/exec';
import { runCli, timed, toolError, type CheckResult, type Finding } from '../lib/findings';
import { nodeBin, toolCacheFile } from '../lib/project';

const cacheArgs = (file: string | undefined): string[] =>
  file ? ['--cache', '--cache-strategy', 'content', '--cache-location', file] : [];

export function parsePrettierOutput(root: string, output: string): Finding[] {
  const findings: Finding[] = [];
  for (const raw of stripAnsi(output).split('\n')) {
    const line = raw.trimEnd();
    const warn = /^\[warn\] (.+)$/.exec(line);
    if (
      warn &&
      !/^Code style issues/.test(warn[1]!) &&
      fs.existsSync(path.resolve(root, warn[1]!))
    ) {
      findings.push({
        file: path.resolve(root, warn[1]!),
        line: 0,
        rule: 'prettier/unformatted',
        message: 'not formatted: run `npx prettier --write` on it'
      });
      continue;
    }
    const error = /^\[error\] ([^\s:][^:]*): (.+)$/.exec(line);
    if (error && fs.existsSync(path.resolve(root, error[1]!))) {
      const at = /\((\d+):(\d+)\)/.exec(error[2]!);
      findings.push({
        file: path.resolve(root, error[1]!),
        line: at ? Number(at[1]) : 0,
        ...(at ? { column: Number(at[2]) } : {}),
        rule: 'prettier/syntax',
        message: error[2]!
      });
    }
  }
  return findings;
}

export function checkFormat(root: string): Promise<CheckResult> {
  return timed('format', root, async () => {
    const { command, args } = nodeBin('prettier', 'bin/prettier.cjs');
    const result = await runProcess(
      command,
      [...args, '--check', ...cacheArgs(toolCacheFile('prettier', root, 'json')), '.'],
      {
        cwd: root,
        timeoutMs: 300_000
      }
    );
    if (result.error) return { findings: [toolError(root, 'prettier', result.error)] };
    const findings = parsePrettierOutput(root, `${result.stdout}\n${result.stderr}`);
    if (result.code !== 0 && findings.length === 0) {
      findings.push(
        toolError(
          root,
          'prettier',
          `exited with ${result.code ?? result.signal}: ${tail(result.stderr || result.stdout)}`
        )
      );
    }
    return { findings };
  });
}

if (require.main === module) runCli(checkFormat);
