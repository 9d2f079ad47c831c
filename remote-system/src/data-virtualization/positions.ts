/**
 * Known positions for client-driven paging (`$top` + `$skip`, what Salesforce Connect sends when the external data
 * source is switched to client-driven paging).
 *
 * SQLite answers `OFFSET n` by stepping over n index entries, so a page at depth 500,000 of a 10M-row table costs
 * 15–40 ms however good the index is. Instead, the producer remembers, per ordering (`$filter` + `$search` +
 * `$orderby`), the sort-key values of every `stride`-th row — a checkpoint — and starts a deep page from the nearest
 * one with a keyset seek, so only fewer than `stride` entries are stepped over. Checkpoints are found by the deep
 * requests themselves: the first request in a new block of `stride` rows finds the block's checkpoint with one
 * `OFFSET` from the nearest checkpoint before it (or from the start), so it costs about what the plain `OFFSET`
 * did, and every later request in that block a fraction of a millisecond. Paging on from a known depth only steps
 * from one block to the next.
 *
 * A position is only true for the rows it was counted on. Triggers keep versions of the table's row set and of each
 * of its columns (`table_versions`, migration 12): while the versions an ordering depends on (the rows, and the
 * columns it sorts, filters and searches by) stand still, its checkpoints stand. When they move, the checkpoints are
 * repaired from the table's change log (`<table>_changes`, migration 15): each logged row that matches the ordering
 * adds its sign (+1 written, -1 removed) to every checkpoint it sorts at or before, found by a binary search. So a
 * write costs the next deep page a few small queries, not an `OFFSET` from the start. When the log no longer reaches
 * back far enough, or more than `maxRepairs` matching rows changed, the checkpoints are forgotten instead.
 * Memory is bounded: at most `maxOrderings` orderings (least recently used dropped first), each with at most
 * rows / `stride` checkpoints.
 */

export type SqlValue = string | number | null;

/** One logged row that matches an ordering: `sign` is +1 when it was written, -1 when it was removed. */
export interface OrderingChange {
  readonly seq: number;
  readonly sign: 1 | -1;
}

/** What `SkipPositions` needs to read of one ordering. */
export interface OrderingReader {
  /**
   * The sort key of the row `offset` rows after the row whose key is `after` (after the start when absent), or
   * undefined when there is no such row.
   */
  hop(after: SqlValue[] | undefined, offset: number): SqlValue[] | undefined;
  /**
   * The logged rows matching the ordering after change `since`, oldest first, at most `limit`; undefined when the log
   * no longer holds every change after `since`, or when there is no log.
   */
  changes?(since: number, limit: number): OrderingChange[] | undefined;
  /** Whether the row logged as `change` sorts after the row whose key is `key` in the ordering. */
  follows?(change: OrderingChange, key: SqlValue[]): boolean;
}

/** Where the ordering's data stands: the versions it depends on, and the change log's last entry (when kept). */
export interface OrderingVersion {
  readonly stamp: string;
  readonly seq?: number;
}

/**
 * The checkpoints found so far in one ordering, in key order: `counts[i]` rows sort at or before the row whose sort
 * key is `keys[i]` (so the rows after that key start at position `counts[i]`).
 */
interface OrderingPositions {
  /** The versions the checkpoints are true under. */
  stamp: string;
  /** The change log's last entry the checkpoints are true at. */
  seq: number | undefined;
  readonly counts: number[];
  readonly keys: SqlValue[][];
  /** A position known to lie past the last row (the ordering has fewer rows than this). */
  endCount: number;
}

/** Where a page at `$skip` starts: after the checkpoint `after` (from the start when absent), then `offset` more. */
export interface PageStart {
  readonly after?: SqlValue[];
  readonly offset: number;
}

export class SkipPositions {
  /** Insertion order is recency order: a hit is moved to the end, the first entry is the least recently used. */
  private readonly orderings = new Map<string, OrderingPositions>();

  constructor(
    readonly stride = 1024,
    private readonly maxOrderings = 32,
    /** Most matching changes repaired at once: each costs about log2(checkpoints) small queries. */
    private readonly maxRepairs = 64
  ) {
    if (!Number.isInteger(stride) || stride < 2) throw new RangeError('stride must be ≥ 2');
  }

  /**
   * Finds where the page at `skip` starts in `ordering`: from the nearest checkpoint fewer than `stride` rows before
   * it when known, else from one found now at the start of its block of `stride` rows, with one `hop` from the
   * nearest checkpoint before that (or from the start), and remembered. Returns undefined when the ordering has no
   * row at `skip`.
   */
  locate(
    ordering: string,
    version: OrderingVersion,
    skip: number,
    reader: OrderingReader
  ): PageStart | undefined {
    if (skip < this.stride) return { offset: skip };
    const positions = this.positions(ordering, version, reader);
    if (skip >= positions.endCount) return undefined;
    // The last checkpoint at or before `skip` (counts grow with the key order).
    let below = -1;
    for (let low = 0, high = positions.counts.length - 1; low <= high;) {
      const middle = (low + high) >> 1;
      if (positions.counts[middle]! <= skip) {
        below = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    const from = below >= 0 ? positions.counts[below]! : 0;
    if (below >= 0 && skip - from < this.stride) {
      return { after: positions.keys[below], offset: skip - from };
    }
    const target = Math.floor(skip / this.stride) * this.stride;
    const key = reader.hop(below >= 0 ? positions.keys[below] : undefined, target - from - 1);
    if (!key) {
      positions.endCount = Math.min(positions.endCount, target);
      return undefined;
    }
    positions.counts.splice(below + 1, 0, target);
    positions.keys.splice(below + 1, 0, key);
    return { after: key, offset: skip - target };
  }

  /** Checkpoints known for `ordering` (for tests). */
  known(ordering: string): number {
    return this.orderings.get(ordering)?.counts.length ?? 0;
  }

  /** The ordering's checkpoints, brought up to `version`: kept, repaired from the change log, or started afresh. */
  private positions(
    ordering: string,
    version: OrderingVersion,
    reader: OrderingReader
  ): OrderingPositions {
    let positions = this.orderings.get(ordering);
    if (positions) this.orderings.delete(ordering);
    if (
      positions &&
      positions.stamp !== version.stamp &&
      !this.repair(positions, version, reader)
    ) {
      positions = undefined;
    }
    if (positions) {
      positions.stamp = version.stamp;
      // The versions it depends on stood still (or it was just repaired): true at the log's newest entry too.
      positions.seq = version.seq;
    } else {
      positions = {
        stamp: version.stamp,
        seq: version.seq,
        counts: [],
        keys: [],
        endCount: Infinity
      };
      if (this.orderings.size >= this.maxOrderings) {
        const oldest = this.orderings.keys().next().value;
        if (oldest !== undefined) this.orderings.delete(oldest);
      }
    }
    this.orderings.set(ordering, positions);
    return positions;
  }

  /**
   * Applies the changes logged since the checkpoints were last true; false when that cannot be done (no log, the log
   * no longer reaches back, or too many changes).
   */
  private repair(
    positions: OrderingPositions,
    version: OrderingVersion,
    reader: OrderingReader
  ): boolean {
    if (positions.seq === undefined || version.seq === undefined) return false;
    if (!reader.changes || !reader.follows) return false;
    const changes = reader.changes(positions.seq, this.maxRepairs + 1);
    if (!changes || changes.length > this.maxRepairs) return false;
    const { counts, keys } = positions;
    for (const change of changes) {
      // The changed row follows the first checkpoints' keys, then sorts at or before all the rest.
      let first = counts.length;
      for (let low = 0, high = counts.length - 1; low <= high;) {
        const middle = (low + high) >> 1;
        if (reader.follows(change, keys[middle]!)) low = middle + 1;
        else {
          first = middle;
          high = middle - 1;
        }
      }
      for (let i = first; i < counts.length; i++) counts[i]! += change.sign;
    }
    positions.endCount = Infinity;
    return true;
  }
}
