/**
 * Known positions for client-driven paging (`$top` + `$skip`, what Salesforce Connect sends when the external data
 * source is switched to client-driven paging).
 *
 * SQLite answers `OFFSET n` by stepping over n index entries, so a page at depth 500,000 of a 10M-row table costs
 * 15–40 ms however good the index is. Instead, the producer remembers, per ordering (`$filter` + `$search` +
 * `$orderby`), the sort-key values of every `stride`-th row — a checkpoint — and starts a deep page from the nearest
 * one with a keyset seek, so only fewer than `stride` entries are stepped over. Checkpoints are found by the deep
 * requests themselves (each hop an `OFFSET stride - 1` from the previous checkpoint), so the first request at a new
 * depth costs about what the plain `OFFSET` did and the following ones a fraction of a millisecond.
 *
 * A position is only true for the rows it was counted on: every write to the table bumps a version kept by triggers
 * (`table_versions`, migration 12), and all checkpoints are forgotten when the version read at the start of a
 * request differs from theirs. Memory is bounded: at most `maxOrderings` orderings (least recently used dropped
 * first), each with at most rows / `stride` checkpoints.
 */

export type SqlValue = string | number | null;

/** The checkpoints of one ordering: `keys[i]` is the sort key of the row at position `(i + 1) * stride - 1`. */
export interface OrderingPositions {
  readonly keys: SqlValue[][];
  /** True once a hop found fewer than `stride` rows after the last checkpoint: there are no more to find. */
  ended: boolean;
}

/** Where a page at `$skip` starts: after the checkpoint `after` (from the start when absent), then `offset` more. */
export interface PageStart {
  readonly after?: SqlValue[];
  readonly offset: number;
}

export class SkipPositions {
  private version: number | undefined;
  /** Insertion order is recency order: a hit is moved to the end, the first entry is the least recently used. */
  private readonly orderings = new Map<string, OrderingPositions>();

  constructor(
    readonly stride = 4096,
    private readonly maxOrderings = 64
  ) {
    if (!Number.isInteger(stride) || stride < 2) throw new RangeError('stride must be ≥ 2');
  }

  /**
   * Finds where the page at `skip` starts in `ordering`, extending its checkpoints as far as needed with `hop`
   * (which returns the sort key of the row `stride - 1` rows after the given key, or after the start, or undefined
   * when there is no such row). Returns undefined when the ordering has fewer than `skip` rows (an empty page).
   */
  locate(
    ordering: string,
    version: number,
    skip: number,
    hop: (after: SqlValue[] | undefined, offset: number) => SqlValue[] | undefined
  ): PageStart | undefined {
    const block = Math.floor(skip / this.stride);
    if (block === 0) return { offset: skip };
    const positions = this.positions(ordering, version);
    while (positions.keys.length < block && !positions.ended) {
      const next = hop(positions.keys[positions.keys.length - 1], this.stride - 1);
      if (next) positions.keys.push(next);
      else positions.ended = true;
    }
    if (positions.keys.length < block) return undefined;
    return { after: positions.keys[block - 1], offset: skip - block * this.stride };
  }

  /** Checkpoints known for `ordering` (for tests and the benchmark's description). */
  known(ordering: string): number {
    return this.orderings.get(ordering)?.keys.length ?? 0;
  }

  private positions(ordering: string, version: number): OrderingPositions {
    if (version !== this.version) {
      this.orderings.clear();
      this.version = version;
    }
    let positions = this.orderings.get(ordering);
    if (positions) {
      this.orderings.delete(ordering);
    } else {
      positions = { keys: [], ended: false };
      if (this.orderings.size >= this.maxOrderings) {
        const oldest = this.orderings.keys().next().value;
        if (oldest !== undefined) this.orderings.delete(oldest);
      }
    }
    this.orderings.set(ordering, positions);
    return positions;
  }
}
