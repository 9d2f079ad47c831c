/**
 * The one list of the kit's integration patterns, `config/patterns.json`, read and validated. Everything
 * else that lists the patterns (the app's home page data, the README's pattern table) is generated from it
 * by `npm run patterns:sync`, and `scripts/patterns/patterns.test.ts` checks the folders, the docs and the
 * remote system's mounted modules against it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** `available`: both halves, docs and tests are in the kit. `planned`: described, not built yet. */
export type PatternStatus = 'available' | 'planned';

export interface PatternEntry {
  /** Folder name on both halves: `force-app/main/<id>/`, `remote-system/src/<id>/`, `docs/patterns/<id>.md`. */
  readonly id: string;
  readonly name: string;
  /** The distributor's business step the pattern plays, one sentence. */
  readonly businessStep: string;
  /** When the pattern fits, one sentence (the docs page holds the trade-offs). */
  readonly whenToUse: string;
  /** What the Salesforce half is, one sentence. */
  readonly salesforceHalf: string;
  /** What the remote system's half is, one sentence. */
  readonly remoteHalf: string;
  readonly status: PatternStatus;
}

export interface PatternManifest {
  readonly patterns: readonly PatternEntry[];
}

/** The pattern ids the kit uses (architecture and `docs/adding-a-pattern.md`), in the order of the seeds. */
export const PATTERN_IDS = [
  'remote-call-in',
  'request-reply',
  'fire-and-forget',
  'batch-sync',
  'data-virtualization',
  'ui-update',
  'ui-integration',
  'event-driven'
] as const;

export const STATUSES: readonly PatternStatus[] = ['available', 'planned'];

const TEXT_FIELDS = ['name', 'businessStep', 'whenToUse', 'salesforceHalf', 'remoteHalf'] as const;
const ALL_FIELDS = new Set<string>(['id', 'status', ...TEXT_FIELDS]);

export const MANIFEST_PATH = path.join('config', 'patterns.json');

/** Parses and validates a manifest; every problem is reported at once, each naming the entry and field. */
export function parseManifest(json: string, source = MANIFEST_PATH): PatternManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new Error(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const list = (raw as { patterns?: unknown } | null)?.patterns;
  if (!Array.isArray(list))
    throw new Error(`${source}: expected an object with a "patterns" array`);
  const seen = new Set<string>();
  list.forEach((entry: unknown, index) => {
    const where = `patterns[${index}]`;
    if (typeof entry !== 'object' || entry === null) {
      problems.push(`${where} is not an object`);
      return;
    }
    const record = entry as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!ALL_FIELDS.has(key)) problems.push(`${where} has an unknown field "${key}"`);
    }
    const id = record.id;
    if (typeof id !== 'string' || !(PATTERN_IDS as readonly string[]).includes(id)) {
      problems.push(
        `${where}.id must be one of ${PATTERN_IDS.join(', ')}, got ${JSON.stringify(id)}`
      );
    } else if (seen.has(id)) {
      problems.push(`${where}.id "${id}" is listed twice`);
    } else {
      seen.add(id);
    }
    for (const field of TEXT_FIELDS) {
      const value = record[field];
      if (typeof value !== 'string' || value.trim() === '') {
        problems.push(`${where}.${field} must be a non-empty string`);
      } else if (/[\n|]/.test(value)) {
        problems.push(`${where}.${field} must be one line without "|" (it becomes a table cell)`);
      }
    }
    if (!STATUSES.includes(record.status as PatternStatus)) {
      problems.push(
        `${where}.status must be "available" or "planned", got ${JSON.stringify(record.status)}`
      );
    }
  });
  for (const id of PATTERN_IDS) {
    if (!seen.has(id)) problems.push(`pattern "${id}" is missing (planned patterns stay listed)`);
  }
  if (problems.length > 0) throw new Error(`${source}:\n  ${problems.join('\n  ')}`);
  return { patterns: list as PatternEntry[] };
}

export function loadManifest(root: string): PatternManifest {
  const file = path.join(root, MANIFEST_PATH);
  return parseManifest(fs.readFileSync(file, 'utf8'), file);
}

export function availablePatterns(manifest: PatternManifest): PatternEntry[] {
  return manifest.patterns.filter((pattern) => pattern.status === 'available');
}
