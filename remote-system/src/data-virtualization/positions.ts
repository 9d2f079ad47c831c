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
 * A position is only true for the rows it was counted on: triggers keep versions of the table's row set and of each
 * of its columns (`table_versions`, migration 12), and an ordering's checkpoints are forgotten when a version it
 * depends on (the rows, and the columns it sorts, filters and searches by) differs at the start of a request from
 * the one they were found under. Memory is bounded: at most `maxOrderings` orderings (least recently used dropped
 * first), each with at most rows / `stride` checkpoints.
 */

export type SqlValue = string | number | null;

/**
 * The checkpoints found so far in one ordering, sorted by block: the sort key of the row at position
 * `blocks[i] * stride - 1` is `keys[i]` (so the rows after it start at `blocks[i] * stride`).
 */
interface OrderingPositions {
  /** The versions the checkpoints were found under. */
  readonly stamp: string;
  readonly blocks: number[];
  readonly keys: SqlValue[][];
  /** A block known to lie past the last row (the ordering has fewer than `endBlock * stride` rows). */
  endBlock: number;
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
    private readonly maxOrderings = 32
  ) {
    if (!Number.isInteger(stride) || stride < 2) throw new RangeError('stride must be ≥ 2');
  }

  /**
   * Finds where the page at `skip` starts in `ordering`: from the checkpoint of its block when known, else found now
   * with one `hop` from the nearest known checkpoint before it (or from the start) and remembered. `hop(after,
   * offset)` returns the sort key of the row `offset` rows after the row whose key is `after` (after the start when
   * absent), or undefined when there is no such row. Returns undefined when the ordering has no row at `skip`.
   */
  locate(
    ordering: string,
    stamp: string,
    skip: number,
    hop: (after: SqlValue[] | undefined, offset: number) => SqlValue[] | undefined
  ): PageStart | undefined {
    const block = Math.floor(skip / this.stride);
    if (block === 0) return { offset: skip };
    const positions = this.positions(ordering, stamp);
    if (block >= positions.endBlock) return undefined;
    // The first known block at or after `block`; the one before it is the nearest start below.
    let at = 0;
    for (let high = positions.blocks.length; at < high;) {
      const middle = (at + high) >> 1;
      if (positions.blocks[middle]! < block) at = middle + 1;
      else high = middle;
    }
    if (positions.blocks[at] !== block) {
      const from = at > 0 ? positions.blocks[at - 1]! : 0;
      const key = hop(
        from > 0 ? positions.keys[at - 1] : undefined,
        (block - from) * this.stride - 1
      );
      if (!key) {
        positions.endBlock = block;
        return undefined;
      }
      positions.blocks.splice(at, 0, block);
      positions.keys.splice(at, 0, key);
    }
    return { after: positions.keys[at], offset: skip - block * this.stride };
  }

  /** Checkpoints known for `ordering` (for tests). */
  known(ordering: string): number {
    return this.orderings.get(ordering)?.blocks.length ?? 0;
  }

  private positions(ordering: string, stamp: string): OrderingPositions {
    let positions = this.orderings.get(ordering);
    if (positions) this.orderings.delete(ordering);
    if (positions?.stamp !== stamp) {
      positions = { stamp, blocks: [], keys: [], endBlock: Infinity };
      if (this.orderings.size >= this.maxOrderings) {
        const oldest = this.orderings.keys().next().value;
        if (oldest !== undefined) this.orderings.delete(oldest);
      }
    }
    this.orderings.set(ordering, positions);
    return positions;
  }
}
