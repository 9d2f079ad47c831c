/**
 * Cross-half check for Data Virtualization's speed: every `Shipment__x` field Salesforce may sort by
 * (`isSortingDisabled=false`) or filter on (`isFilteringDisabled=false`) is served by an index of the ERP's
 * `shipments` table, and every index the producer pays for is used by one of those fields. A field made sortable in
 * the org without an index (a 10M-row sort on every click), or an index left behind when a field stops being
 * sortable, fails `npm test` and names the field file and line.
 *
 * | Salesforce half (field XML)    | what the producer must have (the index's leading columns, in a migrated database) |
 * | ------------------------------ | --------------------------------------------------------------------------------- |
 * | sortable field on column c     | (c, key) — `$orderby=c [desc]` over the table; (customer_number, c, key) — the related list sorted by c |
 * | filterable field on column c   | (c, shipped_at, key) — `c eq …` in the default order, newest first (for shipped_at itself: (shipped_at, key)) |
 *
 * Then the guarantee itself, on a small database: `EXPLAIN QUERY PLAN` of the SQL the producer generates for every
 * such shape (page 1, a `nextLink` page, a deep `$skip`, both directions) reads an index and never sorts; and a
 * list-view filter on a counted column sorted by any other sortable field walks the order's index (the filter
 * columns carried in every `shipments_by_<c>`) instead of sorting every match.
 */
import type Database from 'better-sqlite3';
import { XMLParser } from 'fast-xml-parser';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../src/db';
import { SHIPMENTS, type PropertyDefinition } from '../../src/data-virtualization/entity';
import { PageTokens } from '../../src/data-virtualization/paging';
import { EntityQueries, parseQueryOptions } from '../../src/data-virtualization/query';
import {
  REPO_ROOT,
  formatFindings,
  lineOf,
  readSource,
  type DriftFinding,
  type SourceText
} from '../drift/findings';
import { createShipmentDatabase, queryPlan } from './support';

const FIELDS = 'force-app/main/data-virtualization/objects/Shipment__x/fields';
const MIGRATIONS = 'remote-system/src/db/migrations.ts';
const KEY = SHIPMENTS.key.column;
const CUSTOMER = 'customer_number';

interface FieldFlags {
  readonly file: string;
  readonly fullName: string;
  readonly property: string;
  /** null when the element is missing (Salesforce's default is false: sortable / filterable). */
  readonly sortable: { readonly value: boolean; readonly line: number };
  readonly filterable: { readonly value: boolean; readonly line: number };
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });

/** The flags of one field file (a copy's text may be given, for the mutation tests). */
export function readFieldFlags(source: SourceText): FieldFlags {
  const root = (parser.parse(source.text) as { CustomField?: Record<string, unknown> }).CustomField;
  if (!root) throw new Error(`${source.file}:1 has no <CustomField> root`);
  const flag = (name: string) => {
    const raw = root[name];
    const line = lineOf(source.text, new RegExp(`<${name}>`)) ?? 1;
    return { value: raw === undefined ? true : String(raw as string) !== 'true', line };
  };
  return {
    file: source.file,
    fullName: String(root.fullName as string),
    property: String(root.externalDeveloperName as string),
    sortable: flag('isSortingDisabled'),
    filterable: flag('isFilteringDisabled')
  };
}

function readAllFlags(replace: Readonly<Record<string, string>> = {}): FieldFlags[] {
  return readdirSync(path.join(REPO_ROOT, FIELDS))
    .filter((name) => name.endsWith('.field-meta.xml'))
    .sort()
    .map((name) => {
      const relative = `${FIELDS}/${name}`;
      return readFieldFlags(
        replace[relative] === undefined
          ? readSource(relative)
          : { file: relative, text: replace[relative] }
      );
    });
}

/** Every index of `shipments` in a database (the primary key's autoindex included), with its columns in order. */
export function shipmentIndexes(db: Database.Database): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const { name } of db.prepare("PRAGMA index_list('shipments')").all() as {
    name: string;
  }[]) {
    const columns = (db.prepare(`PRAGMA index_info('${name}')`).all() as { name: string }[]).map(
      (c) => c.name
    );
    result.set(name, columns);
  }
  return result;
}

/** The index prefixes each flag needs, as `[reason, columns]`. */
function requiredPrefixes(column: string, kind: 'sort' | 'filter'): [string, string[]][] {
  const dedupe = (columns: string[]): string[] => [...new Set(columns)];
  if (kind === 'sort') {
    return [
      ['$orderby over the whole table', dedupe([column, KEY])],
      ['the related list sorted by it', dedupe([CUSTOMER, column, KEY])]
    ];
  }
  // The key is unique: an eq filter on it finds at most one row, which needs no order.
  if (column === KEY) return [['an eq filter', [KEY]]];
  const defaultColumns = SHIPMENTS.defaultOrder.map(
    (o) => SHIPMENTS.properties.find((p) => p.name === o.name)!.column
  );
  return [['an eq filter in the default order', dedupe([column, ...defaultColumns, KEY])]];
}

const startsWith = (columns: readonly string[], prefix: readonly string[]): boolean =>
  prefix.every((c, i) => columns[i] === c);

/** The check: field flags (Salesforce half) against the indexes of a migrated database (remote half). */
export function indexCoverage(
  flags: readonly FieldFlags[],
  indexes: ReadonlyMap<string, readonly string[]>
): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const used = new Set<string>();
  const migrationsLine = (name: string): number =>
    lineOf(readSource(MIGRATIONS).text, new RegExp(name.replace(/^shipments_/, ''))) ?? 1;
  for (const field of flags) {
    const property = SHIPMENTS.properties.find((p) => p.name === field.property);
    if (!property) continue; // the $metadata drift check reports unmapped fields
    for (const kind of ['sort', 'filter'] as const) {
      const flag = kind === 'sort' ? field.sortable : field.filterable;
      if (!flag.value) continue;
      for (const [reason, prefix] of requiredPrefixes(property.column, kind)) {
        const match = [...indexes].find(([, columns]) => startsWith(columns, prefix));
        if (match) {
          used.add(match[0]);
          continue;
        }
        findings.push({
          at: { file: field.file, line: flag.line },
          message:
            `Shipment__x.${field.fullName} is ${kind === 'sort' ? 'sortable (isSortingDisabled=false)' : 'filterable (isFilteringDisabled=false)'}, ` +
            `but no shipments index starts with (${prefix.join(', ')}) for ${reason}: ` +
            `add one to SHIPMENT_INDEXES or set ${kind === 'sort' ? 'isSortingDisabled' : 'isFilteringDisabled'}`,
          other: MIGRATIONS
        });
      }
    }
  }
  // An index (f, c, key) serves a list-view filter on f sorted by c (a pair whose matches sit together at one end of
  // the order): used while f is filterable and c sortable.
  const enabled = (kind: 'sort' | 'filter'): Set<string> =>
    new Set(
      flags
        .filter((f) => (kind === 'sort' ? f.sortable.value : f.filterable.value))
        .map((f) => SHIPMENTS.properties.find((p) => p.name === f.property)?.column)
        .filter((c): c is string => c !== undefined)
    );
  const sortable = enabled('sort');
  const filterable = enabled('filter');
  const servesPair = (columns: readonly string[]): boolean =>
    columns.length === 3 &&
    columns[2] === KEY &&
    filterable.has(columns[0]!) &&
    sortable.has(columns[1]!);
  for (const [name, columns] of indexes) {
    if (name.startsWith('sqlite_autoindex_') || used.has(name) || servesPair(columns)) continue;
    findings.push({
      at: { file: MIGRATIONS, line: migrationsLine(name) },
      message: `index ${name} (${columns.join(', ')}) serves no sortable or filterable Shipment__x field: drop it or enable the field`,
      other: `${FIELDS}/`
    });
  }
  return findings;
}

let migrated: Database.Database;
let real: FieldFlags[];

beforeAll(() => {
  migrated = openDatabase(':memory:');
  real = readAllFlags();
});

afterAll(() => migrated.close());

describe('data-virtualization: field sort/filter flags against the producer indexes', () => {
  it('every sortable or filterable field has its indexes, and every index serves a field', () => {
    expect(formatFindings(indexCoverage(real, shipmentIndexes(migrated)))).toEqual([]);
  });

  it('reads all 16 fields, with both flags set in each file (the check is not vacuous)', () => {
    expect(real).toHaveLength(16);
    for (const field of real) {
      expect(readSource(field.file).text).toMatch(/<isSortingDisabled>(true|false)</);
      expect(readSource(field.file).text).toMatch(/<isFilteringDisabled>(true|false)</);
    }
    expect(real.filter((f) => f.sortable.value).length).toBeGreaterThan(3);
    expect(real.filter((f) => f.filterable.value).length).toBeGreaterThan(3);
    expect(real.filter((f) => !f.sortable.value).length).toBeGreaterThan(0);
  });

  it('a field made sortable in the XML only is reported at its flag, naming the missing index', () => {
    const file = `${FIELDS}/PackageCount__c.field-meta.xml`;
    const text = readSource(file).text.replace(
      '<isSortingDisabled>true</isSortingDisabled>',
      '<isSortingDisabled>false</isSortingDisabled>'
    );
    expect(text).not.toBe(readSource(file).text);
    const line = lineOf(text, /<isSortingDisabled>/)!;
    expect(
      formatFindings(indexCoverage(readAllFlags({ [file]: text }), shipmentIndexes(migrated)))
    ).toEqual([
      `${file}:${line} Shipment__x.PackageCount__c is sortable (isSortingDisabled=false), but no shipments index starts with (customer_number, package_count, shipment_number) for the related list sorted by it: add one to SHIPMENT_INDEXES or set isSortingDisabled (other side: ${MIGRATIONS})`,
      `${file}:${line} Shipment__x.PackageCount__c is sortable (isSortingDisabled=false), but no shipments index starts with (package_count, shipment_number) for $orderby over the whole table: add one to SHIPMENT_INDEXES or set isSortingDisabled (other side: ${MIGRATIONS})`
    ]);
  });

  it('an index dropped on the producer side only is reported at the field that needs it', () => {
    const indexes = shipmentIndexes(migrated);
    indexes.delete('shipments_carrier_newest');
    const carrier = real.find((f) => f.fullName === 'Carrier__c')!;
    expect(formatFindings(indexCoverage(real, indexes))).toEqual([
      `${carrier.file}:${carrier.filterable.line} Shipment__x.Carrier__c is filterable (isFilteringDisabled=false), but no shipments index starts with (carrier, shipped_at, shipment_number) for an eq filter in the default order: add one to SHIPMENT_INDEXES or set isFilteringDisabled (other side: ${MIGRATIONS})`
    ]);
  });

  it('an index left behind when its field stops being sortable is reported in the migrations', () => {
    const file = `${FIELDS}/WeightKg__c.field-meta.xml`;
    const text = readSource(file).text.replace(
      '<isSortingDisabled>false</isSortingDisabled>',
      '<isSortingDisabled>true</isSortingDisabled>'
    );
    const findings = formatFindings(
      indexCoverage(readAllFlags({ [file]: text }), shipmentIndexes(migrated))
    );
    expect(findings).toEqual([
      expect.stringMatching(
        /^remote-system\/src\/db\/migrations\.ts:\d+ index shipments_by_weight_kg \(weight_kg, shipment_number, status, carrier, destination_city\) serves no sortable/
      ),
      expect.stringMatching(
        /^remote-system\/src\/db\/migrations\.ts:\d+ index shipments_customer_by_weight_kg \(customer_number, weight_kg, shipment_number\) serves no/
      )
    ]);
  });
});

/** A literal of the property's type for an `eq` filter. */
function literal(property: PropertyDefinition): string {
  switch (property.type) {
    case 'Edm.String':
      return `'${property.column === CUSTOMER ? 'C-000007' : 'x'}'`;
    case 'Edm.DateTimeOffset':
      return '2024-03-01T12:00:00Z';
    case 'Edm.Date':
      return '2024-03-01';
    case 'Edm.Boolean':
      return 'true';
    default:
      return '1';
  }
}

describe.each([
  ['a new database (no statistics)', false],
  ['after ANALYZE', true]
])(
  'query plans from the flags, %s: every allowed shape reads an index and never sorts',
  (_label, analyze) => {
    const db = createShipmentDatabase(2000);
    if (analyze) db.exec('ANALYZE');
    const queries = new EntityQueries(db, SHIPMENTS, new PageTokens('plan'), 20);
    afterAll(() => db.close());

    const plan = (query: { sql: string; params: unknown[] }): string =>
      queryPlan(db, query).join(' | ');

    /** Plans of page 1, of the page its nextLink continues with, and of a `$skip` 500 deep. */
    function plansFor(query: Record<string, string>): string[] {
      const plans: string[] = [];
      const first = queries.page(parseQueryOptions(query, SHIPMENTS));
      plans.push(...queries.lastQueries.map(plan));
      if (first.nextToken) {
        queries.page(parseQueryOptions({ ...query, $skiptoken: first.nextToken }, SHIPMENTS));
        plans.push(...queries.lastQueries.map(plan));
      }
      queries.page(parseQueryOptions({ ...query, $top: '20', $skip: '500' }, SHIPMENTS));
      plans.push(...queries.lastQueries.map(plan));
      return plans;
    }

    function expectIndexedWithoutSort(plans: readonly string[]): void {
      expect(plans.length).toBeGreaterThanOrEqual(2);
      for (const p of plans) {
        expect(p).toMatch(/USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/);
        expect(p).not.toMatch(/TEMP B-TREE/);
      }
    }

    const flags = readAllFlags();
    const propertyOf = (field: FieldFlags): PropertyDefinition =>
      SHIPMENTS.properties.find((p) => p.name === field.property)!;
    const sortable = flags.filter((f) => f.sortable.value).map(propertyOf);
    const filterable = flags.filter((f) => f.filterable.value).map(propertyOf);

    it.each(sortable.flatMap((p) => [`${p.name} asc`, `${p.name} desc`]))(
      '$orderby=%s (whole table)',
      (orderBy) => {
        expectIndexedWithoutSort(plansFor({ $orderby: orderBy }));
      }
    );

    it.each(sortable.flatMap((p) => [`${p.name} asc`, `${p.name} desc`]))(
      "related list CustomerNumber eq 'C-000007', $orderby=%s",
      (orderBy) => {
        expectIndexedWithoutSort(
          plansFor({ $filter: "CustomerNumber eq 'C-000007'", $orderby: orderBy })
        );
      }
    );

    // A list-view filter on a counted column sorted by any other sortable field: page 1, its nextLink page and a
    // deep $skip either read an index in order or walk the order's index testing the filter carried in it (the
    // walk's own sort is of the page's few rows) — never a sort of every match.
    const carried = filterable.filter(
      (p) => p.column !== CUSTOMER && SHIPMENTS.counts!.columns.includes(p.column)
    );
    it.each(
      carried.flatMap((filter) =>
        sortable
          .filter((p) => p !== filter)
          .flatMap((p) => [`${p.name} asc`, `${p.name} desc`].map((o) => [filter.name, o]))
      )
    )('$filter=%s eq <its most frequent value>, $orderby=%s', (name, orderBy) => {
      const column = SHIPMENTS.properties.find((p) => p.name === name)!.column;
      const value = db
        .prepare(
          `SELECT ${column} FROM shipments WHERE ${column} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`
        )
        .pluck()
        .get() as string;
      const plans = plansFor({ $filter: `${name} eq '${value}'`, $orderby: orderBy });
      expect(plans.length).toBeGreaterThanOrEqual(2);
      for (const p of plans) {
        expect(p).toMatch(/USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/);
        if (/TEMP B-TREE/.test(p))
          expect(p).toMatch(/(SCAN|SEARCH) shipments USING COVERING INDEX shipments_by_/);
      }
    });

    it.each(filterable.map((p) => [p.name, literal(p)]))(
      '$filter=%s eq %s in the default order (newest first)',
      (name, value) => {
        const plans = plansFor({ $filter: `${name} eq ${value}` });
        for (const p of plans) {
          expect(p).toMatch(/USING (COVERING )?INDEX/);
          // The key is unique: SQLite "sorts" the at most one row its primary key finds.
          if (name !== SHIPMENTS.key.name) expect(p).not.toMatch(/TEMP B-TREE/);
        }
      }
    );
  }
);
