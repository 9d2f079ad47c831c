/**
 * code-analyzer: Salesforce Code Analyzer (core + PMD engine, PMD 7 on Java 17) driven from Node over the
 * project's package directories, with the rule selection checked in at the root (`code-analyzer.yml`, rules
 * tagged `Gate`). Every violation of a selected rule fails; so does every engine error (a file PMD cannot
 * parse is only reported as an engine log event, never as a violation).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CodeAnalyzer,
  CodeAnalyzerConfig,
  EventType,
  LogLevel,
  type EngineLogEvent,
  type LogEvent
} from '@salesforce/code-analyzer-core';
import { createEnginePlugin } from '@salesforce/code-analyzer-pmd-engine';
import { runCli, timed, toolError, type CheckResult, type Finding } from '../lib/findings';
import { GATE_ROOT, packageDirectories } from '../lib/project';

export const RULE_SELECTOR = 'pmd:Gate';

export interface CodeAnalyzerOptions {
  /** Config file; default `<root>/code-analyzer.yml`, else the gate's own. */
  configFile?: string;
  /** Overrides the `java` command PMD uses (tests point it at a missing binary). */
  javaCommand?: string;
}

/** Turns a PMD processing-error log message into a finding with the file and line it names. */
export function engineErrorFinding(root: string, engine: string, message: string): Finding {
  const file = /file '([^']+)'/.exec(message)?.[1];
  const at = /(?:at|line) (\d+):(\d+)/.exec(message);
  const firstLines = message
    .split('\n')
    .slice(0, 3)
    .join(' ')
    .replace(/expecting \{[^}]*\}/, 'expecting …');
  return {
    file: file ?? root,
    line: at ? Number(at[1]) : 0,
    ...(at ? { column: Number(at[2]) } : {}),
    rule: `${engine}/engine-error`,
    message: firstLines.trim()
  };
}

export function checkCodeAnalyzer(
  root: string,
  options: CodeAnalyzerOptions = {}
): Promise<CheckResult> {
  return timed('code-analyzer', root, async (notes) => {
    const own = path.join(root, 'code-analyzer.yml');
    const configFile =
      options.configFile ?? (fs.existsSync(own) ? own : path.join(GATE_ROOT, 'code-analyzer.yml'));
    const analyzer = new CodeAnalyzer(loadConfig(configFile, root, options.javaCommand));
    const findings: Finding[] = [];
    analyzer.onEvent(EventType.EngineLogEvent, (event: EngineLogEvent) => {
      if (event.logLevel === LogLevel.Error)
        findings.push(engineErrorFinding(root, event.engineName, event.message));
    });
    analyzer.onEvent(EventType.LogEvent, (event: LogEvent) => {
      if (event.logLevel === LogLevel.Error)
        findings.push(toolError(root, 'code-analyzer', event.message));
    });
    await analyzer.addEnginePlugin(createEnginePlugin());
    const targets = packageDirectories(root).filter((dir) => fs.existsSync(dir));
    const workspace = await analyzer.createWorkspace(targets);
    const selection = await analyzer.selectRules([RULE_SELECTOR], { workspace });
    if (selection.getCount() === 0) {
      findings.push(
        toolError(root, 'code-analyzer', `no rule matches ${RULE_SELECTOR} in ${configFile}`)
      );
      return { findings };
    }
    const results = await analyzer.run(selection, { workspace });
    for (const violation of results.getViolations()) {
      const location = violation.getPrimaryLocation();
      const file = location.getFile();
      const rule = violation.getRule();
      findings.push({
        file: file ?? root,
        line: location.getStartLine() ?? 0,
        ...(location.getStartColumn() !== undefined ? { column: location.getStartColumn() } : {}),
        rule: `${rule.getEngineName()}/${rule.getName()}`,
        message: file ? violation.getMessage() : `engine failure: ${violation.getMessage()}`
      });
    }
    notes.push(`${selection.getCount()} rule(s) selected by ${RULE_SELECTOR} from ${configFile}`);
    return { findings };
  });
}

/**
 * Reads the checked-in config with the analysed project as config root (so ignore globs are relative to
 * it), optionally overriding the Java command.
 */
function loadConfig(configFile: string, root: string, javaCommand?: string): CodeAnalyzerConfig {
  const base = CodeAnalyzerConfig.fromYamlString(fs.readFileSync(configFile, 'utf8'), root);
  if (!javaCommand) return base;
  // JSON round trip: the getters return `undefined` for unset fields, which fromObject rejects
  const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
  return CodeAnalyzerConfig.fromObject(
    {
      ignores: base.getIgnores(),
      rules: { pmd: plain(base.getRuleOverridesFor('pmd')) },
      engines: {
        pmd: { ...(plain(base.getEngineOverridesFor('pmd')) as object), java_command: javaCommand },
        cpd: plain(base.getEngineOverridesFor('cpd'))
      }
    },
    root
  );
}

if (require.main === module) runCli((root) => checkCodeAnalyzer(root));
