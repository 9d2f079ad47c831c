/**
 * lwc: compiles every Lightning Web Component bundle with @lwc/compiler (the version sfdx-lwc-jest uses):
 * template errors (iterators without `key`, bad expressions and directives, unclosed tags), JavaScript
 * syntax and decorator misuse, with file:line. It cannot know whether `lightning/*` modules or
 * `@salesforce/apex/*` imports exist in the org.
 */
import * as path from 'node:path';
import { transformSync } from '@lwc/compiler';
import { runCli, timed, type CheckResult, type Finding } from '../lib/findings';
import { packageFiles, readText } from '../lib/project';

interface Diagnostic {
  message: string;
  level?: number;
  code?: number;
  filename?: string;
  location?: { line: number; column: number };
}

/** DiagnosticLevel of @lwc/errors: Fatal 0, Error 1, Warning 2, Log 3. */
const ERROR_LEVEL = 1;

function bundleOf(file: string): { dir: string; name: string } | undefined {
  const dir = path.dirname(file);
  if (path.basename(path.dirname(dir)) !== 'lwc') return undefined;
  return { dir, name: path.basename(dir) };
}

function toFinding(file: string, diagnostic: Diagnostic): Finding {
  return {
    file,
    line: diagnostic.location?.line ?? 0,
    ...(diagnostic.location ? { column: diagnostic.location.column + 1 } : {}),
    rule: `lwc/${diagnostic.code ?? 'error'}`,
    // first line only (Babel appends a code frame), without the "SyntaxError: /abs/path.js: " prefix
    message: (diagnostic.message ?? String(diagnostic))
      .split('\n')[0]!
      .replace(/^\w*Error: [^:]*: /, '')
  };
}

export function compileLwcFile(file: string, source: string, bundleName: string): Finding[] {
  try {
    const result = transformSync(source, path.basename(file), {
      name: bundleName,
      namespace: 'c',
      enableDynamicComponents: false
    });
    return (result.warnings ?? [])
      .filter(
        (w) => (w as Diagnostic).level === undefined || (w as Diagnostic).level! <= ERROR_LEVEL
      )
      .map((w) => toFinding(file, w as Diagnostic));
  } catch (error) {
    return [toFinding(file, error as Diagnostic)];
  }
}

export function checkLwc(root: string): Promise<CheckResult> {
  return timed('lwc', root, async (notes) => {
    const files = packageFiles(
      root,
      (f) =>
        /\.(js|html|css)$/.test(f) &&
        !f.split(path.sep).includes('__tests__') &&
        bundleOf(f) !== undefined
    );
    const findings: Finding[] = [];
    const bundles = new Set<string>();
    for (const file of files) {
      const bundle = bundleOf(file)!;
      bundles.add(bundle.dir);
      const source = readText(file);
      if (source instanceof Error) {
        findings.push({ file, line: 0, rule: 'lwc/unreadable', message: source.message });
        continue;
      }
      findings.push(...compileLwcFile(file, source, bundle.name));
    }
    notes.push(`${files.length} file(s) in ${bundles.size} LWC bundle(s) compiled`);
    return { findings };
  });
}

if (require.main === module) runCli(checkLwc);
