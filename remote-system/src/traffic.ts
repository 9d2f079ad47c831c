import type { TrafficRecorder } from './pattern-module';

/** One line of the console's live view: a request the server answered, or a note a pattern recorded. */
export type TrafficEvent =
  | {
      readonly kind: 'request';
      readonly id: number;
      readonly at: string;
      /** Pattern the path belongs to, or `system` (console, health, unknown routes). */
      readonly pattern: string;
      readonly method: string;
      readonly path: string;
      readonly status: number;
      readonly durationMs: number;
      readonly correlationId: string;
    }
  | {
      readonly kind: 'note';
      readonly id: number;
      readonly at: string;
      readonly pattern: string;
      readonly message: string;
      readonly details?: Record<string, unknown>;
      readonly correlationId?: string;
    };

type NewEvent =
  | Omit<Extract<TrafficEvent, { kind: 'request' }>, 'id' | 'at'>
  | Omit<Extract<TrafficEvent, { kind: 'note' }>, 'id' | 'at'>;

/** A recorded event as stored: the caller's fields, its id and the time as a number (the ISO text is made on read). */
interface Stored {
  readonly event: NewEvent;
  readonly id: number;
  readonly atMs: number;
  /** The public form, built once when first read. */
  full?: TrafficEvent;
}

/**
 * Ring buffer of the latest traffic plus a fan-out to live subscribers (the console's SSE streams). Memory stays
 * bounded however long the server runs; a slow subscriber never blocks a request (publishing is synchronous and
 * each SSE stream writes into its own socket buffer).
 *
 * Recording is on every request's path, so it does the least it can: one slot write in a fixed array (no shifting),
 * `Date.now()` instead of a formatted date; the ISO timestamp and the public event object are built only when
 * someone reads the event (a subscriber at once, `recent()` later), at most once per event.
 */
export class TrafficLog implements TrafficRecorder {
  private readonly slots: (Stored | undefined)[];
  /** Index of the slot the next event goes to. */
  private head = 0;
  private size = 0;
  private readonly subscribers = new Set<(event: TrafficEvent) => void>();
  private nextId = 1;

  constructor(readonly capacity = 500) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError('traffic capacity must be a positive integer');
    }
    this.slots = new Array<Stored | undefined>(capacity).fill(undefined);
  }

  record(event: NewEvent): void {
    const stored: Stored = { event, id: this.nextId++, atMs: Date.now() };
    this.slots[this.head] = stored;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.size < this.capacity) this.size++;
    if (this.subscribers.size === 0) return;
    const full = materialize(stored);
    for (const subscriber of this.subscribers) {
      try {
        subscriber(full);
      } catch {
        // A broken subscriber must not break the request that produced the event.
      }
    }
  }

  note(pattern: string, message: string, details?: Record<string, unknown>): void {
    this.record({ kind: 'note', pattern, message, ...(details ? { details } : {}) });
  }

  /** The buffered events, oldest first (optionally only those after `afterId`). */
  recent(afterId = 0): TrafficEvent[] {
    const events: TrafficEvent[] = [];
    const oldest = (this.head - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const stored = this.slots[(oldest + i) % this.capacity]!;
      if (stored.id > afterId) events.push(materialize(stored));
    }
    return events;
  }

  subscribe(listener: (event: TrafficEvent) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}

function materialize(stored: Stored): TrafficEvent {
  stored.full ??= {
    ...stored.event,
    id: stored.id,
    at: new Date(stored.atMs).toISOString()
  } as TrafficEvent;
  return stored.full;
}
