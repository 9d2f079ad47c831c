/**
 * System query options → one plan → parameterised SQL on SQLite. Pages are cut with keyset conditions (never a
 * growing OFFSET), so the 10,000th page costs what the first does when an index serves the sort.
 *
 * A request's way through this file (the methods of `EntityQueries` unless said otherwise):
 * 1. `parseQueryOptions` checks the options and compiles `$filter` and `$search` to plain SQL.
 * 2. `page`, `count` or `byKey` reads in one snapshot (`readPage` for a page).
 * 3. Resolution (`resolveSubstrings`, `resolveSearch`, `filterParts`): a condition a counter or an index answers is
 *    rewritten as the rows that hold it (counted values, trigram candidates, a sparse column's rows), and a search's
 *    page as each searched column's first rows (`searchPageParts`).
 * 4. Counting (`countResolved`, `fewRows`): the counters of `shipment_counts` (`countedFromCounters`), a count kept
 *    between requests (`keptCount`), the page's own rows when they are few, else `count(*)`.
 * 5. A deep `$skip` starts from a checkpoint of `SkipPositions` (`locate`).
 * 6. Reading (`scan`, `segmentRows`): SQLite's own plan, or a walk of the order's index that tests the filter on its
 *    entries (`carriedFilter`, `probedFilter`, `valueWalk`), or one branch per value merged or read one after another
 *    (`mergedByValue`, `mergedBySortValue`, `mergeValues`, `concatenatedBranches`).
 * The constants after the class weigh these choices against each other, most with the measurement at 10M rows behind
 * them; the performance log (`docs/data-virtualization-performance.md`) tells which pass added which, and why.
 */
import type Database from 'better-sqlite3';
import {
  dateGapDimension,
  keySubstringDimension,
  perValueKeySubstringDimension,
  prefixDimension,
  substringDimension
} from '../db/migrations';
import { ODataQueryError } from './errors';
import { findProperty, type EntitySetDefinition, type PropertyDefinition } from './entity';
import { parseFilter, type FilterNode, type LiteralValue } from './filter-parser';
import { KnownCounts, type CountReader } from './known-counts';
import { PageTokens, type PageCursor } from './paging';
import {
  SkipPositions,
  type OrderingChange,
  type OrderingReader,
  type OrderingVersion,
  type PageStart,
  type SqlValue
} from './positions';
import {
  compileSearch,
  containsTerm,
  parseSearch,
  soleSearchTerm,
  termTest,
  writeSearch,
  type SearchNode
} from './search';
import {
  compileFilter,
  globPattern,
  isDateTime,
  quoteIdentifier,
  trigramQueries,
  type SqlFragment
} from './sql';

/** Salesforce Connect accepts at most 2,000 rows per server-driven page. */
export const MAX_PAGE_SIZE = 2000;

const SUPPORTED = new Set([
  '$filter',
  '$select',
  '$orderby',
  '$top',
  '$skip',
  '$count',
  '$search',
  '$skiptoken',
  '$format'
]);

export interface SortKey {
  readonly property: PropertyDefinition;
  readonly descending: boolean;
}

export interface QueryOptions {
  readonly filterText?: string;
  readonly searchText?: string;
  readonly orderByText?: string;
  readonly selectText?: string;
  readonly filter?: SqlFragment;
  /** The parsed `$filter` (for the maintained row counts). */
  readonly filterTree?: FilterNode;
  readonly search?: SqlFragment;
  /** `$orderby` keys, completed with the entity key so the order is total. */
  readonly sort: readonly SortKey[];
  readonly select: readonly PropertyDefinition[];
  readonly top?: number;
  readonly skip?: number;
  readonly count: boolean;
  readonly skipToken?: string;
}

export type RawQuery = Record<string, unknown>;

function single(raw: RawQuery, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    throw new ODataQueryError(`Query option ${name} appears more than once`, name);
  }
  return String(value);
}

function nonNegativeInteger(raw: RawQuery, name: string): number | undefined {
  const text = single(raw, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) {
    throw new ODataQueryError(`${name} must be a non-negative integer`, name);
  }
  return Number(text);
}

/** Parses `$orderby`: comma-separated `Property [asc|desc]`. */
export function parseOrderBy(text: string, entity: EntitySetDefinition): SortKey[] {
  const keys: SortKey[] = [];
  let offset = 0;
  for (const part of text.split(',')) {
    const leading = part.length - part.trimStart().length;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:[ \t]+(asc|desc))?$/.exec(part.trim());
    if (!match) {
      throw new ODataQueryError(
        'Expected "Property [asc|desc]" in $orderby',
        '$orderby',
        offset + leading
      );
    }
    const property = findProperty(match[1]!);
    if (!property || !entity.properties.includes(property)) {
      throw new ODataQueryError(`Unknown property '${match[1]}'`, '$orderby', offset + leading);
    }
    if (keys.some((k) => k.property === property)) {
      throw new ODataQueryError(
        `Property '${match[1]}' sorted twice`,
        '$orderby',
        offset + leading
      );
    }
    keys.push({ property, descending: match[2] === 'desc' });
    offset += part.length + 1;
  }
  return keys;
}

/** The entity's default order (no `$orderby`), as sort keys. */
export function defaultOrder(entity: EntitySetDefinition): SortKey[] {
  return entity.defaultOrder.map(({ name, descending }) => {
    const property = entity.properties.find((p) => p.name === name);
    if (!property) throw new Error(`default order names unknown property ${name}`);
    return { property, descending };
  });
}

/** Completes the sort with the key (in the direction of the last key) so every row has one place. */
export function totalOrder(keys: readonly SortKey[], entity: EntitySetDefinition): SortKey[] {
  const keyIndex = keys.findIndex((k) => k.property === entity.key);
  if (keyIndex >= 0) return keys.slice(0, keyIndex + 1);
  const last = keys[keys.length - 1];
  return [...keys, { property: entity.key, descending: last?.descending ?? false }];
}

function parseSelect(text: string, entity: EntitySetDefinition): PropertyDefinition[] {
  if (text.trim() === '*') return [...entity.properties];
  const selected: PropertyDefinition[] = [];
  let offset = 0;
  for (const part of text.split(',')) {
    const name = part.trim();
    const property = findProperty(name);
    if (!property || !entity.properties.includes(property)) {
      throw new ODataQueryError(
        `Unknown property '${name}' in $select`,
        '$select',
        offset + part.length - part.trimStart().length
      );
    }
    if (!selected.includes(property)) selected.push(property);
    offset += part.length + 1;
  }
  return selected;
}

/** Validates every system query option; anything unknown or malformed is a 400. */
export function parseQueryOptions(raw: RawQuery, entity: EntitySetDefinition): QueryOptions {
  for (const name of Object.keys(raw)) {
    if (name.startsWith('$') && !SUPPORTED.has(name)) {
      throw new ODataQueryError(`Query option ${name} is not supported`, name);
    }
  }
  const format = single(raw, '$format');
  if (format !== undefined && format !== 'json' && !format.startsWith('application/json')) {
    throw new ODataQueryError('Only $format=json is supported', '$format');
  }
  const filterText = single(raw, '$filter');
  const searchText = single(raw, '$search');
  const orderByText = single(raw, '$orderby');
  const selectText = single(raw, '$select');
  const countText = single(raw, '$count');
  if (countText !== undefined && countText !== 'true' && countText !== 'false') {
    throw new ODataQueryError('$count must be true or false', '$count');
  }
  const skipToken = single(raw, '$skiptoken');
  const top = nonNegativeInteger(raw, '$top');
  const skip = nonNegativeInteger(raw, '$skip');
  if (skipToken !== undefined && (top !== undefined || skip !== undefined)) {
    throw new ODataQueryError('$skiptoken cannot be combined with $top or $skip', '$skiptoken');
  }
  const filterTree = filterText === undefined ? undefined : parseFilter(filterText);
  return {
    filterText,
    searchText,
    orderByText,
    selectText,
    filter: filterTree === undefined ? undefined : compileFilter(filterTree),
    filterTree,
    search: searchText === undefined ? undefined : compileSearch(searchText, entity),
    sort: totalOrder(
      orderByText === undefined ? defaultOrder(entity) : parseOrderBy(orderByText, entity),
      entity
    ),
    select: selectText === undefined ? [...entity.properties] : parseSelect(selectText, entity),
    top,
    skip,
    count: countText === 'true',
    skipToken
  };
}

export interface PageResult {
  readonly rows: Record<string, unknown>[];
  readonly count?: number;
  /** Token for the next page, when there is one. */
  readonly nextToken?: string;
}

/** One ordered scan that continues a page: a condition plus its parameters. */
interface Segment {
  readonly sql: string;
  readonly params: unknown[];
}

export class EntityQueries {
  private readonly statements = new Map<string, Database.Statement>();
  /** The SQL the last `page`/`count`/`byKey` call ran, for `EXPLAIN QUERY PLAN` in tests and the benchmark. */
  lastQueries: { sql: string; params: unknown[] }[] = [];
  /**
   * Within one `page`/`count` call, how many candidate rows each trigram query of an index found, and their rowids
   * when that is all of them (none when it stopped past the budget it was asked with): a page's and its count's
   * resolutions ask the same.
   */
  private readonly trigramCandidates = new Map<string, { rows: number; rowids?: string }>();
  /** Within one `page`/`count` call, each `$search` term's sources by budget (see `searchSources`): resolutions ask. */
  private readonly searchSourcesOfTerm = new Map<string, SearchSources | undefined>();
  /** Within one `page`/`count` call, the counted values read (see `countedValues`): a search's parts ask again. */
  private readonly countedValuesRead = new Map<string, [string, number][] | undefined>();
  /**
   * Within one `page`/`count` call, the values a condition on a counted column holds for (see `countedColumnValues`):
   * a filter beside a counted value is read once to weigh its candidates (`testedOnEntries`) and once to resolve it.
   */
  private readonly columnValuesRead = new Map<string, string[] | undefined>();
  /** Within one `page`/`count` call, `foldedSubstringCounter`'s answers: a page, its sources and its count ask. */
  private readonly foldedCounts = new Map<string, number | undefined>();
  /** Reads a maintained row count, when the database keeps them (see `EntitySetDefinition.counts`). */
  private readonly counter: Database.Statement | undefined;
  /** `byKey` with every property, in entity order. */
  private byKeyAll: Database.Statement | undefined;
  /** Reads the table's write versions, when the database keeps them (see `EntitySetDefinition.version`). */
  private readonly versionReader: Database.Statement | undefined;
  /** The table's indexes and their columns, in order. */
  private readonly indexes: { readonly name: string; readonly columns: readonly string[] }[];
  /** The first and last entry of the table's change log, when the database keeps one. */
  private readonly changeLogBounds: Database.Statement | undefined;
  /** Checkpoints for deep `$skip` pages, kept while the table's versions stand still and repaired when they move. */
  private readonly positions: SkipPositions;
  /** Counts of filters the maintained counters cannot answer, kept and repaired like the positions. */
  private readonly knownCounts: KnownCounts;
  /** Runs a read in one transaction, so that it sees one state of the database throughout. */
  private readonly snapshot: <T>(read: () => T) => T;
  private readonly minWalkBudget: number;
  private readonly maxResolvedValues: number;
  private readonly maxSparseRows: number;
  private readonly maxSubstringCandidates: number;
  private readonly trigramEntriesPerCandidate: number;
  private readonly rangeProbe: number;
  private readonly searchCandidateFactor: number;
  /** Per column, whether it is sparse, and the versions that answer stands for (see `isSparse`). */
  private readonly sparseness = new Map<string, { stamp: string; sparse: boolean }>();
  /** Whether the tuple counters exist (see `tupleCount`). */
  private readonly tupleCounter: boolean;
  /** The trigram index of each column that has one (see `PropertyDefinition.substringIndex`). */
  private readonly substringIndexes = new Map<string, string>();
  /** Per such column, a sample of its values (lower case), taken once: how common a trigram is (`trigramQueries`). */
  private readonly valueSamples = new Map<string, string[]>();
  /**
   * Per column counted by its substrings, how many values hold each trigram (lower case) and how many there are,
   * read once from the counters (see `trigramShare`).
   */
  private readonly trigramCounts = new Map<
    string,
    { total: number; trigrams: Map<string, number> }
  >();
  /**
   * A resolved filter's two disjoint parts (see `disjointFilters`), keyed by the filter itself: options whose filter
   * is replaced no longer find them.
   */
  private readonly disjointParts = new WeakMap<
    SqlFragment,
    readonly [DisjointPart, DisjointPart]
  >();

  constructor(
    private readonly db: Database.Database,
    private readonly entity: EntitySetDefinition,
    private readonly tokens: PageTokens,
    private readonly pageSize = MAX_PAGE_SIZE,
    tuning: QueryTuning = {}
  ) {
    this.positions = tuning.positions ?? new SkipPositions();
    this.knownCounts = tuning.knownCounts ?? new KnownCounts();
    this.minWalkBudget = tuning.minWalkBudget ?? MIN_WALK_BUDGET;
    this.maxResolvedValues = tuning.maxResolvedValues ?? MAX_RESOLVED_VALUES;
    this.maxSparseRows = tuning.maxSparseRows ?? MAX_SPARSE_ROWS;
    this.maxSubstringCandidates = tuning.maxSubstringCandidates ?? MAX_SUBSTRING_CANDIDATES;
    this.rangeProbe = tuning.rangeProbe ?? RANGE_PROBE;
    this.searchCandidateFactor = tuning.searchCandidateFactor ?? SEARCH_CANDIDATE_FACTOR;
    this.trigramEntriesPerCandidate =
      tuning.trigramEntriesPerCandidate ?? TRIGRAM_ENTRIES_PER_CANDIDATE;
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new RangeError(`page size must be between 1 and ${MAX_PAGE_SIZE}`);
    }
    const tableExists = (name: string | undefined): boolean =>
      name !== undefined &&
      db
        .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
        .pluck()
        .get(name) === 1;
    const counts = entity.counts;
    for (const property of entity.properties) {
      if (tableExists(property.substringIndex)) {
        this.substringIndexes.set(property.column, property.substringIndex!);
      }
    }
    this.indexes = (
      db.prepare(`PRAGMA index_list(${quoteIdentifier(entity.table)})`).all() as { name: string }[]
    ).map(({ name }) => ({
      name,
      columns: (
        db.prepare(`PRAGMA index_info(${quoteIdentifier(name)})`).all() as { name: string }[]
      ).map((c) => c.name)
    }));
    this.versionReader = tableExists(entity.version?.table)
      ? db
          .prepare(
            `SELECT name, version FROM ${quoteIdentifier(entity.version!.table)} ` +
              `WHERE name = ? OR substr(name, 1, length(?) + 1) = ? || '.'`
          )
          .raw()
      : undefined;
    const changes = entity.version?.changes;
    this.changeLogBounds =
      this.versionReader && tableExists(changes)
        ? db
            .prepare(
              // Two subqueries: SQLite reads a lone min() or max() of the key from one end of the table.
              `SELECT (SELECT min(change_seq) FROM ${quoteIdentifier(changes!)}), ` +
                `(SELECT max(change_seq) FROM ${quoteIdentifier(changes!)})`
            )
            .raw()
        : undefined;
    this.snapshot = db.transaction((read: () => unknown) => read()) as <T>(read: () => T) => T;
    this.tupleCounter = tableExists(counts?.tupleTable);
    this.counter = tableExists(counts?.table)
      ? db
          .prepare(
            `SELECT n FROM ${quoteIdentifier(counts!.table)} WHERE dimension = ? AND value = ?`
          )
          .pluck()
      : undefined;
  }

  /**
   * The maintained counts that answer `options` exactly, as keys to add up: the whole table (no `$filter`/`$search`),
   * an `eq` or `in` between a counted column and string literals (a list of none counts 0), or the negation of one
   * (`ne`, `not`: the table less those, as OData's `ne` and `not` keep the rows whose column is null). Anything else
   * is counted.
   */
  private counterKeys(options: QueryOptions): CounterKey[] | undefined {
    if (!this.entity.counts || options.search) return undefined;
    if (!options.filterTree) return [['*', '']];
    return this.counterKeysOf(options.filterTree);
  }

  /** The maintained counts that answer a `$filter` node exactly (see `counterKeys`). */
  private counterKeysOf(node: FilterNode): CounterKey[] | undefined {
    const counts = this.entity.counts;
    if (!counts) return undefined;
    const negated = negationOf(node);
    if (negated) {
      const keys = this.counterKeysOf(negated);
      return (
        keys && [['*', ''], ...keys.map(([d, v, sign]): CounterKey => [d, v, sign === -1 ? 1 : -1])]
      );
    }
    const set = literalSet(node);
    if (!set || !counts.columns.includes(set.property.column)) return undefined;
    const keys: CounterKey[] = [];
    for (const value of new Set(set.values)) {
      if (value !== null && typeof value !== 'string') return undefined;
      keys.push([set.property.column, value === null ? 'null' : `v:${value}`]);
    }
    return keys;
  }

  /**
   * String functions with a literal, where the filter needs them true (under `and`/`or` from the top: a call on a
   * null column is null where the readings below are false, which differs under `not`), and `$search`, read through
   * an index:
   * - On a counted column: `in` the column's values that satisfy it. The maintained counts know every value the
   *   column holds (a few hundred cities, carriers or statuses), so SQLite's own `GLOB` picks them from there, and the
   *   filter is then served by the column's indexes and counted exactly, where it would otherwise test every row
   *   (seconds at 10M rows for a rare or absent value). Left as it is past `maxResolvedValues` values.
   * - On a column with a trigram index (the key), `contains`/`endswith` of three characters or more: the rows whose
   *   index entries hold every trigram of the text, then the function itself on those rows, when they are at most
   *   `maxSubstringCandidates` (a rare substring of 10M keys: about 1 ms instead of testing every key). More
   *   candidates mean a frequent substring, which the order's own walk meets soon enough: left as it is.
   * - On a sparse column (set on few rows, so its index is small): the keys of the rows that index says match. A row
   *   is then tested by looking its key up in that small set instead of reading it (the Account page's search tests
   *   OrderNumber on every row of a customer), and SQLite may start from those rows (a `contains` on OrderNumber, set
   *   on one shipment in 3,000: 3.9 s → about 1 ms at 10M rows).
   * The sets read from an index are of current rows, so the change log is read with the plain predicate (see
   * `locate`). `$search` is read this way term by term (see `resolveSearch`).
   */
  private resolveSubstrings(
    query: QueryOptions,
    budget = this.maxSubstringCandidates,
    window?: PageWindow
  ): QueryOptions {
    const options = this.resolveSearch(query, window);
    if (!options.filterTree) return options;
    const indexed = new Map<FilterNode, SqlFragment>();
    const sparseNodes = new Set<FilterNode>();
    const table = quoteIdentifier(this.entity.table);
    const resolve = (
      node: FilterNode,
      budget: number,
      inOr = false,
      maxEntries = Infinity
    ): FilterNode => {
      const values = this.countedColumnValues(node);
      if (values) return values;
      const sparse = this.sparseColumnRows(node);
      if (sparse) {
        indexed.set(node, sparse);
        sparseNodes.add(node);
        return node;
      }
      // An `or` is read as one union from its top: below it, the other functions would still be tested on every row.
      if (node.kind === 'or' && !inOr) {
        const union = this.unionSources(node, budget, maxEntries);
        if (union) {
          const plain = compileFilter(node);
          indexed.set(node, {
            sql: `(${union.sql} AND ${plain.sql})`,
            params: [...union.params, ...plain.params]
          });
          return node;
        }
      }
      if (node.kind === 'and' || node.kind === 'or') {
        // Beside a counted `eq`/`in` (the Account page's customer), candidates pay while reading them costs less
        // than walking its rows: fewer for a small customer than alone, more for a large one. A page's walk stops
        // once it has its rows: with at least `matches` of them holding a substring of the key (the value's counter),
        // it walks about rows × window.rows / matches (`2000` of the largest customer at 10M rows: 118 of its 316,462
        // rows, 70,000 entries walked in 7 ms where its 46,000 candidates took 25 ms).
        const resolveBeside = (child: FilterNode, sibling: FilterNode): FilterNode => {
          const rows = node.kind === 'and' ? this.countedRows(sibling) : undefined;
          if (rows === undefined) return resolve(child, budget, node.kind === 'or', maxEntries);
          const matches = window && this.keySubstringRowsBeside(sibling, child);
          const walked =
            window && matches ? Math.min(rows, Math.ceil((rows * window.rows) / matches)) : rows;
          // Its rows are walked through an index that carries the key: entries, not rows, when the child reads no
          // other column (the Account page's search as a global search: 5,000 candidates of `2573` beside a customer
          // of 29,560 rows took 406 ms at 10M rows from a dropped page cache, where its entries took 12).
          const perCandidate =
            matches || this.testedOnEntries(child, literalSet(sibling)?.property.column)
              ? CANDIDATE_COST_IN_WALKED_ENTRIES
              : CANDIDATE_COST_IN_TESTED_ROWS;
          const candidates = Math.min(MAX_CANDIDATES_BESIDE, Math.floor(walked / perCandidate));
          // Intersecting the trigrams of a common term reads more index entries than its candidates' rows: weighed
          // against the walk where the counters tell its length (`3004` of the largest customer at 10M rows: 1.2
          // million entries of `300` and `004` read in 9 ms for 8,312 candidates, where its walk takes 7 ms).
          const entries = matches ? candidates * this.trigramEntriesPerCandidate : maxEntries;
          return resolve(child, candidates, false, entries);
        };
        const left = resolveBeside(node.left, node.right);
        const right = resolveBeside(node.right, node.left);
        return left === node.left && right === node.right ? node : { ...node, left, right };
      }
      if (node.kind !== 'call') return node;
      const [subject, search] = node.args;
      if (subject.kind !== 'property' || search.kind !== 'literal') return node;
      const column = subject.property.column;
      const candidates =
        node.name !== 'startswith' && typeof search.value === 'string'
          ? this.substringCandidates(column, search.value, budget, maxEntries)
          : undefined;
      if (candidates) {
        const plain = compileFilter(node);
        indexed.set(node, {
          sql: `(${table}.rowid IN (${candidates.sql}) AND ${plain.sql})`,
          params: [...candidates.params, ...plain.params]
        });
      }
      return node;
    };
    // A page of a `contains` of the key alone reads its candidates only while that costs less than walking the
    // order's index (which carries the key) to the page's last row, when the counters tell how many keys hold the
    // text: 4,000 candidates of 4 digits, rows at random, took 8.5 ms p50 at 10M rows where the walk takes 5.8 (27
    // against 7 from a dropped page cache).
    const call = textCall(options.filterTree, 'contains');
    const holders = window && call && this.substringCounter(call.property.column, call.text);
    const filterTree = resolve(
      options.filterTree,
      window && holders
        ? Math.min(budget, this.candidatesWorthWalking(holders, window.rows))
        : budget
    );
    if (filterTree === options.filterTree && indexed.size === 0) return options;
    const rewrite = (node: FilterNode): SqlFragment | undefined => indexed.get(node);
    const filter = compileFilter(filterTree, rewrite);
    const parts = disjointFilters(filterTree, rewrite, sparseNodes);
    if (parts) this.disjointParts.set(filter, parts);
    return { ...options, filterTree, filter };
  }

  /**
   * Whether `node` is tested on the entries of an index that leads with `column` and carries the key, reading no row:
   * each of its leaves is on the key or `column`, a function of a sparse column (read as that column's few rows, see
   * `sparseColumnRows`), or a counted column's condition that no value meets (see `countedColumnValues`).
   */
  private testedOnEntries(node: FilterNode, column: string | undefined): boolean {
    if (node.kind === 'and' || node.kind === 'or') {
      return this.testedOnEntries(node.left, column) && this.testedOnEntries(node.right, column);
    }
    const property = this.soleProperty(node);
    if (!property) return false;
    if (property.column === this.entity.key.column || property.column === column) return true;
    const values = this.countedColumnValues(node);
    return values ? isNoRow(values) : this.sparseColumnRows(node) !== undefined;
  }

  /**
   * The WHERE clauses of resolved `options`, one per disjoint part of its filter (see `disjointFilters`): every row
   * it matches matches exactly one of them.
   */
  private filterParts(options: QueryOptions): Segment[] {
    const parts = options.filter && this.disjointParts.get(options.filter);
    return parts
      ? parts.map(({ filter }) => this.where({ ...options, filter }))
      : [this.where(options)];
  }

  /**
   * `$search` read through indexes (see `searchSources`). A search of one term found in one counted column alone
   * (a city, a status, a customer number: no key, no order number holds it) is exactly `in` the values that contain
   * it, so it becomes that filter, counted by the maintained counts and walked like one; otherwise each term reads
   * its candidate rows when they are few (`searchCandidates`).
   */
  private resolveSearch(options: QueryOptions, window?: PageWindow): QueryOptions {
    if (options.searchText === undefined) return options;
    const sole = soleSearchTerm(options.searchText);
    if (sole === undefined || options.filterTree) {
      const split = this.searchFilters(options);
      if (split) return this.resolveSearch(split, window);
    }
    // A page read from each column's first rows reads a term's candidates only up to its own budget: its sources list
    // them no further (`3004`'s first page listed 8,300 it did not read: 4.6 ms at 10M rows). Whether the search is a
    // filter does not depend on the budget: only when no key holds the term, which has no candidates.
    const firstRows = window !== undefined && !window.positioned && !options.filterTree;
    // A first page reads a term's candidates while that costs less than walking its order to the page's last row,
    // when the key's counters tell how many keys hold the term (see `walkedCandidates`): the 4,000 candidates of
    // `7976`, rows at random, took 10.9 ms p50 at 10M rows where the walk takes 7.7 (29 against 8.5 from a dropped
    // page cache); else up to `maxSubstringCandidates` of them. Past `$skip`, up to `searchBudget()` of them, or
    // more when the walk costs more: it grows with the rows skipped, the candidates cost the same at any depth (past
    // `$skip=25`, walking for 51 rows cost more than 4,500 candidates: 18.9 against 15.7 ms p99).
    const walked = sole !== undefined && window ? this.walkedCandidates(sole, window.rows) : 0;
    const pageBudget = options.skip
      ? Math.max(this.searchBudget(), walked)
      : walked > 0
        ? walked
        : this.maxSubstringCandidates;
    const candidateBudget = Math.max(this.searchBudget(), walked);
    // A page read from each column's first rows lists a term's candidates only while intersecting its trigrams costs
    // less than walking (see `substringCandidates`).
    const pageEntries = pageBudget * this.trigramEntriesPerCandidate;
    const only =
      sole === undefined
        ? undefined
        : firstRows
          ? this.searchSources(sole, pageBudget, pageEntries)
          : this.searchSources(sole, candidateBudget);
    if (only && only.others.length === 0 && only.values.length <= 1) {
      const list = this.valuesFilter(only);
      const filterTree: FilterNode = options.filterTree
        ? { kind: 'and', left: options.filterTree, right: list, position: 0 }
        : list;
      // The search is now a filter: the log of written rows is read with it, and it is counted like one.
      return {
        ...options,
        filterTree,
        filter: compileFilter(filterTree),
        search: undefined,
        searchText: undefined
      };
    }
    return {
      ...options,
      search: compileSearch(options.searchText, this.entity, (term) => {
        // A page read from each column's first rows walks index entries alone: past a filter's candidates, that
        // costs less than reading more of them (`3004`, 4,300 candidates: 18-22 → 12.5 ms at 10M rows). Past
        // `$skip` rows, though, the walk grows with them where the candidates cost the same at any depth: up to
        // `searchBudget()` of them are read first (`5085` with `$skip=100`: 31 → 9 ms).
        const parts =
          term === sole && firstRows
            ? (this.searchCandidates(
                this.searchSources(term, pageBudget, pageEntries),
                pageBudget
              ) ?? this.searchPageParts(term, options.sort, window, pageBudget))
            : undefined;
        const budget = term === sole ? candidateBudget : this.searchBudget();
        return parts ?? this.searchCandidates(this.searchSources(term, budget), budget);
      })
    };
  }

  /**
   * A `$search` term found in counted columns alone (`searchSources`: no key and no order number holds it), as the
   * filter it then is: each column `eq` the one value that holds it, or `in` the values, `or`ed; `in ()` (false) for a
   * term nothing holds.
   */
  private valuesFilter(sources: SearchSources): FilterNode {
    const lists = sources.values.map(({ property, values }): FilterNode => {
      const operand: FilterNode = { kind: 'property', type: 'string', property, position: 0 };
      const literals = values.map(([value]): FilterNode => ({
        kind: 'literal',
        type: 'string',
        value,
        position: 0
      }));
      // One value as `eq`, as a list view sends it. With `in`s of one value each, SQLite read every row of the city
      // through its index for `"houston" "out for delivery"` (58 ms at 1M rows); with `eq`s, 0.3 ms.
      return literals.length === 1
        ? { kind: 'compare', op: 'eq', left: operand, right: literals[0]!, position: 0 }
        : { kind: 'in', operand, list: literals, position: 0 };
    });
    return lists.length > 0
      ? lists.reduce((left, right) => ({ kind: 'or', left, right, position: 0 }))
      : this.noRow();
  }

  /** A filter no row passes: a counted column `in ()`. */
  private noRow(): FilterNode {
    const property = this.entity.properties.find((p) =>
      this.entity.counts?.columns.includes(p.column)
    )!;
    return {
      kind: 'in',
      operand: { kind: 'property', type: 'string', property, position: 0 },
      list: [],
      position: 0
    };
  }

  /**
   * A term with no ASCII letter as a filter: `contains` in any searchable column, `or`ed. Case does not change where
   * such a term is found, so OData's case-sensitive `contains` finds it where the search does. A column that every row
   * the query reads has one of `fixed`'s values in (a `$filter`'s or a search term's `eq`/`in` of it, from the top)
   * is left out when none of them holds the term: `C-000001 0057` asks for no other customer's rows.
   */
  private containsFilter(
    term: string,
    fixed: ReadonlyMap<string, readonly LiteralValue[]>
  ): FilterNode {
    const calls = this.entity.properties
      .filter((p) => p.searchable)
      .filter((p) => fixed.get(p.column)?.some((v) => String(v).includes(term)) ?? true)
      .map((property): FilterNode => ({
        kind: 'call',
        name: 'contains',
        args: [
          { kind: 'property', type: 'string', property, position: 0 },
          { kind: 'literal', type: 'string', value: term, position: 0 }
        ],
        position: 0
      }));
    return calls.length > 0
      ? calls.reduce((left, right) => ({ kind: 'or', left, right, position: 0 }))
      : this.noRow();
  }

  /**
   * A `$search` of several terms, or beside a `$filter`, with the parts that read as filters moved into the
   * `$filter`, where the filter's machinery reads them through indexes and counters (a term found in counted columns
   * alone: `valuesFilter`; a term with no ASCII letter beside such a column's values: `containsFilter`): all of it,
   * when every term of it reads so (`atlanta exception`, a city and a status; `C-000001 0057`, the Account page's
   * search as a global search), else each of its top `AND`s that does, the rest left a search; a top `AND` that is a
   * term every row holds is left out. The terms' semantics are kept: a counted column's `eq` or `in` is false, never
   * null, on a null column, so it may stand under `NOT`; a `contains` is null there, so it stands under no `NOT`.
   * Every row was tested: 2.2–4.6 s for these at 10M rows. Undefined when no part reads as a filter or is left out.
   */
  private searchFilters(options: QueryOptions): QueryOptions | undefined {
    const conjuncts = (node: SearchNode): SearchNode[] =>
      node.kind === 'and' ? [...conjuncts(node.left), ...conjuncts(node.right)] : [node];
    // First the terms found in counted columns alone, then (knowing the values they and the $filter fix) the others.
    const read = (
      node: SearchNode,
      letterless?: ReadonlyMap<string, readonly LiteralValue[]>
    ): FilterNode | undefined => {
      if (node.kind === 'term') {
        const term = node.text.toLowerCase();
        // Found in counted columns alone? Not when the key's counters say a key holds it: no need to list the key's
        // candidates to know (`searchSources` lists up to `searchBudget()` of them: `8765` beside a customer number,
        // the Account page's search as a global search, read 7,000 in 2.4 ms at 10M rows, then walked the customer).
        const sources = (this.keyHolders(term) ?? 0) > 0 ? undefined : this.searchSources(term);
        if (sources && sources.others.length === 0) return this.valuesFilter(sources);
        return letterless && !/[a-z]/.test(term)
          ? this.containsFilter(term, letterless)
          : undefined;
      }
      if (node.kind === 'not') {
        // Not a term's `contains`: OData's is null on a null column, so `not` would drop the rows the search keeps.
        const operand = read(node.operand);
        return operand && { kind: 'not', operand, position: 0 };
      }
      const left = read(node.left, letterless);
      const right = left && read(node.right, letterless);
      return right && { kind: node.kind, left: left!, right, position: 0 };
    };
    // A term every row holds (`shp`: every key holds `SHP`) is true on every row: left out of the `AND`.
    const every = conjuncts(parseSearch(options.searchText!));
    const parts = every
      .filter((node) => node.kind !== 'term' || !this.heldByEveryRow(node.text.toLowerCase()))
      .map((node) => ({ node, filter: read(node) }));
    const fixed = new Map<string, readonly LiteralValue[]>();
    for (const node of [options.filterTree, ...parts.map((part) => part.filter)].flatMap((tree) =>
      tree ? conjunctsOf(tree) : []
    )) {
      const set = literalSet(node);
      if (set) fixed.set(set.property.column, set.values);
    }
    // Beside a counted column's values (the Account page's customer), the filter's machinery reads a term with no
    // letter through that column's index; elsewhere its search reads more candidates (`searchBudget`).
    if ([...fixed.keys()].some((column) => this.entity.counts?.columns.includes(column))) {
      for (const part of parts) part.filter ??= read(part.node, fixed);
    }
    const filters = parts.flatMap((part) => (part.filter ? [part.filter] : []));
    if (filters.length === 0 && parts.length === every.length) return undefined;
    const anded = [options.filterTree, ...filters].filter((node) => node !== undefined);
    const filterTree =
      anded.length > 0
        ? anded.reduce((left, right) => ({ kind: 'and', left, right, position: 0 }))
        : undefined;
    const rest = parts.flatMap((part) => (part.filter ? [] : [part.node]));
    const searchText =
      rest.length === 0
        ? undefined
        : writeSearch(rest.reduce((left, right) => ({ kind: 'and', left, right })));
    return {
      ...options,
      filterTree,
      filter: filterTree && compileFilter(filterTree),
      searchText,
      search: searchText === undefined ? undefined : compileSearch(searchText, this.entity)
    };
  }

  /** Whether every row holds a `$search` term (lower case) in one column, as its counters say. */
  private heldByEveryRow(term: string): boolean {
    const rows = this.tableRows();
    return (this.searchColumns() ?? []).some(({ property, read }) =>
      read === 'substrings'
        ? this.foldedSubstringCounter(property.column, term) === rows
        : read === 'counted' &&
          (this.termValues(property.column, term) ?? []).reduce((n, [, count]) => n + count, 0) ===
            rows
    );
  }

  /**
   * The rows a page of a `$search` of one frequent term (more candidates than its budget, see `resolveSearch`) reads,
   * as a condition on the rowid: the first `window.rows` rows (those `$skip` steps over and the page's) of the union of
   * each searchable column's first `window.rows` rows that hold the term, in the page's order and after a next link's
   * position (a query per keyset segment). They are the term's first `window.rows` rows, since each of those is among
   * the first of every column that holds the term. The key's are found by walking the order's index (which carries the
   * key, so no row is read for a key without the term) or from its candidates within `budget`, a counted column's value
   * by value through an index leading with the column and the order, a sparse column's from its few rows. A walk of the
   * order testing the term reads every row it meets (1.8 µs a row at 10M): `$search=0462` (21,000 matches) took 22 ms
   * to meet 26 of them, its next page 35–65 ms, and its page past `$skip=25` 60 ms. Undefined when a column cannot be
   * read so (more than 64 values, no such index).
   */
  private searchPageParts(
    term: string,
    sort: readonly SortKey[],
    window: PageWindow,
    budget: number
  ): SqlFragment | undefined {
    const table = quoteIdentifier(this.entity.table);
    const sortColumns = sort.map((k) => k.property.column);
    const orderBy = orderByClause(sort);
    // After a next link's position, one query per keyset segment (each a range the order's index seeks).
    const segments = window.after ? keysetSegments(sort, window.after) : [undefined];
    // Each part's rows with their sort keys, which the indexes that find them carry.
    const keys = sortColumns.map((column) => quoteIdentifier(column)).join(', ');
    const first = (where: SqlFragment): SqlFragment => {
      const selects = segments.map((segment) => ({
        sql:
          `SELECT * FROM (SELECT rowid AS part_rowid, ${keys} FROM ${table} WHERE ${where.sql}` +
          `${segment ? ` AND ${segment.sql}` : ''} ORDER BY ${orderBy} LIMIT ?)`,
        params: [...where.params, ...(segment?.params ?? []), window.rows]
      }));
      return {
        sql: selects.map((select) => select.sql).join(' UNION ALL '),
        params: selects.flatMap((select) => select.params)
      };
    };
    const parts: SqlFragment[] = [];
    const columns = this.searchColumns();
    if (!columns) return undefined;
    for (const { property, read } of columns) {
      const column = quoteIdentifier(property.column);
      const test = termTest(property.column, term);
      if (read === 'counted') {
        const values = this.termValues(property.column, term);
        if (!values || values.length > MAX_MERGED_VALUES) return undefined;
        if (values.length > 0 && this.orderIndexes([property.column, ...sortColumns]).length === 0)
          return undefined;
        for (const [value] of values) parts.push(first({ sql: `${column} = ?`, params: [value] }));
      } else if (read === 'substrings') {
        // Candidates within the page's budget (see `resolveSearch`), else a walk of the order's index entries.
        const candidates = this.termCandidates(
          property.column,
          term,
          budget,
          budget * this.trigramEntriesPerCandidate
        );
        if (candidates?.rows === 0) continue;
        // A walk in the page's order needs an index that serves it (one leads with each sortable column).
        if (!candidates && !this.orderIndex(sort)) return undefined;
        parts.push(
          first(
            candidates
              ? {
                  sql: `${rowidIn(this.entity.table, [candidates]).sql} AND ${test.sql}`,
                  params: [...candidates.params, ...test.params]
                }
              : test
          )
        );
      } else {
        const matching = this.termRows(property.column, term);
        if (matching.rows > 0) parts.push(first(rowidIn(this.entity.table, [matching])));
      }
    }
    if (parts.length === 0) return rowidIn(this.entity.table, []);
    // The first `window.rows` of their union in the page's order are the page's matches and those before it, found
    // from the sort keys the parts' indexes carry: the page then reads those rows, not every part's (`0057` past
    // `$skip=1000`, the first 1,026 rows of the key and of 11 customers each: 30 → 14 ms at 10M rows).
    return {
      sql:
        `${table}.rowid IN (SELECT part_rowid FROM (SELECT DISTINCT * FROM ` +
        `(${parts.map((part) => part.sql).join(' UNION ALL ')})) ORDER BY ${orderBy} LIMIT ?)`,
      params: [...parts.flatMap((part) => part.params), window.rows]
    };
  }

  /**
   * The rows whose trigram index entries hold every trigram of `text` (a superset of those containing it, in any
   * case), as a query of their rowids, with how many there are; undefined when `column` has no such index, `text`
   * has no trigram, or there are more than `budget` (found by reading at most one more). The rare trigrams are asked
   * first and the common ones only when those give too many rows (`trigramQueries`). The rowids are read into a list
   * as they are counted, and the query is of that list: a page or count reading the rows then does not intersect the
   * index entries again (`3004` at 10M rows: 4.4 ms for the 8,300 rowids holding both `300` and `004`). The caller
   * reads them in the same snapshot (see `page`). A caller that would walk instead gives `maxEntries`: a query whose
   * trigrams have more index entries than that between them (their substring counters say) is not asked, since
   * intersecting them reads every entry (`300 AND 004`: 1.2 million, 9 ms at 10M rows).
   */
  private substringCandidates(
    column: string,
    text: string,
    budget = this.maxSubstringCandidates,
    maxEntries = Infinity
  ): RowSource | undefined {
    const index = this.substringIndexes.get(column);
    if (index === undefined) return undefined;
    // A text its substring counter counts has at least that many candidates: past the budget, none is read.
    if ((this.substringCounter(column, text) ?? 0) > budget) return undefined;
    const share = this.trigramShare(column);
    // What turns a trigram's share of the values into its index entries, read only when they are bounded (0 without
    // counters: no entries are then weighed).
    const tableRows = maxEntries === Infinity ? 0 : this.tableRows();
    const name = quoteIdentifier(index);
    const sql =
      `SELECT count(*), json_group_array(rowid) FROM ` +
      `(SELECT rowid FROM ${name} WHERE ${name} MATCH ? LIMIT ?)`;
    // The first query within the budget, unless it gives more than a page's candidates: a later one, which adds
    // common trigrams, then often gives far fewer (`3004`: 46,000 rows hold 300, 8,300 both 300 and 004), and
    // intersecting index entries costs less than reading rows.
    let fewest: RowSource | undefined;
    for (const { match, trigrams } of trigramQueries(text, share)) {
      // One trigram's candidates are at least the values its substring counter counts (in that case alone): past the
      // budget, they are not listed (`300` of `3004`: 46,000 rows, 1.3 ms to list 14,143 of them at 10M rows).
      if (trigrams.length === 1 && (this.substringCounter(column, trigrams[0]!) ?? 0) > budget)
        continue;
      // Intersecting trigrams reads every index entry of each: past `maxEntries`, the caller's walk costs less.
      if (trigrams.reduce((n, t) => n + share(t.toLowerCase()) * tableRows, 0) > maxEntries)
        continue;
      const key = JSON.stringify([index, match]);
      let found = this.trigramCandidates.get(key);
      if (!found || (found.rowids === undefined && found.rows <= budget)) {
        const params = [match, budget + 1];
        this.lastQueries.push({ sql, params });
        const [rows, rowids] = this.statement(sql)
          .raw()
          .get(...params) as [number, string];
        found = rows <= budget ? { rows, rowids } : { rows };
        this.trigramCandidates.set(key, found);
      }
      const { rows, rowids } = found;
      if (rowids !== undefined && rows <= budget && (!fewest || rows < fewest.rows)) {
        fewest = { sql: 'SELECT value FROM json_each(?)', params: [rowids], rows };
      }
      if (fewest && fewest.rows <= this.maxSubstringCandidates) break;
    }
    return fewest;
  }

  /**
   * How common a trigram (lower case) is among the values of `column`, for `trigramQueries`: exactly, from the
   * column's substring counters when it has them (a value holding a trigram in two cases counts twice: a guess that
   * only shapes the plan), else from a sample of its values. Evenly spaced sample keys share digit patterns: the
   * sample took `137` for common at 10M rows, so `contains(ShipmentNumber,'2137')` read its 46,000 `213` candidates
   * instead of the 4,500 holding both (28 → 8 ms).
   */
  private trigramShare(column: string): (trigram: string) => number {
    let counted = this.trigramCounts.get(column);
    const substrings = this.entity.counts?.substrings?.find(
      (c) => c.column === column && c.length >= 3
    );
    if (!counted && substrings && this.counter) {
      const dimension = substringDimension(substrings);
      const total = this.counter.get(dimension, '') as number | undefined;
      if (total !== undefined) {
        const rows = this.db
          .prepare(
            `SELECT lower(substr(value, 3)), sum(n) FROM ${quoteIdentifier(this.entity.counts!.table)} ` +
              `WHERE dimension = ? AND value GLOB 'v:*' AND length(value) = 5 GROUP BY 1`
          )
          .raw()
          .all(dimension) as [string, number][];
        counted = { total, trigrams: new Map(rows) };
        this.trigramCounts.set(column, counted);
      }
    }
    if (counted) {
      const { total, trigrams } = counted;
      return (trigram) => (trigrams.get(trigram) ?? 0) / Math.max(1, total);
    }
    const sample = this.valueSample(column);
    return (trigram) =>
      sample.filter((value) => value.includes(trigram)).length / Math.max(1, sample.length);
  }

  /**
   * Up to `VALUE_SAMPLE_SIZE` values of `column` (lower case), at rowids spread evenly between the first and the last:
   * enough to tell a trigram nearly every value holds, which is all it is used for (a wrong guess costs time only).
   */
  private valueSample(column: string): string[] {
    let sample = this.valueSamples.get(column);
    if (!sample) {
      const table = quoteIdentifier(this.entity.table);
      const [first, last] = this.db
        // Two subqueries: SQLite reads a lone min() or max() from one end; both in one walk the whole table.
        .prepare(`SELECT (SELECT min(rowid) FROM ${table}), (SELECT max(rowid) FROM ${table})`)
        .raw()
        .get() as [number | null, number | null];
      const rowids =
        first === null || last === null
          ? []
          : Array.from({ length: VALUE_SAMPLE_SIZE }, (_, i) =>
              Math.round(first + ((last - first) * i) / (VALUE_SAMPLE_SIZE - 1))
            );
      sample = (
        this.db
          .prepare(
            `SELECT lower(${quoteIdentifier(column)}) FROM ${table} WHERE rowid IN (SELECT value FROM json_each(?))`
          )
          .pluck()
          .all(JSON.stringify(rowids)) as (string | null)[]
      ).filter((value): value is string => value !== null);
      this.valueSamples.set(column, sample);
    }
    return sample;
  }

  /**
   * The rows an `or` of string functions may be true on, as a condition on the rowid, when every function's rows can
   * be read from an index and there are at most `budget` of them in all: a counted column's values that satisfy it,
   * the key's trigram candidates, a sparse column's rows that match. SQLite then reads those rows and tests the `or`
   * on them, where it would otherwise test it on every row it walks (the Account page's search: one term in five
   * columns of a customer's rows). Undefined otherwise.
   */
  private unionSources(
    node: FilterNode,
    budget: number,
    maxEntries = Infinity
  ): SqlFragment | undefined {
    const counts = this.entity.counts;
    const leaves = disjunctsOf(node);
    const selects: RowSource[] = [];
    let rows = 0;
    for (const leaf of leaves) {
      if (leaf.kind !== 'call') return undefined;
      const [subject, search] = leaf.args;
      if (subject.kind !== 'property' || search.kind !== 'literal') return undefined;
      if (typeof search.value !== 'string') return undefined;
      const column = subject.property.column;
      let source: RowSource | undefined;
      if (counts?.columns.includes(column)) {
        const values = this.countedValues(
          column,
          'value GLOB ?',
          `v:${globPattern(leaf.name, search.value)}`
        );
        if (!values) return undefined;
        if (values.length === 0) continue;
        source = this.valueRows(column, values);
      } else if (leaf.name !== 'startswith' && this.substringIndexes.has(column)) {
        source = this.substringCandidates(column, search.value, budget - rows, maxEntries);
        if (!source) return undefined;
      } else if (this.isSparse(subject.property)) {
        source = this.sparseRows(column, compileFilter(leaf));
      } else return undefined;
      rows += source.rows;
      if (rows > budget) return undefined;
      selects.push(source);
    }
    return rowidIn(this.entity.table, selects);
  }

  /** The rows of a `$filter` node the maintained counters count (an `eq`/`in` on a counted column), else undefined. */
  private countedRows(node: FilterNode): number | undefined {
    const keys = this.counter && this.counterKeysOf(node);
    return keys ? this.counterSum(keys) : undefined;
  }

  /** The sum of the maintained counters at `keys` (see `counterKeys`), each with its sign; 0 without counters. */
  private counterSum(keys: readonly CounterKey[]): number {
    const counter = this.counter;
    return counter
      ? keys.reduce(
          (n, [dimension, value, sign]) =>
            n + (sign ?? 1) * ((counter.get(dimension, value) as number | undefined) ?? 0),
          0
        )
      : 0;
  }

  /** The table's rows, from its maintained counter; 0 without counters. */
  private tableRows(): number {
    return this.counterSum([['*', '']]);
  }

  /** The rowids of the rows whose `column` holds one of the counted `values` (read through its index), and how many. */
  private valueRows(column: string, values: readonly [string, number][]): RowSource {
    return {
      sql: `SELECT rowid FROM ${quoteIdentifier(this.entity.table)} WHERE ${quoteIdentifier(column)} IN (${values.map(() => '?').join(', ')})`,
      params: values.map(([value]) => value),
      rows: values.reduce((n, [, count]) => n + count, 0)
    };
  }

  /**
   * The rowids of the rows a sparse `column` is set on that satisfy `condition` (read through its index), and how
   * many, counted now.
   */
  private sparseRows(column: string, condition: SqlFragment): RowSource {
    const matching =
      `SELECT rowid FROM ${quoteIdentifier(this.entity.table)} ` +
      `WHERE ${quoteIdentifier(column)} IS NOT NULL AND ${condition.sql}`;
    const sql = `SELECT count(*) FROM (${matching})`;
    this.lastQueries.push({ sql, params: condition.params });
    const rows = this.statement(sql)
      .pluck()
      .get(...condition.params) as number;
    return { sql: matching, params: condition.params, rows };
  }

  /**
   * Where the rows holding one `$search` term (lower case) in some searchable column are, read from indexes: for
   * each counted column, its values that contain the term, with their rows; the key's trigram candidates; the rows of
   * a sparse column that contain it. Together they hold every matching row (and a few more: the candidates). Undefined
   * when a column can be read no such way, or has more than `maxResolvedValues` values or `budget` candidates that
   * match. Kept for the `page`/`count` call: a page's resolution, its count's and `searchCount` ask.
   */
  private searchSources(
    term: string,
    budget = this.searchBudget(),
    maxEntries = Infinity
  ): SearchSources | undefined {
    const key = JSON.stringify([term, budget, maxEntries]);
    if (!this.searchSourcesOfTerm.has(key)) {
      this.searchSourcesOfTerm.set(key, this.searchSourcesNow(term, budget, maxEntries));
    }
    return this.searchSourcesOfTerm.get(key);
  }

  /** `searchSources`, read now. */
  private searchSourcesNow(
    term: string,
    budget: number,
    maxEntries: number
  ): SearchSources | undefined {
    const columns = this.searchColumns();
    if (!columns) return undefined;
    const sources: SearchSources = { values: [], others: [] };
    for (const { property, read } of columns) {
      if (read === 'counted') {
        const values = this.termValues(property.column, term);
        if (!values) return undefined;
        if (values.length > 0) sources.values.push({ property, values });
      } else if (read === 'substrings') {
        const candidates = this.termCandidates(property.column, term, budget, maxEntries);
        if (!candidates) return undefined;
        if (candidates.rows > 0) sources.others.push(candidates);
      } else {
        const matching = this.termRows(property.column, term);
        if (matching.rows > 0) sources.others.push(matching);
      }
    }
    return sources;
  }

  /**
   * The rows that may hold a `$search` term, as a condition on the rowid (see `searchSources`), when they are at most
   * `searchBudget()`: SQLite then reads those rows, and the term's own test on them (`compileSearch`), instead of
   * testing every row. More rows mean a frequent term, which the order's own walk meets soon enough.
   */
  private searchCandidates(
    sources: SearchSources | undefined,
    budget = this.searchBudget()
  ): SqlFragment | undefined {
    if (!sources) return undefined;
    const selects = [
      ...sources.values.map(({ property, values }) => this.valueRows(property.column, values)),
      ...sources.others
    ];
    const rows = selects.reduce((n, select) => n + select.rows, 0);
    if (rows > budget) return undefined;
    return rowidIn(this.entity.table, selects);
  }

  /** The values of a counted column that hold a `$search` term (lower case), as `compileSearch` tests it. */
  private termValues(column: string, term: string): [string, number][] | undefined {
    return this.countedValues(
      column,
      `substr(value, 1, 2) = 'v:' AND ${containsTerm('substr(value, 3)', term)}`,
      term
    );
  }

  /**
   * Each searchable column, and how a `$search` term is read in it: through its values' counts, its trigram index or
   * (a sparse column) its few rows; undefined when a column can be read no such way (it is then tested on every row).
   */
  private searchColumns():
    { property: PropertyDefinition; read: 'counted' | 'substrings' | 'sparse' }[] | undefined {
    const columns: { property: PropertyDefinition; read: 'counted' | 'substrings' | 'sparse' }[] =
      [];
    for (const property of this.entity.properties) {
      if (!property.searchable) continue;
      if (this.entity.counts?.columns.includes(property.column)) {
        columns.push({ property, read: 'counted' });
      } else if (this.substringIndexes.has(property.column)) {
        columns.push({ property, read: 'substrings' });
      } else if (this.isSparse(property)) {
        columns.push({ property, read: 'sparse' });
      } else return undefined;
    }
    return columns;
  }

  /**
   * The rows of a column with a trigram index that may hold a `$search` term (lower case): none when its counters say
   * that no value holds the term in any case (`foldedSubstringCounter`), where a term too short for a trigram has no
   * candidates and a page would walk the whole index for it (`ex`: 0.8 s at 10M rows); else its candidates, at most
   * `budget` of them (see `substringCandidates`).
   */
  private termCandidates(
    column: string,
    term: string,
    budget: number,
    maxEntries = Infinity
  ): RowSource | undefined {
    if (this.foldedSubstringCounter(column, term) === 0) {
      return {
        sql: `SELECT rowid FROM ${quoteIdentifier(this.entity.table)} WHERE 0`,
        params: [],
        rows: 0
      };
    }
    return this.substringCandidates(column, term, budget, maxEntries);
  }

  /** The rows of a sparse column that hold a `$search` term (lower case), as `compileSearch` tests it. */
  private termRows(column: string, term: string): RowSource {
    return this.sparseRows(column, {
      sql: containsTerm(quoteIdentifier(column), term),
      params: [term]
    });
  }

  /**
   * How many of a `$search` term's candidates cost what walking the order to the `rows`-th row holding it costs, when
   * the key's counters say how many keys hold it (`foldedSubstringCounter`): a walk meets about rows × the table's
   * rows / those keys entries (as if they were spread over the order), and a candidate costs a row's read,
   * ROW_READ_COST_IN_ENTRIES entries. At most the table's rows / ROW_READ_COST_IN_ENTRIES (a walk of the whole index
   * costs no more); 0 when no counter says. `$search=0462` at 10M rows (13,999 keys hold it): its 14,297 candidates
   * are read for a page past `$skip=1000` (55 → 28 ms) or `$skip=5000` (0.7 s → 27 ms), not for its first pages. A
   * page read from each column's first rows takes the key's from its candidates within this too (`0113` past
   * `$skip=1000`: 62 → 32 ms).
   */
  private walkedCandidates(term: string, rows: number): number {
    const holders = this.keyHolders(term);
    return holders ? this.candidatesWorthWalking(holders, rows) : 0;
  }

  /**
   * How many candidates cost what walking the order to its `rows`-th match costs when `holders` of the table's rows
   * match: the walk meets about rows × the table's rows / holders entries, a candidate costs ROW_READ_COST_IN_ENTRIES
   * of them, and a walk of the whole index costs no more (see `walkedCandidates`).
   */
  private candidatesWorthWalking(holders: number, rows: number): number {
    const entries = Math.min((rows * this.tableRows()) / holders, this.tableRows());
    return Math.floor(entries / ROW_READ_COST_IN_ENTRIES);
  }

  /** How many keys hold a `$search` term, when the key's substring counters say (see `foldedSubstringCounter`). */
  private keyHolders(term: string): number | undefined {
    const key = this.searchColumns()?.find((column) => column.read === 'substrings');
    return key && this.foldedSubstringCounter(key.property.column, term);
  }

  /**
   * Most candidate rows a `$search` term is read through (see `SEARCH_CANDIDATE_FACTOR`): more than a substring
   * filter's, since a walk tests the term on five columns of each row it meets.
   */
  private searchBudget(): number {
    const rows = this.tableRows();
    return Math.max(
      this.maxSubstringCandidates,
      Math.floor(Math.sqrt(rows * this.searchCandidateFactor))
    );
  }

  /**
   * The count of a `$search` of one term (once the terms every row holds are left out) and no `$filter`, from its
   * columns read apart: Connect asks `$count=true` with every global search and SOSL query while the data source's
   * row counts are on, and testing every row takes seconds at 10M rows. The term matches a row when any searchable
   * column contains it, so its rows are the disjoint parts "column i contains it and no column before i does".
   * Columns whose counters count their union are counted together first (`countedUnions`); else one column is
   * counted without reading its rows: the one whose rows would cost the most to read (the key from its substring
   * counters, see `foldedSubstringCounter`, its rows being candidates; a counted column from its values' counts), else
   * the next. Every other column's rows are read through its index (a counted column's values, the key's trigram
   * candidates, a sparse column's rows), fewest tests for the most rows, while that costs less than a third of testing
   * every row (see below).
   * `$search=37` at 10M rows: the key's counter and the rows of the 20 customers whose number holds it, against every
   * row; `3004`: its counter alone, against reading its 4,300 candidates. Undefined otherwise.
   */
  private searchCount(asked: QueryOptions): number | undefined {
    if (asked.filterTree || asked.searchText === undefined) return undefined;
    // Several terms of which one is left once those every row holds are (`shp 12`): that one.
    const split =
      soleSearchTerm(asked.searchText) === undefined ? this.searchFilters(asked) : undefined;
    const options = split && !split.filterTree ? split : asked;
    const term = options.searchText === undefined ? undefined : soleSearchTerm(options.searchText);
    if (term === undefined) return undefined;
    const budget = this.countingBudget();
    /** The rows that may hold the term in a column, read through an index, and whether each of them does. */
    type ColumnRows = { driver: SqlFragment; rows: number; exact: boolean };
    const columns: {
      column: string;
      /** How its rows are read (see `searchColumns`). */
      read: 'counted' | 'substrings' | 'sparse';
      /** The column's own test, as `compileSearch` writes it (false, never null, on a null column). */
      test: SqlFragment;
      /** How many rows hold the term in this column, when counters say so. */
      counted?: number;
      /** A counted column's values that hold the term. */
      values?: readonly string[];
      /** Its rows, found when first asked (the key's candidates are read only when it is not the counted column). */
      rows: () => ColumnRows | undefined;
    }[] = [];
    const once = (find: () => ColumnRows | undefined): (() => ColumnRows | undefined) => {
      let found: { rows: ColumnRows | undefined } | undefined;
      return () => (found ??= { rows: find() }).rows;
    };
    const searched = this.searchColumns();
    if (!searched) return undefined;
    for (const { property, read } of searched) {
      const column = quoteIdentifier(property.column);
      const test = termTest(property.column, term);
      if (read === 'counted') {
        const values = this.termValues(property.column, term);
        if (!values) return undefined;
        const rows = values.reduce((n, [, count]) => n + count, 0);
        const driver = {
          sql: values.length ? `${column} IN (${values.map(() => '?').join(', ')})` : '0',
          params: values.map(([value]) => value)
        };
        columns.push({
          column: property.column,
          read,
          test,
          counted: rows,
          values: values.map(([value]) => value),
          rows: () => ({ driver, rows, exact: true })
        });
      } else if (read === 'substrings') {
        const counted = this.foldedSubstringCounter(property.column, term);
        columns.push({
          column: property.column,
          read,
          test,
          counted,
          rows: once(() => {
            const candidates = this.termCandidates(property.column, term, budget);
            return (
              candidates && {
                driver: rowidIn(this.entity.table, [candidates]),
                rows: candidates.rows,
                exact: false
              }
            );
          })
        });
      } else {
        columns.push({
          column: property.column,
          read,
          test,
          rows: once(() => {
            const matching = this.termRows(property.column, term);
            return {
              driver: rowidIn(this.entity.table, [matching]),
              rows: matching.rows,
              exact: true
            };
          })
        });
      }
    }
    const rows = this.tableRows();
    type Column = (typeof columns)[number];
    // The columns counted without reading their rows: first those whose counters count their union, then the column
    // whose rows would cost the most to read, else the next, else none. A candidate costs CANDIDATE_COST_IN_TESTED_ROWS
    // rows of a counted value, which an index leading with the value and carrying the key reads with the key's test:
    // `0031`, held by 113,979 keys and the numbers of 111 customers (about as many rows), counts the key and reads the
    // customers' rows (55 → 14 ms at 10M rows), not the key's 200,000 candidates.
    const readCost = (c: Column): number =>
      c.counted! * (c.read === 'substrings' ? CANDIDATE_COST_IN_TESTED_ROWS : 1);
    const firsts: ({ columns: readonly Column[]; counted: number } | undefined)[] = [
      ...this.countedUnions(term, columns),
      ...columns
        .filter((c) => c.counted !== undefined)
        .sort((a, b) => readCost(b) - readCost(a))
        .map((c) => ({ columns: [c], counted: c.counted! })),
      undefined
    ];
    // A term whose candidates are few is better read once for a page and its count (see `fewRows`), unless the
    // counters spare reading them: asked only then, since listing them costs (`3004`: 4.6 ms at 10M rows).
    const few = (): boolean => this.searchCandidates(this.searchSources(term)) !== undefined;
    for (const counted of firsts) {
      // Every row holds it (`00` in every key): nothing more to read.
      if (counted?.counted === rows) return rows;
      const isCounted = (column: Column): boolean => counted?.columns.includes(column) ?? false;
      if (columns.some((c) => c.read === 'substrings' && c.counted !== 0 && !isCounted(c)) && few())
        return undefined;
      const read: (ColumnRows & { test: SqlFragment; column: string; valueRows: boolean })[] = [];
      for (const column of columns) {
        const found = isCounted(column) ? undefined : column.rows();
        if (found) {
          read.push({
            ...found,
            test: column.test,
            column: column.column,
            valueRows: column.read === 'counted'
          });
        }
      }
      if (read.length < columns.length - (counted?.columns.length ?? 0)) continue;
      read.sort((a, b) => b.rows - a.rows);
      // What reading the parts costs, in rows of a counted value that an index leading with the value reads with the
      // tests of the columns before it, which it carries (its entries alone); a candidate, a sparse column's row, or
      // a value's row no such index carries costs a row's read, CANDIDATE_COST_IN_TESTED_ROWS of them. Within the
      // table's rows, that is less than a third of testing the term on every row: `0001` at 10M rows counted the key
      // and read the 2.06 million rows of the customers whose number holds it through their index (2.9 s → 0.2 s).
      let cost = 0;
      const tested = counted?.columns.map((c) => c.column) ?? [];
      for (const part of read) {
        const carried =
          part.valueRows &&
          this.indexes.some(
            (index) =>
              index.columns[0] === part.column && tested.every((c) => index.columns.includes(c))
          );
        cost += part.rows * (carried ? 1 : CANDIDATE_COST_IN_TESTED_ROWS);
        tested.push(part.column);
      }
      if (cost > Math.max(budget * CANDIDATE_COST_IN_TESTED_ROWS, rows)) continue;
      return this.countSearchParts(
        counted && { tests: counted.columns.map((c) => c.test), counted: counted.counted },
        read
      );
    }
    return undefined;
  }

  /**
   * Groups of `searchCount`'s columns whose counters count the rows where any of them holds `term` (lower case),
   * with that count, so that none of their rows is read:
   * - the key (its substring counter) and a counted column whose key-substring counters count the rows where both
   *   hold it (`keySubstringOverlap`): `$search=01` at 10M rows, held by 1.6 million keys and the numbers of 112
   *   customers, read those customers' 2 million rows with the key's test (150 ms);
   * - the counted columns that hold it, when a tuple of the tuple counters holds them all (`tupleSum`): `er`, in
   *   statuses and cities, read the rows of the statuses that hold it, or the cities', with the others' test (150 ms).
   */
  private countedUnions<
    Column extends {
      column: string;
      read: string;
      test: SqlFragment;
      counted?: number;
      values?: readonly string[];
    }
  >(term: string, columns: readonly Column[]): { columns: Column[]; counted: number }[] {
    const unions: { columns: Column[]; counted: number }[] = [];
    const valued = columns.filter((c) => c.read === 'counted' && c.values!.length > 0);
    const key = columns.find((c) => c.read === 'substrings' && c.counted);
    if (key) {
      for (const column of valued) {
        const overlap = this.keySubstringOverlap(column.column, column.values!, term);
        if (overlap !== undefined) {
          unions.push({
            columns: [key, column],
            counted: key.counted! + column.counted! - overlap
          });
        }
      }
    }
    if (valued.length > 1) {
      const either = valued.map((c) => c.test);
      const counted = this.tupleSum(
        valued.map((c) => c.column),
        {
          sql: either.map((test) => test.sql).join(' OR '),
          params: either.flatMap((test) => test.params)
        }
      );
      if (counted !== undefined) unions.push({ columns: valued, counted });
    }
    return unions;
  }

  /**
   * How many rows of `values` of `column` have a key that holds `term` (lower case), from the column's key-substring
   * counters (SHIPMENT_KEY_SUBSTRING_COUNTED_COLUMNS), which count a value's own substrings: each of `values` must
   * hold the term. Undefined when no complete counters count the term (a column without them, or a longer term).
   */
  private keySubstringOverlap(
    column: string,
    values: readonly string[],
    term: string
  ): number | undefined {
    const counted = this.entity.counts?.keySubstrings?.find(
      (c) => c.column === column && c.key === this.entity.key.column
    );
    const length = Array.from(term).length;
    if (!this.counter || !counted || length === 0 || length > counted.length) return undefined;
    const dimension = keySubstringDimension(counted);
    const table = quoteIdentifier(this.entity.counts!.table);
    const sql =
      `SELECT (SELECT n FROM ${table} WHERE dimension = ? AND value = ''), ` +
      `(SELECT coalesce(sum(n), 0) FROM ${table} WHERE dimension = ? AND value IN ` +
      `(SELECT json_array(value, ?) FROM json_each(?)))`;
    const params = [dimension, dimension, term, JSON.stringify(values)];
    this.lastQueries.push({ sql, params });
    const [complete, n] = this.statement(sql)
      .raw()
      .get(...params) as [number | null, number];
    return complete === null ? undefined : n;
  }

  /**
   * `searchCount`'s parts: `counted`'s rows, then each column's rows that no column before it holds the term in.
   */
  private countSearchParts(
    counted: { tests: readonly SqlFragment[]; counted: number } | undefined,
    read: readonly { driver: SqlFragment; rows: number; exact: boolean; test: SqlFragment }[]
  ): number {
    const table = quoteIdentifier(this.entity.table);
    const parts: SqlFragment[] = [];
    const before: SqlFragment[] = [...(counted?.tests ?? [])];
    for (const column of read) {
      if (column.rows > 0) {
        const conditions = [
          column.driver,
          ...(column.exact ? [] : [column.test]),
          ...before.map((test) => ({ sql: `NOT ${test.sql}`, params: test.params }))
        ];
        parts.push({
          sql: `(SELECT count(*) FROM ${table} WHERE ${conditions.map((c) => c.sql).join(' AND ')})`,
          params: conditions.flatMap((c) => c.params)
        });
      }
      before.push(column.test);
    }
    if (parts.length === 0) return counted?.counted ?? 0;
    const sql = `SELECT ${parts.map((part) => part.sql).join(' + ')}`;
    const params = parts.flatMap((part) => part.params);
    this.lastQueries.push({ sql, params });
    return (
      (counted?.counted ?? 0) +
      (this.statement(sql)
        .pluck()
        .get(...params) as number)
    );
  }

  /** The one property a `$filter` node reads, when it reads exactly one. */
  private soleProperty(node: FilterNode): PropertyDefinition | undefined {
    const columns = new Set(filterColumns(node));
    const [column] = columns;
    return columns.size === 1 ? this.entity.properties.find((p) => p.column === column) : undefined;
  }

  /**
   * A `$filter` node that reads one counted column alone (a range, a string function, a negation, or any of them
   * combined), as `in` the column's values it holds for (NULL among them when it holds for NULL): the node itself is
   * tested on each value the maintained counts know, in SQL, so its semantics are the rows' own (three-valued logic
   * under `not` too). The filter is then counted exactly by the counters and walked like a list-view filter, where it
   * would otherwise test every row (`Status ge 'Delivered'` newest first: 12 s at 10M rows; `Carrier ne 'DB
   * Schenker'` sorted by Carrier, which SQLite then reads value by value in order: 84 ms to under 1 ms). Undefined for
   * an `eq`/`in` of literals (the counters answer it as written), for any other node, and past `maxResolvedValues`
   * values.
   */
  private countedColumnValues(node: FilterNode): FilterNode | undefined {
    const counts = this.entity.counts;
    if (!this.counter || !counts || node.kind === 'property' || node.kind === 'literal')
      return undefined;
    if (literalSet(node)) return undefined;
    const property = this.soleProperty(node);
    if (!property || !counts.columns.includes(property.column)) return undefined;
    const column = property.column;
    const test = compileFilter(node);
    const sql =
      `SELECT "counter value" FROM (SELECT CASE WHEN value = 'null' THEN NULL ELSE substr(value, 3) END ` +
      `AS ${quoteIdentifier(column)}, value AS "counter value" FROM ${quoteIdentifier(counts.table)} ` +
      `WHERE dimension = ? AND n > 0) WHERE ${test.sql} LIMIT ?`;
    const params = [column, ...test.params, this.maxResolvedValues + 1];
    const key = JSON.stringify([sql, params]);
    if (!this.columnValuesRead.has(key)) {
      this.lastQueries.push({ sql, params });
      const read = this.statement(sql)
        .pluck()
        .all(...params) as string[];
      this.columnValuesRead.set(key, read.length > this.maxResolvedValues ? undefined : read);
    }
    const values = this.columnValuesRead.get(key);
    if (!values) return undefined;
    return {
      kind: 'in',
      operand: { kind: 'property', type: 'string', property, position: node.position },
      list: values
        .map(counterValue)
        .map((value) =>
          value === null
            ? { kind: 'literal', type: 'null', value, position: node.position }
            : { kind: 'literal', type: 'string', value, position: node.position }
        ),
      position: node.position
    };
  }

  /**
   * A `$filter` node that reads one sparse column alone (see `isSparse`) and is not true where it is null (a string
   * function, a range, "does not contain"), as the keys of the rows its index holds that it is true on: a row is then
   * tested by looking its key up in that small set instead of reading it (the Account page's search tests OrderNumber
   * on every row of a customer), and SQLite may start from those rows (`not contains(OrderNumber,'99')`, set on one
   * shipment in 3,000: a walk of every row, 0.36 s at 10M, otherwise). Exact where the filter needs the node true
   * (where `resolveSubstrings` reads it). Undefined for an `eq`/`in` of literals (the column's index serves it as
   * written) and for any other node.
   */
  private sparseColumnRows(node: FilterNode): SqlFragment | undefined {
    if (node.kind === 'property' || node.kind === 'literal' || literalSet(node)) return undefined;
    const property = this.soleProperty(node);
    if (!property || !this.isSparse(property)) return undefined;
    const column = property.column;
    const test = compileFilter(node);
    const onNull = `SELECT (${test.sql}) FROM (SELECT NULL AS ${quoteIdentifier(column)})`;
    this.lastQueries.push({ sql: onNull, params: test.params });
    if (
      this.statement(onNull)
        .pluck()
        .get(...test.params) === 1
    )
      return undefined;
    const table = quoteIdentifier(this.entity.table);
    const key = quoteIdentifier(this.entity.key.column);
    return {
      sql: `(${key} IN (SELECT ${key} FROM ${table} WHERE ${quoteIdentifier(column)} IS NOT NULL AND ${test.sql}))`,
      params: test.params
    };
  }

  /**
   * The values of a counted column (with their rows) that satisfy `condition` on the counts' `value` (`v:` and the
   * text), with `param` bound to its `?`; undefined when there are no maintained counts or more than
   * `maxResolvedValues` such values. Kept for the `page`/`count` call.
   */
  private countedValues(
    column: string,
    condition: string,
    param: string
  ): [string, number][] | undefined {
    const counts = this.entity.counts;
    if (!this.counter || !counts) return undefined;
    const key = JSON.stringify([column, condition, param]);
    if (this.countedValuesRead.has(key)) return this.countedValuesRead.get(key);
    const sql =
      `SELECT substr(value, 3), n FROM ${quoteIdentifier(counts.table)} ` +
      `WHERE dimension = ? AND n > 0 AND ${condition} LIMIT ?`;
    const params = [column, param, this.maxResolvedValues + 1];
    this.lastQueries.push({ sql, params });
    const values = this.statement(sql)
      .raw()
      .all(...params) as [string, number][];
    const found = values.length > this.maxResolvedValues ? undefined : values;
    this.countedValuesRead.set(key, found);
    return found;
  }

  /**
   * Whether a column is nullable, not counted, and set on at most `maxSparseRows` rows, found by reading at most that
   * many entries of an index that leads with it (0.3 ms for a column set on every row at 10M). The answer is kept
   * while the versions of the rows and of the column stand still, when the table has versions: every condition on
   * such a column asks.
   */
  private isSparse(property: PropertyDefinition): boolean {
    if (!property.nullable || this.entity.counts?.columns.includes(property.column)) return false;
    if (!this.indexes.some((index) => index.columns[0] === property.column)) return false;
    let stamp: string | undefined;
    if (this.versionReader) {
      const table = this.entity.version!.name;
      const versions = new Map(this.versionReader.all(table, table, table) as [string, number][]);
      stamp = `${versions.get(table)}:${versions.get(`${table}.${property.column}`)}`;
      const known = this.sparseness.get(property.column);
      if (known?.stamp === stamp) return known.sparse;
    }
    const column = quoteIdentifier(property.column);
    const sql =
      `SELECT count(*) FROM (SELECT 1 FROM ${quoteIdentifier(this.entity.table)} ` +
      `WHERE ${column} IS NOT NULL LIMIT ?)`;
    const params = [this.maxSparseRows + 1];
    this.lastQueries.push({ sql, params });
    const sparse =
      (this.statement(sql)
        .pluck()
        .get(...params) as number) <= this.maxSparseRows;
    if (stamp !== undefined) this.sparseness.set(property.column, { stamp, sparse });
    return sparse;
  }

  /** A cached prepared statement (the SQL text only ever varies with the query's shape). */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= 500) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private where(options: QueryOptions, extra?: Segment): Segment {
    const parts: string[] = [];
    const params: unknown[] = [];
    for (const fragment of [options.filter, options.search, extra]) {
      if (fragment) {
        parts.push(fragment.sql);
        params.push(...fragment.params);
      }
    }
    return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
  }

  /** Forgets what the last `page`/`count` call read and kept for itself. */
  private startRequest(): void {
    this.lastQueries = [];
    this.trigramCandidates.clear();
    this.searchSourcesOfTerm.clear();
    this.countedValuesRead.clear();
    this.columnValuesRead.clear();
    this.foldedCounts.clear();
  }

  /**
   * Number of rows matching `$filter` and `$search` (`$top`/`$skip` do not apply, as OData says), read in one
   * snapshot: the candidate rowids read to resolve the query are those of the rows then counted.
   */
  count(options: QueryOptions): number {
    return this.snapshot(() => {
      this.startRequest();
      // A short substring its counter counts is not resolved first: resolving lists its candidates, which the counter
      // then spares reading (`contains(ShipmentNumber,'0012')`: 113,979 rowids, 10 ms at 10M rows).
      const substring = this.substringCount(options);
      if (substring !== undefined) return substring;
      const counting = this.resolveSubstrings(options, this.countingBudget());
      return this.countResolved(counting, options, () => counting);
    });
  }

  /**
   * `count` of options whose string functions are already resolved (see `resolveSubstrings`), asked as `asked`: from
   * the maintained counters when they answer it, else kept between requests (see `KnownCounts`) when the table has
   * versions. A kept count is keyed by the query as asked and repaired with its plain predicates: what the resolved
   * one reads from indexes (a term's candidates, the cities that contain it) changes with the rows. Rows are counted
   * as `counting()` resolves them: with the counting budget (see `countingBudget`).
   */
  private countResolved(
    options: QueryOptions,
    asked: QueryOptions,
    counting: () => QueryOptions
  ): number {
    return (
      this.countedFromCounters(options) ??
      this.keptCount(asked, () => {
        // A search term counted from its columns apart is counted as asked: resolving it lists its candidates.
        const searched = this.searchCount(asked);
        if (searched !== undefined) return searched;
        const resolved = counting();
        return this.complementCount(resolved) ?? this.countRows(resolved);
      })
    );
  }

  /**
   * How many candidate rows a count reads through indexes (a substring's trigram candidates) rather than testing
   * every row: while reading them costs less than walking the table, its rows / ROW_READ_COST_IN_ENTRIES (333,333 at
   * 10M rows), and at least `maxSubstringCandidates`. A page reads fewer (it stops after `$top` matches), but a count
   * walks every row: a five-digit substring of the key whose rarest trigram 50,000 keys hold (`10000`) is counted
   * from them in about 20 ms at 10M rows, against 330 ms for the walk.
   */
  private countingBudget(): number {
    const rows = this.tableRows();
    return Math.max(this.maxSubstringCandidates, Math.floor(rows / ROW_READ_COST_IN_ENTRIES));
  }

  /**
   * The count of resolved `options` from maintained counters, when some answer it: a counted column's values
   * (`counterKeys`), a range of a column counted by prefix (`prefixRangeCount`), several counted columns together
   * (`tupleCount`), a short substring of a column counted by its substrings (`substringCount`), or a short substring
   * of the key beside a value counted by them (`perValueKeySubstringCount`), with a sparse column's few rows apart
   * (`partlyCounted`).
   */
  private countedFromCounters(options: QueryOptions): number | undefined {
    return (
      this.countedByColumnCounters(options) ??
      (options.search ? undefined : this.perValueKeySubstringCount(options.filterTree)) ??
      this.partlyCounted(options)
    );
  }

  /** `countedFromCounters` of the counters of columns alone: by value, prefix, tuple or substring. */
  private countedByColumnCounters(options: QueryOptions): number | undefined {
    return (
      this.countedNow(options) ??
      this.prefixRangeCount(options) ??
      this.tupleCount(options) ??
      this.substringCount(options)
    );
  }

  /**
   * The count of a filter that is `<column> eq '<value>' and contains(<key>,'<text>')` (either order), where `or`s
   * beside the `contains` may hold filters no row passes (`in ()`: a counted column none of whose values holds the
   * text), from the value's per-value key-substring counter (see `counts.perValueKeySubstrings`), when the text has
   * at most their length characters and the row that marks the value complete is there (a missing counter is 0; the
   * empty text's is that row, the value's rows, which every key holds it in). The
   * Account page's search of a large customer for a text no other column holds: its rows are not walked. Undefined
   * otherwise.
   */
  private perValueKeySubstringCount(tree: FilterNode | undefined): number | undefined {
    if (tree?.kind !== 'and') return undefined;
    const pairs: [FilterNode, FilterNode][] = [
      [tree.left, tree.right],
      [tree.right, tree.left]
    ];
    for (const [valueNode, keyNode] of pairs) {
      const calls = disjunctsOf(keyNode).filter((node) => !isNoRow(node));
      const n =
        calls.length === 1 ? this.perValueKeySubstringRows(valueNode, calls[0]!) : undefined;
      if (n !== undefined) return n;
    }
    return undefined;
  }

  /**
   * At least how many rows of `valueNode` (`<column> eq '<value>'`) `node` matches: those whose key holds the text of
   * one of its `contains(<key>,'<text>')` (itself, or one under its `or`s), from the value's per-value key-substring
   * counter; undefined when none is counted so.
   */
  private keySubstringRowsBeside(valueNode: FilterNode, node: FilterNode): number | undefined {
    let most: number | undefined;
    for (const disjunct of disjunctsOf(node)) {
      const n = this.perValueKeySubstringRows(valueNode, disjunct);
      if (n !== undefined && (most === undefined || n > most)) most = n;
    }
    return most;
  }

  /**
   * The rows of `valueNode` (`<column> eq '<value>'`) whose key holds the text of `keyNode`
   * (`contains(<key>,'<text>')`), from the value's per-value key-substring counter (see `perValueKeySubstringCount`);
   * undefined when the nodes are not of that shape, the text is longer than the counters', or the value is not counted.
   */
  private perValueKeySubstringRows(valueNode: FilterNode, keyNode: FilterNode): number | undefined {
    const equality = literalEquality(valueNode);
    const counts = this.counter
      ? this.entity.counts?.perValueKeySubstrings?.find(
          (c) => c.column === equality?.property.column && c.key === this.entity.key.column
        )
      : undefined;
    const call = textCall(keyNode, 'contains');
    if (!equality || !counts || call?.property.column !== counts.key) return undefined;
    if (Array.from(call.text).length > counts.length) return undefined;
    const table = quoteIdentifier(this.entity.counts!.table);
    const dimension = perValueKeySubstringDimension(counts);
    const sql =
      `SELECT (SELECT n FROM ${table} WHERE dimension = ? AND value = json_array(?, '')), ` +
      `(SELECT n FROM ${table} WHERE dimension = ? AND value = json_array(?, ?))`;
    const params = [dimension, equality.value, dimension, equality.value, call.text];
    this.lastQueries.push({ sql, params });
    const [complete, n] = this.statement(sql)
      .raw()
      .get(...params) as [number | null, number | null];
    return complete === null ? undefined : (n ?? 0);
  }

  /**
   * The count of resolved `options` split in two disjoint parts (see `disjointFilters`) when the maintained counters
   * count the first (the filter with the sparse column's functions left out, see `perValueKeySubstringCount`): that,
   * plus the second counted in SQL, which reads the sparse column's few rows (see `sparseColumnRows`). Undefined
   * otherwise.
   */
  private partlyCounted(options: QueryOptions): number | undefined {
    const parts = options.filter && this.disjointParts.get(options.filter);
    const first = parts && this.perValueKeySubstringCount(parts[0].tree);
    if (first === undefined) return undefined;
    const rest = this.where({ ...options, filter: parts![1].filter });
    const sql = `SELECT count(*) FROM ${quoteIdentifier(this.entity.table)}${rest.sql}`;
    this.lastQueries.push({ sql, params: rest.params });
    return (
      first +
      (this.statement(sql)
        .pluck()
        .get(...rest.params) as number)
    );
  }

  /**
   * The count of a `$filter` that is `contains` of a column counted by its substrings and a text of 1 to their length
   * characters (`contains(ShipmentNumber,'37')`): that substring's counter (see `substringCounter`). Undefined
   * otherwise.
   */
  private substringCount(options: QueryOptions): number | undefined {
    const call = options.search ? undefined : textCall(options.filterTree, 'contains');
    return call && this.substringCounter(call.property.column, call.text);
  }

  /**
   * How many values of `column` hold `text`, from the column's substring counters when it has them, `text` has 1 to
   * their length characters and the row that marks them complete is there (a missing counter is 0); else undefined.
   */
  private substringCounter(column: string, text: string): number | undefined {
    const substrings = this.entity.counts?.substrings?.find((c) => c.column === column);
    const length = Array.from(text).length;
    if (!this.counter || !substrings || length === 0 || length > substrings.length) {
      return undefined;
    }
    const dimension = substringDimension(substrings);
    const table = quoteIdentifier(this.entity.counts!.table);
    const sql =
      `SELECT (SELECT n FROM ${table} WHERE dimension = ? AND value = ''), ` +
      `(SELECT n FROM ${table} WHERE dimension = ? AND value = ?)`;
    const params = [dimension, dimension, `v:${text}`];
    this.lastQueries.push({ sql, params });
    const [complete, n] = this.statement(sql)
      .raw()
      .get(...params) as [number | null, number | null];
    return complete === null ? undefined : (n ?? 0);
  }

  /**
   * How many values of `column` hold `term` (lower case) once SQLite's `lower` has folded them, which folds ASCII
   * letters alone: from the substring counters of each way of writing the term's ASCII letters in either case (2^n
   * for n letters), when at most one of them is held, or one is held by every row (`shp`: every key holds `SHP`;
   * `ex`: no key holds any of `ex`, `eX`, `Ex`, `EX`). A term longer than the counted substrings is held by none when
   * one of its substrings of that length is held in no case (`delivered`: no key holds `deli` in any case), and is
   * not counted otherwise. Undefined otherwise (a value may hold two of them), or when the column is not counted by
   * its substrings.
   */
  private foldedSubstringCounter(column: string, term: string): number | undefined {
    const key = JSON.stringify([column, term]);
    if (!this.foldedCounts.has(key))
      this.foldedCounts.set(key, this.foldedSubstringCounterNow(column, term));
    return this.foldedCounts.get(key);
  }

  /** `foldedSubstringCounter`, read now. */
  private foldedSubstringCounterNow(column: string, term: string): number | undefined {
    const length = this.entity.counts?.substrings?.find((c) => c.column === column)?.length;
    const characters = Array.from(term);
    if (length === undefined || characters.length === 0) return undefined;
    // Each substring of the counted length (the term itself when it is no longer), and its spellings.
    const windows = new Map<string, string[]>();
    for (let start = 0; start + Math.min(length, characters.length) <= characters.length; start++) {
      const window = characters.slice(start, start + length).join('');
      if (!windows.has(window)) windows.set(window, caseSpellings(window));
    }
    const counts = this.substringCounters(column, [...windows.values()].flat());
    if (!counts) return undefined;
    if (characters.length > length) {
      const missing = [...windows.values()].some((spellings) =>
        spellings.every((s) => !counts.get(s))
      );
      return missing ? 0 : undefined;
    }
    const held = caseSpellings(term)
      .map((spelling) => counts.get(spelling) ?? 0)
      .filter((n) => n > 0);
    if (held.length <= 1) return held[0] ?? 0;
    const rows = this.tableRows();
    return held.includes(rows) ? rows : undefined;
  }

  /**
   * How many values of `column` hold each of `texts` (each of 1 to the counted length of characters), from the
   * column's substring counters in one read: a text no value holds is left out. Undefined when the row that marks the
   * counters complete is not there (see `substringCounter`).
   */
  private substringCounters(
    column: string,
    texts: readonly string[]
  ): Map<string, number> | undefined {
    const substrings = this.entity.counts?.substrings?.find((c) => c.column === column);
    if (!this.counter || !substrings) return undefined;
    const dimension = substringDimension(substrings);
    const table = quoteIdentifier(this.entity.counts!.table);
    const sql =
      `SELECT '', (SELECT n FROM ${table} WHERE dimension = ? AND value = '') UNION ALL ` +
      `SELECT substr(value, 3), n FROM ${table} WHERE dimension = ? AND n > 0 AND ` +
      `value IN (SELECT 'v:' || value FROM json_each(?))`;
    const params = [dimension, dimension, JSON.stringify(texts)];
    this.lastQueries.push({ sql, params });
    const counts = new Map(
      this.statement(sql)
        .raw()
        .all(...params) as [string, number | null][]
    );
    // The marker's row ('': no text is empty); its count is null when the counters are not complete.
    if (counts.get('') == null) return undefined;
    counts.delete('');
    return counts as Map<string, number>;
  }

  /**
   * The count of a `$filter` that reads only counted columns that a tuple of `counts.tuples` holds, in any
   * combination: the filter itself is tested on each tuple of values the tuple counters know, in SQL (NULL among
   * them), so its semantics are the rows' own, and the matching tuples' counts are added up. The smallest such tuple
   * is read. Undefined otherwise.
   */
  private tupleCount(options: QueryOptions): number | undefined {
    if (options.search || !options.filterTree) return undefined;
    return (
      this.tupleLookup(options.filterTree) ??
      this.tupleSum(filterColumns(options.filterTree), compileFilter(options.filterTree))
    );
  }

  /**
   * The count of a `$filter` that is an `eq` of a string on each column of one tuple of `counts.tuples` and nothing
   * else (`CustomerNumber eq '…' and Status eq '…'`, either order), as that tuple's one counter: `tupleSum` tests the
   * filter on every tuple the counters know instead (about 3 ms for the 5,739 customer and status tuples at 10M
   * rows). Undefined otherwise.
   */
  private tupleLookup(tree: FilterNode): number | undefined {
    const counts = this.entity.counts;
    if (!this.tupleCounter || !counts?.tuples) return undefined;
    const values = new Map<string, string>();
    for (const node of conjunctsOf(tree)) {
      const equality = literalEquality(node);
      const column = equality?.property.column;
      if (!column || typeof equality.value !== 'string' || values.has(column)) return undefined;
      values.set(column, equality.value);
    }
    const tuple = counts.tuples.find(
      (candidate) => candidate.length === values.size && candidate.every((c) => values.has(c))
    );
    if (!tuple) return undefined;
    const table = quoteIdentifier(counts.tupleTable!);
    const sql =
      `SELECT coalesce((SELECT n FROM ${table} WHERE dimension = ? AND key = ` +
      `json_array(${tuple.map(() => '?').join(', ')})), 0)`;
    const params = [tuple.join('|'), ...tuple.map((c) => values.get(c)!)];
    this.lastQueries.push({ sql, params });
    return this.statement(sql)
      .pluck()
      .get(...params) as number;
  }

  /**
   * The rows whose values of `columns` (counted columns) pass `test`, from the smallest tuple of `counts.tuples` that
   * holds them all: `test` is run in SQL on each tuple of values the tuple counters know, each column's value named
   * as the column, and the matching tuples' counts are added up. Undefined when no tuple holds them.
   */
  private tupleSum(columns: readonly string[], test: SqlFragment): number | undefined {
    const counts = this.entity.counts;
    if (!this.tupleCounter || !counts?.tuples) return undefined;
    const tuple = [...counts.tuples]
      .sort((a, b) => a.length - b.length)
      .find((candidate) => columns.every((c) => candidate.includes(c)));
    if (!tuple) return undefined;
    const values = tuple
      .map((column, i) => `json_extract(key, '$[${i}]') AS ${quoteIdentifier(column)}`)
      .join(', ');
    const sql =
      `SELECT coalesce(sum(n), 0) FROM (SELECT ${values}, n FROM ${quoteIdentifier(counts.tupleTable!)} ` +
      `WHERE dimension = ? AND n > 0) WHERE ${test.sql}`;
    const params = [tuple.join('|'), ...test.params];
    this.lastQueries.push({ sql, params });
    return this.statement(sql)
      .pluck()
      .get(...params) as number;
  }

  /**
   * The count of a `$filter` that is `startswith` of a column counted by prefix and a text no longer than the prefix
   * (`startswith(ShipmentNumber,'SHP-0001')`): the counters of the prefixes that start with it, added up. Undefined
   * otherwise (a longer text is a range within one prefix, which its index counts quickly).
   */
  private prefixStartsCount(node: FilterNode): number | undefined {
    const call = textCall(node, 'startswith');
    if (!call) return undefined;
    const prefix = this.entity.counts?.prefixes?.find((p) => p.column === call.property.column);
    if (!prefix || call.text.length > prefix.length) return undefined;
    const sql =
      `SELECT coalesce(sum(n), 0) FROM ${quoteIdentifier(this.entity.counts!.table)} ` +
      `WHERE dimension = ? AND value GLOB ?`;
    const params = [prefixDimension(prefix), `v:${globPattern('startswith', call.text)}`];
    this.lastQueries.push({ sql, params });
    return this.statement(sql)
      .pluck()
      .get(...params) as number;
  }

  /**
   * The count of a `$filter` that is a range of a column counted by prefix (`counts.prefixes`: ShippedAt by day),
   * bounded by literals as long as a prefix at least: the prefixes strictly between the bounds' own, added up from
   * the counters (every row with such a prefix is inside the range, as values compare character by character), plus
   * the rows with the bounds' prefixes that the filter holds for, read through the column's index. Undefined
   * otherwise.
   */
  private prefixRangeCount(options: QueryOptions): number | undefined {
    const counts = this.entity.counts;
    if (!this.counter || !counts?.prefixes || options.search || !options.filterTree)
      return undefined;
    const starts = this.prefixStartsCount(options.filterTree);
    if (starts !== undefined) return starts;
    const range = literalRange(options.filterTree);
    const prefix = range && counts.prefixes.find((p) => p.column === range.column);
    if (!range || !prefix || !options.filter) return undefined;
    const bounds = [range.lower, range.upper].filter((b): b is string => b !== undefined);
    if (bounds.some((bound) => bound.length < prefix.length)) return undefined;
    const [lower, upper] = [range.lower, range.upper].map((b) => b?.slice(0, prefix.length));
    // Counter values are `v:<prefix>`; `null` sorts before all of them and `w` after.
    const between =
      `SELECT coalesce(sum(n), 0) FROM ${quoteIdentifier(counts.table)} ` +
      `WHERE dimension = ? AND value ${lower === undefined ? '>=' : '>'} ? AND value < ?`;
    const betweenParams = [
      prefixDimension(prefix),
      `v:${lower ?? ''}`,
      upper === undefined ? 'w' : `v:${upper}`
    ];
    this.lastQueries.push({ sql: between, params: betweenParams });
    let n = this.statement(between)
      .pluck()
      .get(...betweenParams) as number;
    const table = quoteIdentifier(this.entity.table);
    const column = quoteIdentifier(prefix.column);
    // Through an index that leads with the column, named: for the end of `ShipmentNumber gt 'SHP-0007777053'`, SQLite
    // chose a skip-scan of an index that leads with the customer (a seek for each of 1,000), 3 ms cached and 0.16–0.55
    // s on a first visit at 10M rows, where the key's own index reads its 2,946 entries.
    const index = this.orderIndexes([prefix.column])[0]?.name;
    const indexed = index ? ` INDEXED BY ${quoteIdentifier(index)}` : '';
    for (const end of new Set([lower, upper])) {
      if (end === undefined) continue;
      const sql = `SELECT count(*) FROM ${table}${indexed} WHERE ${column} GLOB ? AND ${options.filter.sql}`;
      const params = [globPattern('startswith', end), ...options.filter.params];
      this.lastQueries.push({ sql, params });
      n += this.statement(sql)
        .pluck()
        .get(...params) as number;
    }
    return n;
  }

  /** The count of resolved `options` from the maintained counters, when they answer it (see `counterKeys`). */
  private countedNow(options: QueryOptions): number | undefined {
    const keys = this.counter && this.counterKeys(options);
    if (!this.counter || !keys) return undefined;
    for (const [dimension, value] of keys) {
      this.lastQueries.push({ sql: this.counter.source, params: [dimension, value] });
    }
    return this.counterSum(keys);
  }

  /** The rows resolved `options` match, counted now. */
  private countRows(options: QueryOptions): number {
    const table = quoteIdentifier(this.entity.table);
    const parts = this.filterParts(options);
    // One statement, so that the parts are counted in one state of the database.
    const sql =
      parts.length === 1
        ? `SELECT count(*) FROM ${table}${parts[0]!.sql}`
        : `SELECT ${parts.map((part) => `(SELECT count(*) FROM ${table}${part.sql})`).join(' + ')}`;
    const params = parts.flatMap((part) => part.params);
    this.lastQueries.push({ sql, params });
    return this.statement(sql)
      .pluck()
      .get(...params) as number;
  }

  /**
   * The count of a `$filter` that is a negation (`not X`, `<p> ne <v>`) of a condition that is never null (see
   * `isNeverNull`: a comparison, or a string function of the key), as the table's maintained count less X's. X is counted
   * through its indexes (a key lookup, a substring's trigram candidates, a key range) where its negation is a walk
   * of every row: "Shipment Number does not contain …" at 10M rows. Undefined otherwise.
   */
  private complementCount(options: QueryOptions): number | undefined {
    const negated =
      options.search || !options.filterTree ? undefined : negationOf(options.filterTree);
    if (!this.counter || !negated || !isNeverNull(negated)) return undefined;
    const positive = this.resolveSubstrings(
      { ...options, filterTree: negated, filter: compileFilter(negated) },
      this.countingBudget()
    );
    const counted = this.countedFromCounters(positive) ?? this.countRows(positive);
    return this.tableRows() - counted;
  }

  /**
   * The count of the query as `asked`, kept between requests (see `KnownCounts`) when the table has versions, else
   * `count()`: the kept count, repaired from the change log with the query's plain predicates when the rows moved,
   * or `count()` when none is kept.
   */
  private keptCount(asked: QueryOptions, count: () => number): number {
    if (!this.versionReader) return count();
    const reader: CountReader = { count };
    const { version, log } = this.versionOf(asked, []);
    if (log) {
      const table = quoteIdentifier(log.table);
      reader.changes = (since) => {
        if (!log.reaches(since)) return undefined;
        const logged = this.loggedWhere(asked, since);
        const sql = `SELECT coalesce(sum(change_sign), 0) FROM ${table}${logged.sql}`;
        this.lastQueries.push({ sql, params: logged.params });
        return this.statement(sql)
          .pluck()
          .get(...logged.params) as number;
      };
    }
    return this.knownCounts.count(countKey(asked), version, reader);
  }

  /**
   * A first page's count, and the options to read its rows with, in one snapshot: from the maintained counters when
   * they answer it (`countedFromCounters`, the options as they are); else, when the query matches few rows and no
   * count is kept, their rowids, read once as `counting()` resolves the query (at most `maxSubstringCandidates`, found
   * by reading at most one more), are the count, and the page is read from them. Otherwise a selective filter is
   * walked twice, to find the page and then to count it (the Account page's search of a large customer with a common
   * term). Undefined when there are more rows: the rowids read are then wasted, a part of what counting the rows
   * reads anyway.
   */
  private fewRows(
    options: QueryOptions,
    asked: QueryOptions,
    counting: () => QueryOptions
  ): { options: QueryOptions; count: number } | undefined {
    const counted = this.countedFromCounters(options);
    if (counted !== undefined) return { options, count: counted };
    if (this.knownCounts.has(countKey(asked))) return undefined;
    // A search term counted from its columns apart: its page is then read on its own (see `resolveSearch`). It is
    // counted as asked, since resolving it for counting lists its candidates (`3004`: 8,300, in 4.6 ms at 10M rows).
    const searched = this.searchCount(asked);
    if (searched !== undefined) return { options, count: this.keptCount(asked, () => searched) };
    const table = quoteIdentifier(this.entity.table);
    const parts = this.filterParts(counting());
    const sql = `${parts.map((part) => `SELECT ${table}.rowid FROM ${table}${part.sql}`).join(' UNION ALL ')} LIMIT ?`;
    const params = [...parts.flatMap((part) => part.params), this.maxSubstringCandidates + 1];
    this.lastQueries.push({ sql, params });
    const rowids = this.statement(sql)
      .pluck()
      .all(...params) as number[];
    if (rowids.length > this.maxSubstringCandidates) return undefined;
    const count = this.keptCount(asked, () => rowids.length);
    const only = {
      sql: `${table}.rowid IN (SELECT value FROM json_each(?))`,
      params: [JSON.stringify(rowids)]
    };
    // The rowids alone: SQLite then reads just those rows (with the filter beside them, it may start from the
    // filter's own candidates instead).
    return { options: { ...options, filter: only, search: undefined }, count };
  }

  /** The key of a `$filter` that is exactly `<key> eq '<literal>'` (either side), with no `$search`. */
  private keyEquality(options: QueryOptions): string | undefined {
    const equality = options.search ? undefined : literalEquality(options.filterTree);
    return equality?.property === this.entity.key && typeof equality.value === 'string'
      ? equality.value
      : undefined;
  }

  /** One entity by key, or undefined. */
  byKey(key: string, select: readonly PropertyDefinition[]): Record<string, unknown> | undefined {
    // The statement for the full entity is built once: a key lookup is the cheapest and most frequent request,
    // so its fixed cost is mostly what is done around the SQL.
    const properties = this.entity.properties;
    const all =
      select === properties ||
      (select.length === properties.length && select.every((p, i) => p === properties[i]));
    let statement = all ? this.byKeyAll : undefined;
    if (!statement) {
      const columns = select.map((p) => quoteIdentifier(p.column)).join(', ');
      statement = this.statement(
        `SELECT ${columns} FROM ${quoteIdentifier(this.entity.table)} ` +
          `WHERE ${quoteIdentifier(this.entity.key.column)} = ?`
      ).raw();
      if (all) this.byKeyAll = statement;
    }
    this.lastQueries = [{ sql: statement.source, params: [key] }];
    const row = statement.get(key) as SqlValue[] | undefined;
    return row && toEntity(select, row);
  }

  /**
   * The rows of `window` in the order `orderBy`, continuing after a key when `segments` are given (the keyset
   * conditions, read one after another), else from the start. An offset that a segment cannot satisfy goes on into
   * the next one, less the segment's rows (counted only then, and then fewer than the offset).
   */
  private scan(
    options: QueryOptions,
    columns: string,
    orderBy: string,
    segments: readonly Segment[] | undefined,
    window: Window
  ): SqlValue[][] {
    const rows: SqlValue[][] = [];
    let offset = window.offset;
    const carried = this.carriedFilter(options) ?? this.probedFilter(options);
    const split = this.nullSplitParts(options, carried);
    const parts = split
      ? (segments ?? [undefined]).flatMap((segment) =>
          split.map((part) => (segment ? bothSegments(segment, part) : part))
        )
      : (segments ?? [undefined]);
    for (const [i, segment] of parts.entries()) {
      const where = this.where(options, segment);
      const from = `FROM ${quoteIdentifier(this.entity.table)}${where.sql}`;
      const found = this.segmentRows(
        options,
        { columns, orderBy, where, segment, carried },
        { offset, limit: window.limit - rows.length }
      );
      rows.push(...found);
      if (rows.length >= window.limit) break;
      if (found.length > 0 || offset === 0) offset = 0;
      else if (i < parts.length - 1) {
        const counted = `SELECT count(*) ${from}`;
        this.lastQueries.push({ sql: counted, params: where.params });
        offset -= this.statement(counted)
          .pluck()
          .get(...where.params) as number;
      }
    }
    return rows;
  }

  /**
   * The parts a scan reads in turn when the order's first column may be NULL: the rows where it is set and those where
   * it is NULL, in the order's place for them (first ascending, last descending). Together they are every row the
   * filter matches. Two cases gain from reading them apart, else undefined:
   * - `$filter` needs a period of another date-time column whose difference to the order's the counters bound
   *   (`gapBoundedSet`): the set rows are then within the period moved by those bounds, and the walk of the order's
   *   index starts at the bound instead of at its end. `ShippedAt le 2023-06-14T00:00:03Z` by DeliveredAt desc walked
   *   the deliveries of the three years after it, reading each row, 25 s at 10M rows.
   * - `$filter` bounds the key (its ranges and `startswith`, from the top through `and`s) and the order is walked
   *   (`carried`): the order's index holds the NULL rows in key order, so the bounds seek them.
   *   `ShipmentNumber gt 'SHP-0008729030'` by DeliveredAt walked the entries of the 600,000 shipments not delivered
   *   from the lowest key, 80 ms at 10M rows.
   */
  private nullSplitParts(
    options: QueryOptions,
    carried: CarriedFilter | undefined
  ): [Segment, Segment] | undefined {
    const first = options.sort[0];
    const tree = options.filterTree;
    if (!first || !tree || !first.property.nullable) return undefined;
    const key = this.entity.key.column;
    const keyBounds = carried
      ? conjunctsOf(tree).filter(
          (node) =>
            literalRange(node)?.column === key ||
            textCall(node, 'startswith')?.property.column === key
        )
      : [];
    const set = this.gapBoundedSet(options);
    if (!set && keyBounds.length === 0) return undefined;
    const column = quoteIdentifier(first.property.column);
    const unset = [
      { sql: `${column} IS NULL`, params: [] },
      ...keyBounds.map((node) => compileFilter(node))
    ].reduce(bothSegments);
    const parts: [Segment, Segment] = [set ?? { sql: `${column} IS NOT NULL`, params: [] }, unset];
    return first.descending ? parts : [parts[1], parts[0]];
  }

  /**
   * The rows where the order's first column is set that a `$filter` period of another date-time column can match
   * (its top-level `gt`/`ge`/`lt`/`le`), when the counters bound the difference between the two (`counts.dateGaps`):
   * the period moved by those bounds. Undefined otherwise, or while the counters bound no such difference.
   */
  private gapBoundedSet(options: QueryOptions): Segment | undefined {
    const gaps = this.entity.counts?.dateGaps;
    const first = options.sort[0];
    const tree = options.filterTree;
    if (!gaps || !first || !tree || !this.counter) return undefined;
    const to = first.property;
    for (const gap of gaps.filter((candidate) => candidate.to === to.column)) {
      let lower: number | undefined;
      let upper: number | undefined;
      for (const node of conjunctsOf(tree)) {
        const range = literalRange(node);
        if (range?.column !== gap.from) continue;
        const [from, until] = [range.lower, range.upper].map(storedInstant);
        if (from !== undefined) lower = Math.max(lower ?? -Infinity, from);
        if (until !== undefined) upper = Math.min(upper ?? Infinity, until);
      }
      if (lower === undefined && upper === undefined) continue;
      const dimension = dateGapDimension(gap);
      const min = this.counter.get(dimension, 'min') as number | undefined;
      const max = this.counter.get(dimension, 'max') as number | undefined;
      if (min === undefined || max === undefined) continue;
      // Below, a second less: a stored value a fraction of a second past the bound sorts before its text. Above, none:
      // a matching row's value is less than a second past the bound (the literal's fraction, which the period's text
      // leaves out), so its text sorts at or before the bound's, and so does a date whose midnight is that.
      const atLeast = lower === undefined ? undefined : storedText(lower + (min - 1) * 1000);
      const atMost = upper === undefined ? undefined : storedText(upper + max * 1000);
      if (atLeast === undefined && atMost === undefined) continue;
      const column = quoteIdentifier(to.column);
      return {
        sql: [
          ...(atLeast === undefined ? [] : [`${column} >= ?`]),
          ...(atMost === undefined ? [] : [`${column} <= ?`])
        ].join(' AND '),
        params: [atLeast, atMost].filter((bound) => bound !== undefined)
      };
    }
    return undefined;
  }

  /**
   * One segment's rows of `window`. SQLite's own plan, unless no index leads with the filter and the order, so that
   * plan would sort every match: then walking the index serving the order and testing the filter on its entries
   * finds the window after about `(offset + limit) × rows / matches` entries, which the maintained counts predict.
   * An entry costs little when the index carries the filter column (`DV_CARRIED_FILTERS` in `db/migrations.ts`),
   * and a row read when it does not. The walk is taken when that is cheaper than sorting the matches, and is
   * bounded by a budget of entries worth about half a sort. Counted matches are first looked for at both ends of the
   * order, for twice the entries expected, when that is at most a quarter of the budget. Past the budget, they are
   * walked for from the other end within half of it, and past that they are sorted after all (read in key order
   * through the filter's own index when there is one), so data whose matches all sit in the middle of the order costs
   * up to about 2 sorts (1.5 when they are not counted, with no walk from the end), never a whole-index walk.
   */
  private segmentRows(
    options: QueryOptions,
    query: {
      readonly columns: string;
      readonly orderBy: string;
      readonly where: Segment;
      readonly segment: Segment | undefined;
      readonly carried: CarriedFilter | undefined;
    },
    window: Window
  ): SqlValue[][] {
    const { columns, orderBy, where, segment, carried } = query;
    const table = quoteIdentifier(this.entity.table);
    /** The segment's query, reading the named index when one is given. */
    const select = (index?: string): string =>
      `SELECT ${columns} FROM ${table}${index ? ` INDEXED BY ${quoteIdentifier(index)}` : ''}` +
      `${where.sql} ORDER BY ${orderBy} LIMIT ?${window.offset ? ' OFFSET ?' : ''}`;
    // A whole-table order reads the index that serves it, whatever else SQLite might try (see `orderIndex`).
    const sql = select(
      options.filter || options.search ? undefined : this.orderIndex(options.sort)
    );
    const params = [...where.params, window.limit];
    if (window.offset) params.push(window.offset);
    // Index entries a walk is expected to read before it has the window (Infinity: no walk possible).
    const expected = carried
      ? ((window.offset + window.limit) * carried.total) / Math.max(1, carried.matches)
      : Infinity;
    // Each value's first entries, merged (costed as a row read each, as when the index does not carry the filter),
    // when that costs less than the walk is expected to.
    const mergeCost =
      (window.offset + window.limit) *
      (carried?.valueOrdered?.values.length ?? Infinity) *
      ROW_READ_COST_IN_ENTRIES;
    if (carried && mergeCost <= expected * carried.entryCost) {
      const merged = this.mergedByValue(carried, options.sort, query, window);
      if (merged) return merged;
    }
    const walkPays =
      carried !== undefined &&
      expected * carried.entryCost < carried.matches * SORT_COST_IN_ENTRIES;
    // One value's entries in the order are tried first even where a sort should cost less, for at most twice the
    // entries expected and what the sort would cost, as they end early when the matches are near the start
    // (`CustomerNumber eq 'C-000119' and Status ne 'Delivered'` newest first: the 891 shipments not delivered are the
    // customer's newest, 0.2 ms walked against 5-9 ms sorted at 10M rows). Then the sort (`carryingValueIndex`).
    if (carried && (walkPays || carried.within)) {
      // Worth about half a sort of the matches, or about the merge when there is one to fall back on.
      const budget = walkPays
        ? Math.ceil(
            Math.max(
              this.minWalkBudget,
              Math.min(carried.matches * SORT_COST_IN_ENTRIES, mergeCost)
            ) / carried.entryCost
          )
        : Math.ceil(
            Math.min(2 * expected, (carried.matches * SORT_COST_IN_ENTRIES) / carried.entryCost)
          );
      const bounds = [carried.within, segment].filter((b): b is SqlFragment => b !== undefined);
      const walkedWhere = bounds.length ? ` WHERE ${bounds.map((b) => b.sql).join(' AND ')}` : '';
      const walkParams = [...bounds.flatMap((b) => b.params), budget];
      // The filter as written, on the walked columns alone: a resolved one may read other rows (`rowid IN …`).
      const filter = compileFilter(options.filterTree!);
      /** The matches at `part` of the first `entries` entries walked in `order`, read in the page's order. */
      const walk = (order: string, entries: number, part: Window): SqlValue[][] => {
        const walked =
          `SELECT rowid AS walked_rowid, ${carried.columns.map(quoteIdentifier).join(', ')} FROM ${table} ` +
          `INDEXED BY ${quoteIdentifier(carried.index)}${walkedWhere} ORDER BY ${order} LIMIT ?`;
        const walkSql =
          `SELECT ${columns} FROM ${table} WHERE rowid IN (SELECT walked_rowid FROM (${walked}) ` +
          `WHERE ${filter.sql} LIMIT ? OFFSET ?) ORDER BY ${orderBy}`;
        const walkAllParams = [
          ...bounds.flatMap((b) => b.params),
          entries,
          ...filter.params,
          part.limit,
          part.offset
        ];
        this.lastQueries.push({ sql: walkSql, params: walkAllParams });
        return this.statement(walkSql)
          .raw()
          .all(...walkAllParams) as SqlValue[][];
      };
      // With the matches counted from the start of the order, the window is also as many matches from its far end
      // (`fromEnd`; negative when the window reaches past the matches' end, and no walk the other way is taken).
      const fromEnd = carried.matches - window.offset - window.limit;
      const reversed = orderByClause(
        options.sort.map((key) => ({ ...key, descending: !key.descending }))
      );
      const reversible = !segment && carried.matchesExact && fromEnd >= 0;
      // Matches bunched at either end are met within twice the entries expected of matches spread evenly: both ends
      // are walked that far first, when it is at most a quarter of the budget (`Status eq 'In Transit'` by
      // EstimatedDelivery: the shipments still on their way are expected last; its walk read its 149,280 entries from
      // the start in 17 ms before the walk from the end found them). Matches in the middle then cost half a budget more.
      const probe = Math.ceil(2 * expected);
      if (walkPays && reversible && probe * 4 <= budget) {
        const first = walk(orderBy, probe, window);
        if (first.length === window.limit) return first;
        const last = walk(reversed, probe, { offset: fromEnd, limit: window.limit });
        if (last.length === window.limit) return last;
      }
      const found = walk(orderBy, budget, window);
      if (found.length === window.limit) return found;
      // Fewer: either the segment has no more matches, or the walk stopped at its budget. From the start of the
      // order an exact count of the matches tells which; otherwise counting the walked entries does.
      let walkedAll: boolean;
      if (!segment && carried.matchesExact) {
        walkedAll =
          found.length === Math.max(0, Math.min(window.limit, carried.matches - window.offset));
      } else {
        const entries = `SELECT count(*) FROM (SELECT 1 FROM ${table} INDEXED BY ${quoteIdentifier(
          carried.index
        )}${walkedWhere} ORDER BY ${orderBy} LIMIT ?)`;
        this.lastQueries.push({ sql: entries, params: walkParams });
        walkedAll =
          (this.statement(entries)
            .pluck()
            .get(...walkParams) as number) < budget;
      }
      if (walkedAll) return found;
      const merged = this.mergedByValue(carried, options.sort, query, window);
      if (merged) return merged;
      // The matches may all sit at the far end of the order, further than the probe above reached: a walk the other
      // way finds them within half the budget, where sorting the matches reads each one's row (In Transit's 15,700
      // by EstimatedDelivery: 57 ms at 10M rows, cold).
      if (reversible) {
        const rows = walk(reversed, Math.ceil(budget / 2), {
          offset: fromEnd,
          limit: window.limit
        });
        if (rows.length === window.limit) return rows;
      }
      if (carried.keyOrdered) {
        const sorted = select(carried.keyOrdered);
        this.lastQueries.push({ sql: sorted, params });
        return this.statement(sorted)
          .raw()
          .all(...params) as SqlValue[][];
      }
    }
    const bySortValue = this.mergedBySortValue(options, query, window);
    if (bySortValue) return bySortValue;
    const carrying = this.carryingValueIndex(options, carried);
    const sorted = carrying ? select(carrying) : sql;
    this.lastQueries.push({ sql: sorted, params });
    return this.statement(sorted)
      .raw()
      .all(...params) as SqlValue[][];
  }

  /**
   * The index to read a filter's matches through when they are sorted, where SQLite would pick a worse one: one that
   * leads with a counted column the filter needs in a few values (a top-level `eq`/`in`) and carries every other
   * column the filter reads, so that each entry is tested without reading its row; of those, the one whose values
   * have the fewest rows (from the counters). Only for a filter of counted columns alone. SQLite chooses among the
   * indexes leading with a column without regard to what they carry: `Status eq 'In Transit' and DestinationCity eq
   * 'Lyon' and Carrier ne 'USPS'` by DeclaredValue read the 14,928 shipments in transit through `(status,
   * delivered_at, shipment_number)`, each row read for its city and carrier, 32–39 ms at 10M rows, where
   * `shipments_by_status` carries both. An index that leads with a filter column and then the order is SQLite's
   * choice, with no sort, and is kept unless the walk of that value's entries (`carried.within`) was found to cost
   * more than the sort or gave up: `CustomerNumber eq 'C-000901' and Status ne 'Delivered'` by DeliveredAt desc read
   * all the customer's 5,315 rows in that order, for the 329 not delivered at its end (15–20 ms), where the customer's
   * `(customer_number, status, shipment_number)` reads those 329 (0.5 ms). Of the indexes that lead with the column
   * and carry the others, the one that seeks the most of its leading columns: for a customer and a status, the
   * customer's status index seeks both, where its newest-first index (which carries the status since migration 25)
   * tests every entry of the customer (`Out for Delivery` beside a customer of 100,816 shipments: its 21 rows read
   * among all those entries, 120–148 ms at 10M rows from a dropped page cache). Undefined otherwise.
   */
  private carryingValueIndex(
    options: QueryOptions,
    carried: CarriedFilter | undefined
  ): string | undefined {
    const tree = options.filterTree;
    const counted = this.entity.counts?.columns ?? [];
    const first = options.sort[0]?.property.column;
    if (!tree || !first || options.search || !this.counter) return undefined;
    const columns = [...new Set(filterColumns(tree))];
    if (!columns.every((column) => counted.includes(column))) return undefined;
    const ordered = columns.some((column) => this.orderIndexes([column, first]).length > 0);
    if (ordered && !carried?.within) return undefined;
    // How many of an index's leading columns the filter fixes to a few values: those it seeks.
    const fixed = new Set(
      conjunctsOf(tree).flatMap((node) => {
        const set = literalSet(node);
        return set ? [set.property.column] : [];
      })
    );
    const sought = (index: { columns: readonly string[] }): number => {
      let n = 0;
      while (n < index.columns.length && fixed.has(index.columns[n]!)) n++;
      return n;
    };
    let best: { index: string; rows: number } | undefined;
    for (const node of conjunctsOf(tree)) {
      const set = literalSet(node);
      const keys = set && this.counterKeysOf(node);
      if (!keys) continue;
      let index: { name: string; columns: readonly string[] } | undefined;
      for (const candidate of this.indexes) {
        if (
          candidate.columns[0] === set.property.column &&
          columns.every((column) => candidate.columns.includes(column)) &&
          (!index || sought(candidate) > sought(index))
        )
          index = candidate;
      }
      const rows = this.counterSum(keys);
      if (index && (!best || rows < best.rows)) best = { index: index.name, rows };
    }
    return best?.index;
  }

  /**
   * The window of a carried filter's values read each from an index that leads with the filter column and then the
   * order (`CarriedFilter.valueOrdered`), at most `offset + limit` entries per value, and merged: read first when that
   * is fewer entries than a walk is expected to read, and after a walk that gave up because the matches sit at the
   * far end of the order (`Status ge 'Label Created'` by DeliveredAt desc: none is delivered; a walk of 3 million
   * entries, 0.3 s at 10M rows, where the merge reads 75). Undefined when there is no such index or that reads more
   * entries than the matches.
   */
  private mergedByValue(
    carried: CarriedFilter,
    sort: readonly SortKey[],
    query: OrderedRead,
    window: Window
  ): SqlValue[][] | undefined {
    const ordered = carried.valueOrdered;
    const perValue = window.offset + window.limit;
    if (!ordered || perValue * ordered.values.length > carried.matches) return undefined;
    return this.mergeValues({ ...ordered, column: carried.columns[0]! }, sort, query, window);
  }

  /**
   * The window of a `$filter` sorted by a counted column (a few values, then the key), read from the order's index as
   * one branch per value of that column and merged, when the filter is:
   * - on the key alone (a range: "starts with", "less than"), each branch seeking the range within its value. SQLite
   *   seeks that way by itself for some columns (`Carrier`, a skip-scan) but scans the whole index for others
   *   (`Status`: 97 ms at 10M rows for `ShipmentNumber gt …`);
   * - or needs the order's column in a few values beside other conditions (from the top, through `and`s), each branch
   *   reading that value's entries, testing the filter on them, when that costs less than sorting the matches (see
   *   below). SQLite reads the other conditions' rows through their index and sorts them all: `Status eq 'Delivered'
   *   and DestinationCity eq 'Mexico City' and Carrier ne 'FedEx'` by Carrier desc, 344,512 of them, 1.2 s at 10M
   *   rows.
   * Undefined otherwise, or past 64 values.
   */
  private mergedBySortValue(
    options: QueryOptions,
    query: OrderedRead,
    window: Window
  ): SqlValue[][] | undefined {
    const counts = this.entity.counts;
    const tree = options.filterTree;
    if (!this.counter || !counts || options.search || !tree) return undefined;
    const sortColumns = options.sort.map((k) => k.property.column);
    const first = sortColumns[0]!;
    const key = this.entity.key.column;
    if (!counts.columns.includes(first)) return undefined;
    const ordered = this.orderIndexes(sortColumns);
    if (!ordered[0]) return undefined;
    const merge = isIndexedRange(tree, [key])
      ? { index: ordered[0].name, values: this.sortValues(first), rest: tree }
      : this.sortValueSet(options, window, ordered);
    if (!merge?.values || merge.values.length > MAX_MERGED_VALUES) return undefined;
    return this.mergeValues(
      {
        index: merge.index,
        column: first,
        values: merge.values,
        filter: merge.rest && compileFilter(merge.rest)
      },
      options.sort,
      query,
      window
    );
  }

  /** Every value of a counted column its counters know (NULL as null), at most MAX_MERGED_VALUES + 1 of them. */
  private sortValues(column: string): (string | null)[] {
    const sql = `SELECT value FROM ${quoteIdentifier(this.entity.counts!.table)} WHERE dimension = ? AND n > 0 LIMIT ?`;
    const params = [column, MAX_MERGED_VALUES + 1];
    this.lastQueries.push({ sql, params });
    return (
      this.statement(sql)
        .pluck()
        .all(...params) as string[]
    ).map(counterValue);
  }

  /**
   * The values of the order's first column a filter needs (a top-level `eq`/`in` of it), the order's index to read
   * them from (one that carries every column the filter reads, if any) and the rest of the filter, when reading each
   * value's entries until it has the window costs less than sorting the matches: about `(offset + limit) × values ×
   * their rows / matches` entries, as if the matches were spread evenly (a row read each when the index does not
   * carry the filter's columns), against `matches × SORT_COST_IN_ENTRIES`. The matches come from the counters;
   * undefined when they do not count them.
   */
  private sortValueSet(
    options: QueryOptions,
    window: Window,
    ordered: readonly { name: string; columns: readonly string[] }[]
  ): { index: string; values: (string | null)[]; rest: FilterNode | undefined } | undefined {
    const first = options.sort[0]!.property.column;
    const tree = options.filterTree!;
    const conjuncts = conjunctsOf(tree);
    // A negation's keys start with the whole table's ('*').
    const set = conjuncts.find((node) => this.counterKeysOf(node)?.[0]?.[0] === first);
    const keys = set && this.counterKeysOf(set);
    if (!keys) return undefined;
    const matches = this.countedByColumnCounters(options);
    if (matches === undefined) return undefined;
    const columns = filterColumns(tree);
    const carrying = ordered.find((index) => columns.every((c) => index.columns.includes(c)));
    const entryCost = carrying ? 1 : ROW_READ_COST_IN_ENTRIES;
    const entries =
      ((window.offset + window.limit) * keys.length * this.counterSum(keys)) / Math.max(1, matches);
    if (entries * entryCost >= matches * SORT_COST_IN_ENTRIES) return undefined;
    // Each branch holds one of the values: the rest of the filter is tested on its entries. (With the set left in,
    // SQLite read one branch through the set, every value's entries, and sorted them: 0.6 s for `Status gt …`.)
    const others = conjuncts.filter((node) => node !== set);
    return {
      index: (carrying ?? ordered[0]!).name,
      values: keys.map(([, value]) => counterValue(value)),
      rest: others.length
        ? others.reduce((left, right) => ({ kind: 'and', left, right, position: left.position }))
        : undefined
    };
  }

  /**
   * The window read as one branch per value of `column` from `index` (which leads with it, then the order): each
   * branch reads at most `offset + limit` entries where the column holds that value (and `filter`, when given), in
   * order. The branches give rowids and sort keys, which the index carries, and only the window's rows are read: a
   * key range by `DestinationCity` read 25 rows of each of 21 cities, 525 rows at random on a first visit (33 ms at
   * 10M rows), for a page of 25.
   *
   * When `column` is the order's first column, every row of one branch sorts before every row of the next, so the
   * branches are read one after another in the order's direction, each for what the window still lacks, until it is
   * full (see `concatenatedBranches`). Otherwise (a carried filter's values) SQLite merges them as it reads them.
   */
  private mergeValues(
    merge: {
      readonly index: string;
      readonly column: string;
      readonly values: readonly (string | null)[];
      readonly filter?: SqlFragment;
    },
    sort: readonly SortKey[],
    query: OrderedRead,
    window: Window
  ): SqlValue[][] {
    const { columns, orderBy, segment } = query;
    const table = quoteIdentifier(this.entity.table);
    // One value's entries, in the index's order (which is the page's once the value is fixed).
    const branch = (value: string | null, selected: string): SqlFragment => ({
      sql:
        `SELECT ${selected} FROM ${table} INDEXED BY ${quoteIdentifier(merge.index)} WHERE ` +
        [
          `${quoteIdentifier(merge.column)} ${value === null ? 'IS NULL' : '= ?'}`,
          ...(merge.filter ? [merge.filter.sql] : []),
          ...(segment ? [segment.sql] : [])
        ].join(' AND '),
      params: [
        ...(value === null ? [] : [value]),
        ...(merge.filter?.params ?? []),
        ...(segment?.params ?? [])
      ]
    });
    let rowids: SqlFragment;
    if (sort[0]?.property.column === merge.column) {
      const read = this.concatenatedBranches(
        merge.values,
        sort[0].descending,
        window,
        (value, limit) => {
          const { sql, params } = branch(value, 'rowid');
          return { sql: `${sql} ORDER BY ${orderBy} LIMIT ?`, params: [...params, limit] };
        }
      );
      rowids = { sql: 'SELECT value FROM json_each(?)', params: [JSON.stringify(read)] };
    } else {
      // The branches bare in the compound: SQLite reads each from its index in the order and merges them as it goes,
      // stopping at the window's end. Each wrapped in a subquery with its own ORDER BY and LIMIT, every branch was
      // read to `offset + limit` entries and sorted before the merge took its first row.
      const keys = sort.map((k) => quoteIdentifier(k.property.column)).join(', ');
      const branches = merge.values.map((value) => branch(value, `rowid AS merged_rowid, ${keys}`));
      rowids = {
        sql:
          `SELECT merged_rowid FROM (${branches.map((b) => b.sql).join(' UNION ALL ')} ` +
          `ORDER BY ${orderBy} LIMIT ? OFFSET ?)`,
        params: [...branches.flatMap((b) => b.params), window.limit, window.offset]
      };
    }
    const sql = `SELECT ${columns} FROM ${table} WHERE rowid IN (${rowids.sql}) ORDER BY ${orderBy}`;
    this.lastQueries.push({ sql, params: rowids.params });
    return this.statement(sql)
      .raw()
      .all(...rowids.params) as SqlValue[][];
  }

  /**
   * The rowids of the window of branches that each hold one value of the order's first column: the values in the
   * order's direction (NULL first ascending, last descending, as SQLite sorts it; strings by their UTF-8 bytes, as
   * its BINARY collation), each branch asked for what the window still lacks, until it is full. A merge of them read
   * every branch's first rows before it could return one: `Status eq 'Exception' and DestinationCity eq 'Manchester'
   * and Carrier ne 'DB Schenker'` by `Carrier desc` walked four carriers' entries until each had 26 matches, 44–54 ms
   * at 10M rows from a dropped page cache, where the first carrier alone holds the page (12–14 ms).
   */
  private concatenatedBranches(
    values: readonly (string | null)[],
    descending: boolean,
    window: Window,
    branch: (value: string | null, limit: number) => SqlFragment
  ): number[] {
    const ascending = [...values].sort((a, b) =>
      a === null
        ? b === null
          ? 0
          : -1
        : b === null
          ? 1
          : Buffer.compare(Buffer.from(a), Buffer.from(b))
    );
    const rowids: number[] = [];
    const wanted = window.offset + window.limit;
    for (const value of descending ? ascending.reverse() : ascending) {
      if (rowids.length >= wanted) break;
      const { sql, params } = branch(value, wanted - rowids.length);
      this.lastQueries.push({ sql, params });
      rowids.push(
        ...(this.statement(sql)
          .pluck()
          .all(...params) as number[])
      );
    }
    return rowids.slice(window.offset);
  }

  /**
   * The index whose leading columns are the order's, if any. A whole-table order always reads it: with an index
   * `(f, c, key)` on a low-cardinality `f` present, SQLite would otherwise answer a keyset page of a nullable `c`
   * (`c IS ? AND key > ?`) with a skip-scan of that index and a sort.
   */
  private orderIndex(sort: readonly SortKey[]): string | undefined {
    return this.orderIndexes(sort.map((k) => k.property.column))[0]?.name;
  }

  /** The indexes (not SQLite's own key index) whose leading columns are `columns`. */
  private orderIndexes(columns: readonly string[]): { name: string; columns: readonly string[] }[] {
    return this.indexes.filter(
      (candidate) =>
        !candidate.name.startsWith('sqlite_autoindex_') &&
        columns.every((c, i) => candidate.columns[i] === c)
    );
  }

  /**
   * The carried-filter walk's inputs, when `$filter` is an `eq` or `in` on a counted column (no `$search`) and an
   * index leads with the sort columns: the index (one carrying the column when there is one), what an entry costs,
   * the column, its matches and the table's rows.
   */
  private carriedFilter(options: QueryOptions): CarriedFilter | undefined {
    const keys = this.counter && this.counterKeys(options);
    if (!this.counter || !keys?.[0] || keys[0][0] === '*') return undefined;
    const column = keys[0][0];
    const sortColumns = options.sort.map((k) => k.property.column);
    // Filtering on the order's own first column, or one value and an index leading with the filter and then the
    // order, answers without sorting: nothing to walk. (Several values would each be read in order, then sorted.)
    const leading = [column, ...sortColumns];
    if (sortColumns[0] === column || (keys.length === 1 && this.orderIndexes(leading).length > 0)) {
      return undefined;
    }
    // The order's index, one that carries the filter column if there is one; else each walked entry reads its row.
    const ordered = this.orderIndexes(sortColumns);
    const carrying = ordered.find((c) => c.columns.indexOf(column) >= sortColumns.length);
    const index = carrying ?? ordered[0];
    if (!index) return undefined;
    const keyColumn = this.entity.key.column;
    const valueOrdered = this.orderIndexes(leading)[0];
    return {
      index: index.name,
      entryCost: carrying ? 1 : ROW_READ_COST_IN_ENTRIES,
      keyOrdered: this.indexes.find((c) => c.columns[0] === column && c.columns[1] === keyColumn)
        ?.name,
      valueOrdered: valueOrdered && {
        index: valueOrdered.name,
        values: keys.map(([, value]) => counterValue(value))
      },
      columns: [column],
      matches: this.counterSum(keys),
      matchesExact: true,
      total: this.tableRows()
    };
  }

  /**
   * The walk's inputs for a `$filter` that indexes read (ranges of an indexed column: "starts with", "less than" on
   * the key, a ShippedAt period; counted `eq`/`in`; several of them under `and`) when the order is another column's:
   * SQLite reads the filter's rows through one index and sorts them all (`startswith(ShipmentNumber,'SHP-0001')`
   * newest first: a million rows, 1 s at 10M), where walking the order's index and testing the filter on its entries
   * finds a page after a few thousand (each entry reading its row when that index does not carry every column the
   * filter reads). How many rows match comes from the counters when they answer the filter; else it is found by
   * reading at most `rangeProbe + 1` of them (default `RANGE_PROBE`) through the filter's indexes, and more than that
   * is a lower bound the walk's cost model takes as the matches.
   */
  private probedFilter(options: QueryOptions): CarriedFilter | undefined {
    const counted = this.entity.counts?.columns ?? [];
    const tree = options.filterTree;
    if (!this.counter || options.search || !tree || !options.filter) return undefined;
    // One counted `eq`/`in`, or its negation: the counters know its matches (see `carriedFilter`).
    if (this.counterKeys(options)) return undefined;
    const columns = [...new Set(filterColumns(tree))];
    const sortColumns = options.sort.map((k) => k.property.column);
    if (columns.includes(sortColumns[0]!)) return undefined;
    // A key range sorted by a counted column (a few values, then the key): SQLite reads it value by value from that
    // column's index, seeking the range in each (a skip-scan), in order.
    const key = this.entity.key.column;
    if (counted.includes(sortColumns[0]!) && columns.every((c) => c === key)) return undefined;
    const ordered = this.orderIndexes(sortColumns);
    const carrying = ordered.find((candidate) =>
      columns.every((c) => candidate.columns.includes(c))
    );
    const index = carrying ?? ordered[0];
    if (!index) return undefined;
    // Counted exactly by the counters (any filter on counted columns they hold together), or probed through an
    // index, which reading at most `rangeProbe + 1` matches bounds. Not a key substring beside a customer
    // (`perValueKeySubstringCount`): SQLite reads the customer's rows in the order from the index leading with it,
    // where this walk would read the whole table's order (the Account page's search of the largest customer for
    // `0001`: 3 ms, against 38–53 ms walked at 10M rows).
    let matches = this.countedByColumnCounters(options);
    let matchesExact = true;
    const leading = this.indexes.map((candidate) => candidate.columns[0]!);
    if (matches === undefined && !isIndexedConjunction(tree, leading, counted)) return undefined;
    if (matches === undefined) {
      const sql = `SELECT count(*) FROM (SELECT 1 FROM ${quoteIdentifier(this.entity.table)} WHERE ${options.filter.sql} LIMIT ?)`;
      const params = [...options.filter.params, this.rangeProbe + 1];
      this.lastQueries.push({ sql, params });
      matches = this.statement(sql)
        .pluck()
        .get(...params) as number;
      matchesExact = matches <= this.rangeProbe;
    }
    const whole = {
      index: index.name,
      entryCost: carrying ? 1 : ROW_READ_COST_IN_ENTRIES,
      columns,
      matches,
      matchesExact,
      total: this.tableRows()
    };
    return this.valueWalk(tree, sortColumns, whole) ?? whole;
  }

  /**
   * A walk of one value's entries in the order, in place of `whole` (a walk of the table's order), when the filter
   * needs a counted column `eq` a value (from the top, through `and`s), an index leads with that column and then the
   * order, and walking that value's entries costs less: its rows, each costing an entry (when the index carries every
   * column the filter reads) or a row read, against the table's rows at `whole`'s entry cost. A related list's
   * customer with a status (`CustomerNumber eq 'C-000002' and Status eq 'Delivered'`, newest first): the table's
   * order walked, reading each row for the customer, took 66 ms at 10M rows, where the shipments delivered are
   * older than the newest in transit; the customer's 131,521 entries walked, 2 ms. Undefined otherwise.
   */
  private valueWalk(
    tree: FilterNode,
    sortColumns: readonly string[],
    whole: CarriedFilter
  ): CarriedFilter | undefined {
    let best: CarriedFilter | undefined;
    for (const node of conjunctsOf(tree)) {
      const equality = literalEquality(node);
      const rows =
        equality && typeof equality.value === 'string' ? this.countedRows(node) : undefined;
      if (!equality || rows === undefined) continue;
      const column = equality.property.column;
      const index = this.orderIndexes([column, ...sortColumns])[0];
      if (!index) continue;
      const entryCost = whole.columns.every((c) => index.columns.includes(c))
        ? 1
        : ROW_READ_COST_IN_ENTRIES;
      const cost = rows * entryCost;
      if (cost >= (best ? best.total * best.entryCost : whole.total * whole.entryCost)) continue;
      best = {
        ...whole,
        index: index.name,
        entryCost,
        total: rows,
        within: { sql: `${quoteIdentifier(column)} = ?`, params: [equality.value] }
      };
    }
    return best;
  }

  /**
   * Where the page at `skip` starts, from the positions known for this ordering (found or repaired now if need be);
   * undefined when the ordering has no row at `skip`. See `SkipPositions`. The ordering is the query as `asked`: its
   * resolution names rows read from indexes (a term's candidates, listed by rowid), which change with the rows while
   * the ordering's rows are the same. Runs inside the page's snapshot, so the versions, the log and the rows it reads
   * agree.
   */
  private locate(
    options: QueryOptions,
    asked: QueryOptions,
    orderBy: string,
    skip: number
  ): PageStart | undefined {
    const { version, log } = this.versionOf(
      options,
      options.sort.map((k) => k.property.column)
    );
    const ordering = JSON.stringify([asked.filterText ?? null, asked.searchText ?? null, orderBy]);
    const sortKey = options.sort.map((k) => quoteIdentifier(k.property.column)).join(', ');
    const reader: OrderingReader = {
      hop: (after, offset) => {
        const segments = after && keysetSegments(options.sort, after);
        return this.scan(options, sortKey, orderBy, segments, { offset, limit: 1 })[0];
      }
    };
    if (log) {
      const table = quoteIdentifier(log.table);
      reader.changes = (since, limit) => {
        if (!log.reaches(since)) return undefined;
        const logged = this.loggedWhere(asked, since);
        const sql = `SELECT change_seq, change_sign FROM ${table}${logged.sql} ORDER BY change_seq LIMIT ?`;
        const params = [...logged.params, limit];
        this.lastQueries.push({ sql, params });
        return (
          this.statement(sql)
            .raw()
            .all(...params) as [number, 1 | -1][]
        ).map(([seq, sign]): OrderingChange => ({ seq, sign }));
      };
      reader.follows = (change, key) => {
        const segments = keysetSegments(options.sort, key);
        const sql =
          `SELECT EXISTS (SELECT 1 FROM ${table} WHERE change_seq = ? AND ` +
          `(${segments.map((segment) => `(${segment.sql})`).join(' OR ')}))`;
        const params = [change.seq, ...segments.flatMap((segment) => segment.params)];
        this.lastQueries.push({ sql, params });
        return (
          this.statement(sql)
            .pluck()
            .get(...params) === 1
        );
      };
    }
    return this.positions.locate(ordering, version, skip, reader);
  }

  /**
   * Where the data `options` reads stands: the versions of the row set and of every column it filters or searches
   * by (and `columns`), and the change log's last entry, with a test of whether the log still holds every change
   * after a given one. Read inside the caller's snapshot, so the versions, the log and the rows agree.
   */
  private versionOf(
    options: QueryOptions,
    columns: readonly string[]
  ): {
    version: OrderingVersion;
    log?: { readonly table: string; reaches(since: number): boolean };
  } {
    const table = this.entity.version!.name;
    const versions = new Map(this.versionReader!.all(table, table, table) as [string, number][]);
    this.lastQueries.push({ sql: this.versionReader!.source, params: [table, table, table] });
    const read = new Set(columns);
    if (options.filterTree) for (const c of filterColumns(options.filterTree)) read.add(c);
    if (options.search) {
      for (const p of this.entity.properties) if (p.searchable) read.add(p.column);
    }
    const stamp = [table, ...[...read].sort().map((c) => `${table}.${c}`)]
      .map((name) => versions.get(name) ?? '?')
      .join(':');
    if (!this.changeLogBounds) return { version: { stamp } };
    const [first, last] = this.changeLogBounds.get() as [number | null, number | null];
    this.lastQueries.push({ sql: this.changeLogBounds.source, params: [] });
    return {
      version: { stamp, seq: last ?? 0 },
      log: {
        table: this.entity.version!.changes!,
        // Entries are numbered without gaps and only the oldest are pruned: the log holds every change after
        // `since` when its first entry is at most the next one.
        reaches: (since) => first !== null && last !== null && last >= since && first <= since + 1
      }
    };
  }

  /**
   * The change log's rows after change `since` that match `options`, as its WHERE clause. The plain predicates are
   * used: the sets read from indexes (`resolveSubstrings`, `resolveSearch`) hold current rows, not logged ones.
   */
  private loggedWhere(options: QueryOptions, since: number): Segment {
    const plain = options.filterTree && compileFilter(options.filterTree);
    const search =
      options.searchText === undefined ? undefined : compileSearch(options.searchText, this.entity);
    return this.where(
      { ...options, filter: plain, search },
      { sql: 'change_seq > ?', params: [since] }
    );
  }

  /**
   * One page of results, with the token for the next one, read in one snapshot: the candidate rowids read to resolve
   * the query (see `substringCandidates`), the versions and positions a deep `$skip` starts from, the rows and their
   * count all see the same rows.
   */
  page(query: QueryOptions, maxPageSize = this.pageSize): PageResult {
    // `$filter=<key> eq '…'` alone (how Salesforce Connect looks a record up) is one statement, its own snapshot: no
    // transaction around it and nothing to resolve (BEGIN and COMMIT were a third of its time in process).
    const key =
      query.skipToken === undefined && !query.count && !query.skip && query.top !== 0
        ? this.keyEquality(query)
        : undefined;
    if (key !== undefined) {
      this.startRequest();
      const row = this.byKey(key, query.select);
      return { rows: row ? [row] : [] };
    }
    return this.snapshot(() => this.readPage(query, maxPageSize));
  }

  /** `page`, inside its snapshot. */
  private readPage(query: QueryOptions, maxPageSize: number): PageResult {
    this.startRequest();
    const size = Math.max(1, Math.min(maxPageSize, this.pageSize));
    // The token's binding to the query as asked (a search read as a filter is still that search): a SHA-256
    // computed only when a token is read or a next link is emitted.
    const fingerprint = (): string =>
      PageTokens.fingerprint([
        query.filterText,
        query.searchText,
        query.orderByText,
        query.selectText,
        String(query.count)
      ]);
    let cursor: PageCursor | undefined;
    let count: number | undefined;
    if (query.skipToken !== undefined) {
      cursor = this.tokens.decode(query.skipToken, fingerprint(), query.sort.length);
      checkCursorTypes(cursor, query.sort);
      count = cursor.count;
    }
    const remaining = cursor ? cursor.remaining : (query.top ?? null);
    // What the page reads at most (see `searchPageParts`): the rows `$skip` steps over, then the page's rows and one
    // more, or the page's rows and one more after a next link's position. A `$skip` deep enough to start from a known
    // position is not read from each column's first rows (see `SkipPositions`).
    const skipped = query.skip ?? 0;
    const window: PageWindow = {
      rows: skipped + Math.min(size, remaining ?? size) + 1,
      after: cursor?.after,
      positioned: skipped >= this.positions.stride
    };
    const options = this.resolveSubstrings(query, this.maxSubstringCandidates, window);
    // A count reads more candidates than a page (see `countingBudget`): resolved so once, when a count needs it.
    let resolvedForCounting: QueryOptions | undefined;
    const counting = (): QueryOptions =>
      (resolvedForCounting ??= this.resolveSubstrings(query, this.countingBudget()));
    // `$count` is read after the page, which may have counted the rows itself (see below).
    const countLater = options.count && count === undefined;
    if (remaining === 0)
      return { rows: [], count: countLater ? this.countResolved(options, query, counting) : count };
    // `$filter=<key> eq '…'` (how a record is looked up): at most one row, read like `Shipments('…')`.
    const key = cursor ? undefined : this.keyEquality(options);
    if (key !== undefined) {
      const row = options.skip ? undefined : this.byKey(key, options.select);
      return {
        rows: row ? [row] : [],
        count: countLater ? this.countResolved(options, query, counting) : count
      };
    }

    const want = remaining === null ? size : Math.min(size, remaining);
    // Ask for one row more than the page holds to know whether another page follows.
    const limit = remaining !== null && remaining <= size ? want : want + 1;
    const sortColumns = options.sort.map((k) => k.property);
    const fetched = [...new Set([...options.select, ...sortColumns])];
    const columns = fetched.map((p) => quoteIdentifier(p.column)).join(', ');
    const orderBy = orderByClause(options.sort);

    // A deep `$skip` starts from the nearest known position instead of stepping over every skipped row.
    const skip = cursor ? 0 : (options.skip ?? 0);
    const deep = this.versionReader !== undefined && skip >= this.positions.stride;
    const read = (scanned: QueryOptions): SqlValue[][] => {
      const start: PageStart | undefined = deep
        ? this.locate(scanned, query, orderBy, skip)
        : { offset: skip };
      const after = cursor ? cursor.after : start?.after;
      return start
        ? this.scan(scanned, columns, orderBy, after && keysetSegments(scanned.sort, after), {
            offset: start.offset,
            limit
          })
        : [];
    };
    let rows: SqlValue[][] | undefined;
    if (countLater && !cursor && !deep) {
      const found = this.fewRows(options, query, counting);
      if (found) ({ rows, count } = { rows: read(found.options), count: found.count });
    }
    if (!rows) {
      rows = read(options);
      if (countLater) {
        // A scan that ran out before `limit` read every row from `skip` on (when it found any, or started at the
        // first): they are the count, with no second pass over the matches (half the time of a rare search).
        const exhausted = !cursor && rows.length < limit && (rows.length > 0 || skip === 0);
        count = exhausted ? skip + rows.length : this.countResolved(options, query, counting);
      }
    }

    const hasMore = rows.length > want;
    const pageRows = hasMore ? rows.slice(0, want) : rows;
    let nextToken: string | undefined;
    const stillOwed = remaining === null ? null : remaining - pageRows.length;
    if (hasMore && (stillOwed === null || stillOwed > 0)) {
      const last = pageRows[pageRows.length - 1]!;
      const after = sortColumns.map((p) => last[fetched.indexOf(p)] ?? null);
      nextToken = this.tokens.encode({ after, remaining: stillOwed, count }, fingerprint());
    }
    const result = pageRows.map((row) =>
      toEntity(
        options.select,
        options.select.map((p) => row[fetched.indexOf(p)] ?? null)
      )
    );
    return { rows: result, count, nextToken };
  }
}

/**
 * What sorting one match costs, in index entries walked, and the least budget a carried-filter walk gets. Measured at
 * 10M rows: 1.7 µs to read a matching row in key order and sort it, 76 ns to walk an entry and test a carried column
 * (a ratio of ~22); 10 makes a walk that gives up cost about half the sort that follows it.
 */
const SORT_COST_IN_ENTRIES = 10;
/**
 * Most rows of a key range counted to choose between SQLite's read of the range and a walk of the order's index
 * (`EntityQueries.probedFilter`): about a millisecond at 10M rows. A range past it is walked when a page needs
 * fewer than about `RANGE_PROBE × SORT_COST_IN_ENTRIES / rows` of the table's entries (every first page at 10M rows).
 */
const RANGE_PROBE = 16_384;
/** Most values of a sort column a key range is read by, one branch each (see `EntityQueries.mergedBySortValue`). */
const MAX_MERGED_VALUES = 64;
/**
 * What walking an entry costs when the index does not carry the filter column and the row must be read to test it,
 * in carried entries: 2.2 µs against 76 ns at 10M rows (`customer_number` by `shipped_at`). Such a walk pays only for
 * a frequent filter (several customers' hundreds of thousands of rows: 1.3 ms to find a page, where sorting them
 * took 0.9 s).
 */
const ROW_READ_COST_IN_ENTRIES = 30;
/**
 * What reading a substring's candidate row costs, in rows of a counted condition walked and tested instead: about
 * 0.5 µs against 95 ns at 10M rows (the largest customer's 316,000 rows tested against the Account page's five fields
 * in 30 ms, 14,300 candidates of a term read and tested in 7 ms).
 */
const CANDIDATE_COST_IN_TESTED_ROWS = 5;
/**
 * What reading a substring's candidate row costs, in entries of a counted value's index walked in the page's order
 * instead, when the page's walk stops after a number of matches the counters tell (see
 * `EntityQueries.resolveSubstrings`): a term's candidates are rows at random, seldom cached (about 2.9 µs each the
 * first time, 4,400 of them for `7920` at 10M rows), where the walk reads the index that carries the key in order
 * (about 100 ns an entry, 66,000 of the largest customer's in 7 ms).
 */
const CANDIDATE_COST_IN_WALKED_ENTRIES = 20;
/**
 * Trigram index entries read for the cost of reading one candidate row (see `EntityQueries.substringCandidates`):
 * about 7–20 ns an entry at 10M rows (`300 AND 004`: 1.2 million in 9 ms; `014 AND 143`: 200,000 in 4 ms) against
 * about 0.5 µs a candidate.
 */
const TRIGRAM_ENTRIES_PER_CANDIDATE = 32;
/**
 * Most values a string function on a counted column is read as (see `EntityQueries.resolveSubstrings`): every
 * customer of the 10M-row benchmark (1,000). Such a list is prepared in about a millisecond and counted with one
 * counter lookup per value (about 1 µs each); past it the function is tested on rows.
 */
const MAX_RESOLVED_VALUES = 1000;
/**
 * Most rows a column may be set on for a string function on it to be read through its index (see
 * `EntityQueries.resolveSubstrings`): finding out reads at most this many index entries (about 1 ms), and the set of
 * matching keys is at most this big.
 */
const MAX_SPARSE_ROWS = 20_000;
/**
 * Most candidate rows a substring, an `or` of string functions or a `$search` term is read through indexes with (see
 * `EntityQueries.resolveSubstrings`; beside a counted condition, its rows / CANDIDATE_COST_IN_TESTED_ROWS instead): each
 * costs a row read and its share of a sort (about 1 µs, so a few ms at most), where a term more frequent than that is
 * met within a few thousand entries of the order's own walk. Also the most rows a first page and its count are read
 * in one pass for (`EntityQueries.fewRows`).
 */
const MAX_SUBSTRING_CANDIDATES = 4096;
/**
 * How many candidate rows a `$search` term is read through, as √(rows × this) (see `EntityQueries.searchBudget`). A
 * page walks the order until it meets 26 matches, about rows / matches × 26 rows, testing the term on five columns of
 * each (1.8 µs a row at 10M rows); reading, testing and sorting a candidate costs about 2.3 µs. As the matches are at
 * most the candidates, reading them costs less while they are fewer than √(rows × 26 × 1.8 / 2.3) ≈ √(rows × 20):
 * 14,000 at 10M rows, where the key's last 4 digits (4,000 matches, 4,300 candidates) took 115 ms to walk. A page
 * that can be read from each column's first rows (`searchPageParts`) is, past `maxSubstringCandidates`.
 */
const SEARCH_CANDIDATE_FACTOR = 20;
/**
 * Most candidate rows read beside a counted condition (its rows / CANDIDATE_COST_IN_TESTED_ROWS otherwise): finding out
 * reads at most this many trigram index entries, a few milliseconds.
 */
const MAX_CANDIDATES_BESIDE = 65_536;
/** Values sampled to tell how common a trigram is (see `EntityQueries.valueSample`). */
const VALUE_SAMPLE_SIZE = 256;
const MIN_WALK_BUDGET = 10_000;

/** Defaults of `EntityQueries` that tests shrink to reach their edges with a small table. */
export interface QueryTuning {
  readonly positions?: SkipPositions;
  readonly knownCounts?: KnownCounts;
  /** Least number of index entries a carried-filter walk may read before giving up (default 10,000). */
  readonly minWalkBudget?: number;
  /** Most values a string function on a counted column is read as (default 1,000; see `resolveSubstrings`). */
  readonly maxResolvedValues?: number;
  /** Most rows a column may be set on to be read as sparse (default 20,000; see `resolveSubstrings`). */
  readonly maxSparseRows?: number;
  /**
   * Most candidate rows a substring is read through a trigram index with, most rows an `or` of string functions or
   * a `$search` term is read through indexes with, and most rows a first page and its count are read in one pass for
   * (default 4,096; see `resolveSubstrings`, `fewRows`).
   */
  readonly maxSubstringCandidates?: number;
  /** Most rows of a key range counted to choose its plan (default 16,384; see `probedFilter`). */
  readonly rangeProbe?: number;
  /**
   * A `$search` term is read through its candidate rows while they are fewer than √(rows × this), and at least
   * `maxSubstringCandidates` (default 20; see `searchBudget`).
   */
  readonly searchCandidateFactor?: number;
  /**
   * Trigram index entries read for the cost of one candidate row, where a page weighs intersecting a term's trigrams
   * against walking (default 32; see `substringCandidates`).
   */
  readonly trigramEntriesPerCandidate?: number;
}

/** Where the rows holding a `$search` term are (see `EntityQueries.searchSources`). */
interface SearchSources {
  /** Each counted column's values that contain the term, with their rows. */
  readonly values: { readonly property: PropertyDefinition; readonly values: [string, number][] }[];
  /** Queries of the rowids of other rows that may hold it (the key's candidates, a sparse column's matches). */
  readonly others: RowSource[];
}

/** A filter tested on the entries of the index serving the order (see `EntityQueries.segmentRows`). */
interface CarriedFilter {
  readonly index: string;
  /**
   * An index leading with the filter column then the key, when there is one: after a walk gives up, the matches are
   * read through it in key order — the table's own order, as shipments are numbered when inserted — which sorts them
   * in about half the time of SQLite's pick at 10M rows (498 vs 825 ms for 300,000 matches).
   */
  readonly keyOrdered?: string;
  /**
   * An index leading with the filter column and then the order, and the filter's values: after a walk gives up, each
   * value's first entries are read from it in order and merged (`EntityQueries.mergedByValue`).
   */
  readonly valueOrdered?: { readonly index: string; readonly values: readonly (string | null)[] };
  /** The columns the filter reads, which `index` carries. */
  readonly columns: readonly string[];
  /** What walking one entry costs, in entries of an index that carries the column (1 when `index` does). */
  readonly entryCost: number;
  /** The filter's matches, exactly when counted; else at least this many (found by reading them: `probedFilter`). */
  readonly matches: number;
  readonly matchesExact: boolean;
  /** The entries the walk reads from: the table's rows, or those of `within`. */
  readonly total: number;
  /**
   * The `eq` of `index`'s leading column the walk reads under, when it walks one value's entries (see
   * `EntityQueries.probedFilter`).
   */
  readonly within?: SqlFragment;
}

/** What a merge reads for a segment's window: the columns, the order, and the keyset condition it continues after. */
interface OrderedRead {
  readonly columns: string;
  readonly orderBy: string;
  readonly segment: Segment | undefined;
}

/** How many rows a scan passes over before it keeps any, and how many it keeps. */
interface Window {
  readonly offset: number;
  readonly limit: number;
}

/**
 * A maintained counter to add up (see `EntityQueries.counterKeys`): its dimension (a counted column, or `*` for the
 * table), its value (`v:<value>` or `null`), and -1 when it is taken away.
 */
type CounterKey = readonly [dimension: string, value: string, sign?: -1 | 1];

/**
 * Each way of writing the ASCII letters of `text` (lower case) in either case (2^n for n letters): the texts SQLite's
 * `lower` folds to it.
 */
function caseSpellings(text: string): string[] {
  let spellings = [''];
  for (const character of text) {
    const cases = /[a-z]/.test(character) ? [character, character.toUpperCase()] : [character];
    spellings = spellings.flatMap((start) => cases.map((c) => start + c));
  }
  return spellings;
}

/**
 * A `$filter` node that is the string function `name` of a property and a string literal (`contains(ShipmentNumber,
 * '37')`), as that property and text; undefined otherwise.
 */
function textCall(
  node: FilterNode | undefined,
  name: 'contains' | 'startswith'
): { property: PropertyDefinition; text: string } | undefined {
  if (node?.kind !== 'call' || node.name !== name) return undefined;
  const [subject, text] = node.args;
  return subject.kind === 'property' && text.kind === 'literal' && typeof text.value === 'string'
    ? { property: subject.property, text: text.value }
    : undefined;
}

/** The column value a counter's value key (`v:<value>`, or `null`) stands for. */
function counterValue(key: string): string | null {
  return key === 'null' ? null : key.slice(2);
}

/**
 * The rows a page reads (those `$skip` steps over, its rows and one more), the sort key it starts after, and whether
 * a known position starts it (a `$skip` of `SkipPositions`' stride or more): its rows are then not read from each
 * column's first rows (see `searchPageParts`).
 */
interface PageWindow {
  readonly rows: number;
  readonly after?: readonly SqlValue[];
  readonly positioned: boolean;
}

/** A query of rowids, with how many rows it reads. */
type RowSource = SqlFragment & { readonly rows: number };

/** `<table>.rowid` in any of `sources`, read as one union (false when there are none). */
function rowidIn(table: string, sources: readonly SqlFragment[]): SqlFragment {
  if (sources.length === 0) return { sql: '0', params: [] };
  return {
    sql: `${quoteIdentifier(table)}.rowid IN (${sources.map((source) => source.sql).join(' UNION ALL ')})`,
    params: sources.flatMap((source) => source.params)
  };
}

/**
 * A resolved `$filter` as two filters that no row satisfies both of and whose rows together are its rows, when an
 * `or` it needs true (reached from the top through `and`s alone) has disjuncts read from a sparse column's index
 * (`sparse`, see `EntityQueries.sparseColumnRows`) beside others: the first has the others in the `or`'s place, the
 * second the sparse ones where the others are not true. Counting both walks the rows testing the others alone, and
 * reads the sparse column's few rows apart, where the filter as one looks every walked row's key up in their set
 * (the Account page's search of the largest customer, 316,000 rows at 10M: 27 → 16 ms). Undefined otherwise.
 */
function disjointFilters(
  tree: FilterNode,
  rewrite: (node: FilterNode) => SqlFragment | undefined,
  sparse: ReadonlySet<FilterNode>
): readonly [DisjointPart, DisjointPart] | undefined {
  const split = (node: FilterNode): FilterNode | undefined => {
    if (node.kind === 'and') return split(node.left) ?? split(node.right);
    if (node.kind !== 'or' || rewrite(node)) return undefined;
    const leaves = disjunctsOf(node);
    return leaves.some((leaf) => sparse.has(leaf)) && leaves.some((leaf) => !sparse.has(leaf))
      ? node
      : undefined;
  };
  const target = split(tree);
  if (!target) return undefined;
  const replaced = (node: FilterNode, by: FilterNode): FilterNode => {
    if (node === target) return by;
    return node.kind === 'and'
      ? { ...node, left: replaced(node.left, by), right: replaced(node.right, by) }
      : node;
  };
  const leaves = disjunctsOf(target);
  const others = leaves
    .filter((leaf) => !sparse.has(leaf))
    .reduce((left, right) => ({ kind: 'or', left, right, position: target.position }));
  const sparseRows = leaves.filter((leaf) => sparse.has(leaf)).map((leaf) => rewrite(leaf)!);
  const othersTested = compileFilter(others, rewrite);
  // Stands for the sparse rows where the others are not true (null or false) in the second filter.
  const sparseOnly: FilterNode = {
    kind: 'literal',
    type: 'boolean',
    value: true,
    position: target.position
  };
  const sparseOnlySql: SqlFragment = {
    sql: `((${sparseRows.map((rows) => rows.sql).join(' OR ')}) AND NOT coalesce(${othersTested.sql}, 0))`,
    params: [...sparseRows.flatMap((rows) => rows.params), ...othersTested.params]
  };
  const othersTree = replaced(tree, others);
  const sparseTree = replaced(tree, sparseOnly);
  return [
    { tree: othersTree, filter: compileFilter(othersTree, rewrite) },
    {
      tree: sparseTree,
      filter: compileFilter(sparseTree, (node) =>
        node === sparseOnly ? sparseOnlySql : rewrite(node)
      )
    }
  ];
}

/**
 * One of a filter's disjoint parts (see `disjointFilters`): its tree (where `true` stands for the sparse column's
 * rows in the second) and its SQL.
 */
interface DisjointPart {
  readonly tree: FilterNode;
  readonly filter: SqlFragment;
}

/** Whether a `$filter` node is one no row passes, as `noRow` and a resolved value list of none write it: `in ()`. */
function isNoRow(node: FilterNode): boolean {
  return node.kind === 'in' && node.list.length === 0;
}

/** `sort` as an SQL ORDER BY list. */
function orderByClause(sort: readonly SortKey[]): string {
  return sort
    .map((k) => `${quoteIdentifier(k.property.column)}${k.descending ? ' DESC' : ''}`)
    .join(', ');
}

/** The operands of an `or` and of the `or`s under it, left to right; the node itself when it is no `or`. */
function disjunctsOf(node: FilterNode): FilterNode[] {
  return node.kind === 'or' ? [...disjunctsOf(node.left), ...disjunctsOf(node.right)] : [node];
}

/** The operands of an `and` and of the `and`s under it, left to right; the node itself when it is no `and`. */
function conjunctsOf(node: FilterNode): FilterNode[] {
  return node.kind === 'and' ? [...conjunctsOf(node.left), ...conjunctsOf(node.right)] : [node];
}

/** What a count is kept under (see `KnownCounts`): the query's `$filter` and `$search` as asked. */
function countKey(asked: QueryOptions): string {
  return JSON.stringify([asked.filterText ?? null, asked.searchText ?? null]);
}

/** A `$filter` that is exactly `<property> eq <literal>` (either side), as its property and literal value. */
function literalEquality(
  tree: FilterNode | undefined
): { property: PropertyDefinition; value: LiteralValue } | undefined {
  if (tree?.kind !== 'compare' || tree.op !== 'eq') return undefined;
  const [property, literal] =
    tree.left.kind === 'property' ? [tree.left, tree.right] : [tree.right, tree.left];
  return property.kind === 'property' && literal.kind === 'literal'
    ? { property: property.property, value: literal.value }
    : undefined;
}

/**
 * A `$filter` that is exactly `<property> eq <literal>` (either side) or `<property> in (<literals>)`, as its property
 * and literal values.
 */
function literalSet(
  tree: FilterNode
): { property: PropertyDefinition; values: LiteralValue[] } | undefined {
  const equality = literalEquality(tree);
  if (equality) return { property: equality.property, values: [equality.value] };
  if (tree.kind !== 'in' || tree.operand.kind !== 'property') return undefined;
  const values: LiteralValue[] = [];
  for (const item of tree.list) {
    if (item.kind !== 'literal') return undefined;
    values.push(item.value);
  }
  return { property: tree.operand.property, values };
}

/**
 * The instant (ms) of a period bound's text when it is in a stored format, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`
 * (a date-time literal's, see `DateTimeValue`); undefined otherwise (a string compared as text).
 */
function storedInstant(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$/.test(text))
    return undefined;
  const instant = Date.parse(text);
  return Number.isFinite(instant) ? instant : undefined;
}

/** The first and the last instants the stored formats write (four-digit years). */
const STORED_INSTANTS = [Date.parse('0000-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59Z')];

/**
 * An instant as a stored `Edm.DateTimeOffset` value, to the second (`YYYY-MM-DDTHH:MM:SSZ`, the fraction cut off),
 * for a bound compared as text: a stored value a second or more later sorts after it, one at or before it sorts at or
 * before it, and an `Edm.Date` (`YYYY-MM-DD`) sorts before it only if its midnight is at or before it. Undefined past
 * the four-digit years.
 */
function storedText(instant: number): string | undefined {
  if (!(instant >= STORED_INSTANTS[0]! && instant <= STORED_INSTANTS[1]!)) return undefined;
  return `${new Date(instant).toISOString().slice(0, 19)}Z`;
}

/** Two conditions that must both hold, as one segment. */
function bothSegments(a: Segment, b: Segment): Segment {
  return { sql: `(${a.sql}) AND (${b.sql})`, params: [...a.params, ...b.params] };
}

/**
 * A `$filter` node that is a range of one property bounded by literals (`gt`/`ge`/`lt`/`le` with a string or date-time
 * literal on either side, under `and`), as the property's column and the text of its tightest bounds (inclusive or
 * not: `prefixRangeCount` reads the rows at the bounds' prefixes with the filter itself); undefined otherwise.
 */
function literalRange(
  node: FilterNode
): { column: string; lower?: string; upper?: string } | undefined {
  if (node.kind === 'and') {
    const left = literalRange(node.left);
    const right = literalRange(node.right);
    if (!left || !right || left.column !== right.column) return undefined;
    const pick = (
      a: string | undefined,
      b: string | undefined,
      max: boolean
    ): string | undefined => (a === undefined ? b : b === undefined ? a : a > b === max ? a : b);
    return {
      column: left.column,
      lower: pick(left.lower, right.lower, true),
      upper: pick(left.upper, right.upper, false)
    };
  }
  if (node.kind !== 'compare' || node.op === 'eq' || node.op === 'ne') return undefined;
  const flipped = node.left.kind === 'literal';
  const [property, literal] = flipped ? [node.right, node.left] : [node.left, node.right];
  if (property.kind !== 'property' || literal.kind !== 'literal') return undefined;
  const value = literal.value;
  const text = typeof value === 'string' ? value : isDateTime(value) ? value.seconds : undefined;
  if (text === undefined) return undefined;
  // `p lt v` bounds p from above; `v lt p` from below.
  const upper = (node.op === 'lt' || node.op === 'le') !== flipped;
  return upper
    ? { column: property.property.column, upper: text }
    : { column: property.property.column, lower: text };
}

/** The condition a `$filter` node negates: the operand of `not`, or `eq` for `ne` (both are null-safe). */
function negationOf(node: FilterNode): FilterNode | undefined {
  if (node.kind === 'not') return node.operand;
  if (node.kind === 'compare' && node.op === 'ne') return { ...node, op: 'eq' };
  return undefined;
}

/**
 * Whether a `$filter` node is never null as compiled (see `sql.ts`): a comparison of properties and literals (`eq`
 * and `ne` are null-safe, the others guard their nullable operands), an `in` list (its operand guarded),
 * or a string function of a property and a literal that are never null, and what `and`, `or` and `not` make of them.
 */
function isNeverNull(node: FilterNode): boolean {
  const plain = (n: FilterNode): boolean => n.kind === 'property' || n.kind === 'literal';
  switch (node.kind) {
    case 'property':
      return !node.property.nullable;
    case 'literal':
      return node.value !== null;
    case 'compare':
      return (
        (plain(node.left) && plain(node.right)) ||
        (isNeverNull(node.left) && isNeverNull(node.right))
      );
    case 'and':
    case 'or':
      return isNeverNull(node.left) && isNeverNull(node.right);
    case 'not':
      return isNeverNull(node.operand);
    case 'call':
      return node.args.every(isNeverNull);
    case 'in':
      return true; // its list holds literals only (the parser's rule)
  }
}

/**
 * Whether a `$filter` node is a range of one of `columns` (each leads an index): comparisons of it with a literal
 * other than `eq`/`ne`, and `startswith` of it, under `and`.
 */
function isIndexedRange(node: FilterNode, columns: readonly string[]): boolean {
  const isColumn = (n: FilterNode): boolean =>
    n.kind === 'property' && columns.includes(n.property.column);
  const isValue = (n: FilterNode): boolean => n.kind === 'literal' && n.value !== null;
  switch (node.kind) {
    case 'and':
      return isIndexedRange(node.left, columns) && isIndexedRange(node.right, columns);
    case 'compare':
      return (
        node.op !== 'eq' &&
        node.op !== 'ne' &&
        ((isColumn(node.left) && isValue(node.right)) ||
          (isValue(node.left) && isColumn(node.right)))
      );
    case 'call':
      return node.name === 'startswith' && isColumn(node.args[0]) && isValue(node.args[1]);
    default:
      return false;
  }
}

/**
 * Whether a `$filter` node is an `and` of conditions an index reads: ranges of `indexed` columns (see
 * `isIndexedRange`) and `eq`/`in` of literals on `counted` columns.
 */
function isIndexedConjunction(
  node: FilterNode,
  indexed: readonly string[],
  counted: readonly string[]
): boolean {
  if (isIndexedRange(node, indexed)) return true;
  if (node.kind === 'and') {
    return (
      isIndexedConjunction(node.left, indexed, counted) &&
      isIndexedConjunction(node.right, indexed, counted)
    );
  }
  const set = literalSet(node);
  return set !== undefined && counted.includes(set.property.column);
}

/** The columns a `$filter` reads. */
function filterColumns(node: FilterNode): string[] {
  switch (node.kind) {
    case 'property':
      return [node.property.column];
    case 'literal':
      return [];
    case 'compare':
    case 'and':
    case 'or':
      return [...filterColumns(node.left), ...filterColumns(node.right)];
    case 'not':
      return filterColumns(node.operand);
    case 'call':
      return node.args.flatMap(filterColumns);
    case 'in':
      return [node.operand, ...node.list].flatMap(filterColumns);
  }
}

function checkCursorTypes(cursor: PageCursor, sort: readonly SortKey[]): void {
  sort.forEach((key, i) => {
    const value = cursor.after[i];
    const numeric = ['Edm.Int32', 'Edm.Double', 'Edm.Decimal', 'Edm.Boolean'].includes(
      key.property.type
    );
    const ok =
      value === null
        ? key.property.nullable
        : numeric
          ? typeof value === 'number'
          : typeof value === 'string';
    if (!ok) throw new ODataQueryError('Malformed $skiptoken', '$skiptoken');
  });
}

/**
 * The conditions that select the rows after `after` in the sort order, as ordered scans run one after another.
 * SQLite sorts NULL first ascending and last descending. Where no sort column can hold NULL (or the cursor's values
 * make NULLs irrelevant) a single row-value comparison lets the index range-scan; one nullable sort column before
 * the key is split into its non-null and null segments; anything else uses the general (correct, slower) form.
 */
export function keysetSegments(sort: readonly SortKey[], after: readonly SqlValue[]): Segment[] {
  const sameDirection = sort.every((k) => k.descending === sort[0]!.descending);
  const descending = sort[0]!.descending;
  const op = descending ? '<' : '>';
  const rowValue = (keys: readonly SortKey[], values: readonly SqlValue[]): Segment =>
    keys.length === 1
      ? { sql: `${quoteIdentifier(keys[0]!.property.column)} ${op} ?`, params: [values[0]] }
      : {
          sql: `(${keys.map((k) => quoteIdentifier(k.property.column)).join(', ')}) ${op} (${keys
            .map(() => '?')
            .join(', ')})`,
          params: [...values]
        };

  if (sameDirection) {
    const nullable = sort.filter((k) => k.property.nullable);
    if (nullable.length === 0) return [rowValue(sort, after)];
    if (nullable.length === 1 && sort.length === 2 && sort[0]!.property.nullable) {
      const column = quoteIdentifier(sort[0]!.property.column);
      const keyColumn = quoteIdentifier(sort[1]!.property.column);
      const nullSegment = (): Segment => ({
        sql: `${column} IS NULL AND ${keyColumn} ${op} ?`,
        params: [after[1]]
      });
      const allNulls: Segment = { sql: `${column} IS NULL`, params: [] };
      const allValues: Segment = { sql: `${column} IS NOT NULL`, params: [] };
      if (after[0] === null) {
        // In the NULL segment: finish it, then (ascending) the values follow.
        return descending ? [nullSegment()] : [nullSegment(), allValues];
      }
      // In the value segment: a row-value scan excludes NULLs; descending, the NULLs follow.
      return descending ? [rowValue(sort, after), allNulls] : [rowValue(sort, after)];
    }
  }
  return [generalKeyset(sort, after)];
}

/** `(a after v1) OR (a = v1 AND b after v2) OR …`, with NULL placed as SQLite sorts it. */
function generalKeyset(sort: readonly SortKey[], after: readonly SqlValue[]): Segment {
  const params: unknown[] = [];
  const disjuncts = sort.map((key, i) => {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) {
      parts.push(`${quoteIdentifier(sort[j]!.property.column)} IS ?`);
      params.push(after[j]);
    }
    const column = quoteIdentifier(key.property.column);
    const value = after[i];
    if (value === null) {
      // NULL is first ascending (everything non-null follows), last descending (nothing follows).
      parts.push(key.descending ? '0' : `${column} IS NOT NULL`);
    } else if (key.descending) {
      parts.push(`(${column} < ? OR ${column} IS NULL)`);
      params.push(value);
    } else {
      parts.push(`${column} > ?`);
      params.push(value);
    }
    return `(${parts.join(' AND ')})`;
  });
  return { sql: `(${disjuncts.join(' OR ')})`, params };
}

/** A stored row as an OData entity: 0/1 become Booleans, everything else is already in its JSON form. */
export function toEntity(
  properties: readonly PropertyDefinition[],
  values: readonly SqlValue[]
): Record<string, unknown> {
  const entity: Record<string, unknown> = {};
  properties.forEach((property, i) => {
    const value = values[i] ?? null;
    entity[property.name] = property.type === 'Edm.Boolean' && value !== null ? value === 1 : value;
  });
  return entity;
}
