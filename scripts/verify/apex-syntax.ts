/**
 * apex-syntax: parses every `.cls` and `.trigger` of the project's package directories with
 * @apexdevtools/apex-parser and reports each syntax error with file:line:col. (The package's own
 * `checkProject()` exits 0 even when it finds errors, so the gate drives the parser itself.)
 */
import { apexKind, parseApex } from '../lib/apex';
import { runCli, timed, type CheckResult, type Finding } from '../lib/findings';
import { packageFiles, readText } from '../lib/project';

export function checkApexSyntax(root: string): Promise<CheckResult> {
  return timed('apex-syntax', root, async (notes) => {
    const files = packageFiles(root, (f) => f.endsWith('.cls') || f.endsWith('.trigger'));
    const findings: Finding[] = [];
    for (const file of files) {
      const source = readText(file);
      if (source instanceof Error) {
        findings.push({ file, line: 0, rule: 'apex-parser/unreadable', message: source.message });
        continue;
      }
      for (const error of parseApex(source, apexKind(file)).errors) {
        findings.push({
          file,
          line: error.line,
          column: error.column,
          rule: 'apex-parser/syntax',
          message: error.message
        });
      }
    }
    notes.push(`${files.length} Apex file(s) parsed`);
    return { findings };
  });
}

if (require.main === module) runCli(checkApexSyntax);
