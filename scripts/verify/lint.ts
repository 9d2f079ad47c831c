/**
 * lint: ESLint (flat config `eslint.config.js`: LWC rules for component JavaScript, typescript-eslint for
 * TypeScript) over the project, zero warnings allowed. Parsing errors are findings too.
 */
import { runProcess, tail } from '../lib/exec';
import { runCli, timed, toolError, type CheckResult, type Finding } from '../lib/findings';
import { nodeBin, toolCacheFile } from '../lib/project';

const cacheArgs = (file: string | undefined): string[] =>
  file ? ['--cache', '--cache-strategy', 'content', '--cache-location', file] : [];

interface EslintMessage {
  ruleId: string | null;
  severity: number;
  message: string;
  line?: number;
  column?: number;
}
interface EslintFileResult {
  filePath: string;
  messages: EslintMessage[];
}

export function parseEslintJson(root: string, output: string): Finding[] {
  let results: EslintFileResult[];
  try {
    results = JSON.parse(output) as EslintFileResult[];
  } catch {
    throw new Error(`ESLint printed output that is not JSON: ${tail(output, 5)}`);
  }
  if (!Array.isArray(results)) throw new Error('ESLint JSON output is not an array');
  return results.flatMap((result) =>
    result.messages.map((m) => ({
      file: result.filePath,
      line: m.line ?? 0,
      ...(m.column !== undefined ? { column: m.column } : {}),
      rule: `eslint/${m.ruleId ?? 'parse-error'}`,
      message: `${m.severity === 1 ? '(warning) ' : ''}${m.message}`
    }))
  );
}

export function checkLint(root: string): Promise<CheckResult> {
  return timed('lint', root, async () => {
    const { command, args } = nodeBin('eslint', 'bin/eslint.js');
    const result = await runProcess(
      command,
      [...args, '--format', 'json', ...cacheArgs(toolCacheFile('eslint', root)), '.'],
      {
        cwd: root,
        timeoutMs: 300_000
      }
    );
    if (result.error) return { findings: [toolError(root, 'eslint', result.error)] };
    // exit 0: clean, 1: problems found, 2: configuration or crash
    if (result.code !== 0 && result.code !== 1) {
      return {
        findings: [
          toolError(
            root,
            'eslint',
            `exited with ${result.code ?? result.signal}: ${tail(result.stderr || result.stdout)}`
          )
        ]
      };
    }
    const findings = parseEslintJson(root, result.stdout);
    if (result.code === 1 && findings.length === 0) {
      findings.push(
        toolError(root, 'eslint', `exit 1 but no problem reported: ${tail(result.stderr)}`)
      );
    }
    return { findings };
  });
}

if (require.main === module) runCli(checkLint);
