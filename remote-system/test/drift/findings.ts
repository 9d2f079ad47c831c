/**
 * What every drift check returns: a list of findings, each at the file and line of the side that disagrees and
 * naming the other side, so `npm test` shows where to look on both halves. An empty list means the halves agree.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root (this file is `remote-system/test/drift/findings.ts`). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');

/** A file of the project, with the path the findings print (relative to the repository root, `/`-separated). */
export interface SourceText {
  readonly file: string;
  readonly text: string;
}

/** Reads a project file; `relativePath` is relative to the repository root. */
export function readSource(relativePath: string): SourceText {
  return { file: relativePath, text: readFileSync(path.join(REPO_ROOT, relativePath), 'utf8') };
}

/** A place in a file; `line` is 1-based. */
export interface Location {
  readonly file: string;
  readonly line: number;
}

export interface DriftFinding {
  /** The side that disagrees (where the fix most likely belongs). */
  readonly at: Location;
  /** What is wrong, naming the names involved. */
  readonly message: string;
  /** The other side of the boundary: a place, or a description when it has no line (e.g. "served $metadata"). */
  readonly other?: Location | string;
}

export function formatLocation(location: Location): string {
  return `${location.file}:${location.line}`;
}

/** `file:line message (other side: file:line)`, the form the tests compare and print. */
export function formatFinding(finding: DriftFinding): string {
  const other =
    finding.other === undefined
      ? ''
      : ` (other side: ${typeof finding.other === 'string' ? finding.other : formatLocation(finding.other)})`;
  return `${formatLocation(finding.at)} ${finding.message}${other}`;
}

/** Formatted findings, sorted, for `expect(...).toEqual([])` with a readable failure. */
export function formatFindings(findings: readonly DriftFinding[]): string[] {
  return findings.map(formatFinding).sort();
}

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) line++;
  }
  return line;
}

/** 1-based line of the first match of `pattern` at or after `from`, or undefined. */
export function lineOf(text: string, pattern: RegExp, from = 0): number | undefined {
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  const regex = new RegExp(pattern.source, flags);
  regex.lastIndex = from;
  const match = regex.exec(text);
  return match ? lineAt(text, match.index) : undefined;
}

/** Escapes a string for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
