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

/**
 * Ring buffer of the latest traffic plus a fan-out to live subscribers (the console's SSE streams). Memory stays
 * bounded however long the server runs; a slow subscriber never blocks a request (publishing is synchronous and
 * each SSE stream writes into its own socket buffer).
 */
export class TrafficLog implements TrafficRecorder {
  private readonly buffer: TrafficEvent[] = [];
  private readonly subscribers = new Set<(event: TrafficEvent) => void>();
  private nextId = 1;

  constructor(readonly capacity = 500) {}

  record(event: NewEvent): TrafficEvent {
    const full = { ...event, id: this.nextId++, at: new Date().toISOString() } as TrafficEvent;
    this.buffer.push(full);
    if (this.buffer.length > this.capacity)
      this.buffer.splice(0, this.buffer.length - this.capacity);
    for (const subscriber of this.subscribers) {
      try {
        subscriber(full);
      } catch {
        // A broken subscriber must not break the request that produced the event.
      }
    }
    return full;
  }

  note(pattern: string, message: string, details?: Record<string, unknown>): void {
    this.record({ kind: 'note', pattern, message, ...(details ? { details } : {}) });
  }

  /** The buffered events, oldest first (optionally only those after `afterId`). */
  recent(afterId = 0): TrafficEvent[] {
    return this.buffer.filter((event) => event.id > afterId);
  }

  subscribe(listener: (event: TrafficEvent) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}
