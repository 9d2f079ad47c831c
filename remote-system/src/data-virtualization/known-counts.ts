/**
 * Counts of filters the maintained counters cannot answer, kept between requests.
 *
 * Salesforce Connect sends `$count=true` with every query while the data source's "Request Row Counts" is on: each
 * page of a list view, each refresh, each page of a search asks again for the same number. A count the counters
 * cannot answer (a frequent substring, a search, a filter on two columns) reads every match, 0.4 s for a substring
 * nearly every key holds at 10M rows; asked with every page, that is the page's cost.
 *
 * So a counted filter keeps its count, under the same rules as `SkipPositions` keeps a position: while the versions
 * the filter depends on (the table's rows, the columns it reads) stand still, the count stands. When they move, the
 * count is repaired from the table's change log: the logged rows that match the filter add their sign (+1 written,
 * -1 removed; a changed row is logged as both). When the log no longer reaches back, the filter is counted afresh.
 * The first count of a filter still reads its matches.
 *
 * Memory is bounded: at most `maxFilters` counts, the least recently used dropped first.
 */
import type { OrderingVersion } from './positions';

/** What `KnownCounts` needs to read of one filter. */
export interface CountReader {
  /** The number of rows matching the filter now. */
  count(): number;
  /**
   * The sum of the signs of the logged rows matching the filter after change `since`; undefined when the log no
   * longer holds every change after `since`, or when there is no log.
   */
  changes?(since: number): number | undefined;
}

interface KnownCount {
  /** The versions the count is true under. */
  stamp: string;
  /** The change log's last entry the count is true at. */
  seq: number | undefined;
  rows: number;
}

export class KnownCounts {
  /** Insertion order is recency order: a hit is moved to the end, the first entry is the least recently used. */
  private readonly counts = new Map<string, KnownCount>();

  constructor(private readonly maxFilters = 256) {
    if (!Number.isInteger(maxFilters) || maxFilters < 1)
      throw new RangeError('maxFilters must be ≥ 1');
  }

  /**
   * The number of rows matching `filter` at `version`: the kept count when the versions stood still, the kept count
   * repaired from the change log when they moved, else a fresh count (kept from now on).
   */
  count(filter: string, version: OrderingVersion, reader: CountReader): number {
    let known = this.counts.get(filter);
    if (known) this.counts.delete(filter);
    if (known && known.stamp !== version.stamp) {
      const delta =
        known.seq === undefined || version.seq === undefined
          ? undefined
          : reader.changes?.(known.seq);
      if (delta === undefined) known = undefined;
      else known.rows += delta;
    }
    if (known) {
      known.stamp = version.stamp;
      // The versions it depends on stood still (or it was just repaired): true at the log's newest entry too.
      known.seq = version.seq;
    } else {
      known = { stamp: version.stamp, seq: version.seq, rows: reader.count() };
      if (this.counts.size >= this.maxFilters) {
        const oldest = this.counts.keys().next().value;
        if (oldest !== undefined) this.counts.delete(oldest);
      }
    }
    this.counts.set(filter, known);
    return known.rows;
  }

  /** Whether a count of `filter` is kept (for tests). */
  has(filter: string): boolean {
    return this.counts.has(filter);
  }
}
