import type Database from 'better-sqlite3';
import type * as grpc from '@grpc/grpc-js';
import type avro from 'avsc';
import type { SalesforceSession } from '../auth';
import { isChangeEventPayload, readChangeEvent, type ChangeEvent } from './change-events';
import { isAuthError, type PubSubConnection } from './connection';
import { replayIdFromHex, replayIdToHex, type FetchRequest, type FetchResponse } from './proto';
import {
  CheckpointStore,
  DeadLetterStore,
  ProcessedEvents,
  type DeadLetter,
  type ProcessedOutcome
} from './store';

/** An event as a consumer sees it: decoded with the schema it was written with. */
export interface DecodedEvent {
  /** The event's UUID (`ProducerEvent.id`): the key a consumer dedupes on. */
  readonly id: string;
  /** Opaque replay id, lower-case hex. */
  readonly replayId: string;
  readonly schemaId: string;
  readonly topic: string;
  readonly payload: Record<string, unknown>;
  /**
   * For a Change Data Capture event (a payload with a `ChangeEventHeader`): the header with its field bitmaps decoded
   * against the schema the event was written with, and the values sent. See `change-events.ts`.
   */
  readonly change?: ChangeEvent;
}

/**
 * What a consumer reports for an event it handled: `applied` (the effect was written) or `duplicate` (a business-level
 * duplicate, such as a second event for an Opportunity already invoiced, recognised and ignored).
 */
export type HandleOutcome = 'applied' | 'duplicate';

/**
 * A consumer plugs its business effect into the machinery. One consumer is one subscription with its own named
 * checkpoint, processed-event ledger and dead letters, so several independent consumers of the same topic (the
 * event-driven pattern) are simply several consumers with different names.
 */
export interface EventConsumer<Prepared = unknown> {
  /** Unique, stable name: the checkpoint and ledger key. Renaming it starts the consumer over. */
  readonly name: string;
  /** For example `/event/Opportunity_Closed_Won__e`. */
  readonly topic: string;
  /** Where to start when there is no checkpoint yet; default `LATEST` (Salesforce's own default). */
  readonly startFrom?: 'LATEST' | 'EARLIEST';
  /**
   * Writes the event's effect. Runs synchronously inside the SQLite transaction that also records the event id and
   * the checkpoint, which is what makes the effect happen exactly once in the database even though delivery is
   * at-least-once. A throw rolls back this event's writes only; after `maxAttempts` throws the event goes to the
   * dead-letter table. Effects outside the database (calls to other systems) belong in an outbox written here and
   * drained after commit: a handler may run more than once for an event whose writes were rolled back (the batch is
   * first tried in one transaction without a savepoint per event, and redone event by event, each in a savepoint,
   * when one of its events throws).
   *
   * `prepared` is what {@link EventConsumer.prepare} resolved with for this event (undefined without `prepare`).
   */
  handle(event: DecodedEvent, db: Database.Database, prepared?: Prepared): HandleOutcome | void;
  /**
   * Optional asynchronous step before the transaction, for work a synchronous handler cannot do: reading from another
   * system (re-reading a record after a CDC gap event), calling a slow dependency. It runs with a deadline
   * (`prepareTimeoutMs`, the signal aborts then); a rejection or a timeout counts as a failed attempt exactly like a
   * throw from `handle`, so a hanging dependency makes this consumer back off and dead-letter the event, and never
   * holds a database transaction open. It must have no effect the database does not record: it may run again.
   */
  prepare?(event: DecodedEvent, signal: AbortSignal): Promise<Prepared>;
}

export interface SubscriberStats {
  state: 'idle' | 'connecting' | 'streaming' | 'backing-off' | 'stopped';
  /** Events received on the stream, duplicates included. */
  received: number;
  applied: number;
  /** Events whose id the ledger already held (redeliveries, replays after a reconnect or crash). */
  duplicatesIgnored: number;
  /** Events the consumer recognised as a business duplicate. */
  businessDuplicates: number;
  deadLettered: number;
  /** Failed attempts at an event that were tried again (after `retryBackoffMs` when set). */
  retries: number;
  keepalives: number;
  reconnects: number;
  tokenRefreshes: number;
  /** Most events requested and not yet received at any moment (flow control; never above the batch size). */
  maxOutstanding: number;
  lastReplayId?: string;
  lastError?: string;
}

export interface SubscriberNotification {
  readonly kind:
    | 'connected'
    | 'batch'
    | 'keepalive'
    | 'retry'
    | 'dead-letter'
    | 'reconnect'
    | 'token-refresh'
    | 'stopped';
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export interface SubscriberOptions {
  readonly connection: PubSubConnection;
  readonly db: Database.Database;
  readonly consumer: EventConsumer;
  /** Events requested at a time, 1..100 (the Pub/Sub API's maximum per FetchRequest). Default 100. */
  readonly batchSize?: number;
  /** Attempts at an event before it is dead-lettered. Default 3. */
  readonly maxAttempts?: number;
  /**
   * Wait before attempt n + 1 of a failing event: `retryBackoffMs * 2^(n-1)` (capped by `maxBackoffMs`). The events
   * before it are committed first, and no more events are requested meanwhile, so only this consumer slows down.
   * Default 0: immediate retries inside the batch's transaction.
   */
  readonly retryBackoffMs?: number;
  /** Deadline of {@link EventConsumer.prepare} per attempt. Default 30 s. */
  readonly prepareTimeoutMs?: number;
  /** First reconnect delay; doubles per consecutive failure up to `maxBackoffMs`, with jitter. Default 500 ms. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * A stream silent for this long is presumed dead and reopened. Salesforce sends a keepalive within 270 s, so the
   * default is 300 s.
   */
  readonly idleTimeoutMs?: number;
  readonly onNotify?: (notification: SubscriberNotification) => void;
  /** Random source for jitter (tests). */
  readonly random?: () => number;
}

export const MAX_NUM_REQUESTED = 100;

class StreamEnded extends Error {}

/** Thrown inside the fast path's transaction to roll it back and hand the segment to the careful path. */
class FallBack {}

/** One received event, decoded (or not: `payload` null and `decodeError` set). */
interface Item {
  readonly id: string;
  readonly replayId: string;
  readonly schemaId: string;
  readonly raw: Buffer;
  readonly payload: Record<string, unknown> | null;
  readonly change?: ChangeEvent;
  readonly decodeError?: string;
}

/**
 * Runs one {@link EventConsumer} on a Pub/Sub API `Subscribe` stream, and keeps it running:
 *
 * - **resume**: each (re)connection starts after the durable checkpoint (replay preset `CUSTOM`), or from the
 *   consumer's preset when it has none;
 * - **flow control**: at most `batchSize` (≤ 100) events are ever owed by the server; the next batch is requested when
 *   one arrives, so it crosses the network while this one is written, but never while more than `batchSize` received
 *   events wait to be committed, so a slow database slows the stream instead of filling memory;
 * - **exactly-once effects**: a batch's effects, event ids and checkpoint commit in one transaction; ids already in
 *   the ledger are skipped; batches commit in the order they arrived;
 * - **keepalive**: an empty FetchResponse proves the stream alive; when it says the server owes us events but has
 *   none (we are at the tip), its latest replay id becomes the checkpoint so a quiet consumer does not fall out of
 *   the 72-hour retention window; a stream silent past `idleTimeoutMs` is reopened;
 * - **reconnect** with exponential backoff and jitter after any error or end; an `UNAUTHENTICATED` error refreshes
 *   the session through {@link SalesforceAuth.refresh} first; every stream's listeners belong to that stream alone and
 *   events from a stream that was replaced are dropped unprocessed, so a reconnect never runs a handler twice.
 */
export class PubSubSubscriber {
  readonly stats: SubscriberStats = {
    state: 'idle',
    received: 0,
    applied: 0,
    duplicatesIgnored: 0,
    businessDuplicates: 0,
    deadLettered: 0,
    retries: 0,
    keepalives: 0,
    reconnects: 0,
    tokenRefreshes: 0,
    maxOutstanding: 0
  };

  private readonly checkpoints: CheckpointStore;
  private readonly ledger: ProcessedEvents;
  readonly deadLetters: DeadLetterStore;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly retryBackoffMs: number;
  private readonly prepareTimeoutMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly idleTimeoutMs: number;
  private readonly random: () => number;

  private stopped = false;
  private running?: Promise<void>;
  private generation = 0;
  private call?: grpc.ClientDuplexStream<FetchRequest, FetchResponse>;
  private outstanding = 0;
  /** Events received and not yet committed (or dead-lettered), across streams. */
  private buffered = 0;
  /** Serialises batch processing: batches commit in the order the stream delivered them. */
  private queue: Promise<void> = Promise.resolve();
  private wakeBackoff?: () => void;
  private idleTimer?: NodeJS.Timeout;
  private readonly waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  /** Called on stop: wakes a retry backoff, aborts a running `prepare`. */
  private readonly stopListeners = new Set<() => void>();

  constructor(private readonly options: SubscriberOptions) {
    const batchSize = options.batchSize ?? MAX_NUM_REQUESTED;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_NUM_REQUESTED) {
      throw new RangeError(`batchSize must be 1..${MAX_NUM_REQUESTED}, got ${batchSize}`);
    }
    this.batchSize = batchSize;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.retryBackoffMs = Math.max(0, options.retryBackoffMs ?? 0);
    this.prepareTimeoutMs = options.prepareTimeoutMs ?? 30_000;
    this.initialBackoffMs = options.initialBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.random = options.random ?? Math.random;
    this.checkpoints = new CheckpointStore(options.db);
    this.ledger = new ProcessedEvents(options.db);
    this.deadLetters = new DeadLetterStore(options.db);
  }

  get consumerName(): string {
    return this.options.consumer.name;
  }

  /** Starts the subscription loop (idempotent). */
  start(): void {
    if (this.running) return;
    this.stopped = false;
    this.running = this.loop();
  }

  /** Closes the stream and waits for the batch being committed, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeBackoff?.();
    for (const listener of [...this.stopListeners]) listener();
    this.closeCall();
    await this.running;
    await this.queue;
    this.running = undefined;
    this.stats.state = 'stopped';
    this.notify({ kind: 'stopped', message: `${this.consumerName} stopped` });
  }

  /** Resolves when `predicate(stats)` holds (checked after every batch and state change). */
  waitFor(predicate: (stats: SubscriberStats) => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate(this.stats)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(
          new Error(`waitFor timed out after ${timeoutMs} ms; stats ${JSON.stringify(this.stats)}`)
        );
      }, timeoutMs);
      const waiter = {
        predicate: () => predicate(this.stats),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        }
      };
      this.waiters.push(waiter);
    });
  }

  /** The consumer's durable checkpoint (hex replay id), if any. */
  checkpoint(): string | undefined {
    return this.checkpoints.get(this.consumerName)?.replayId;
  }

  /**
   * Runs a dead letter through the consumer again, in one transaction with the ledger update; on success the letter is
   * marked `replayed`. Throws the consumer's error (and records it on the letter) when it fails again.
   */
  replayDeadLetter(id: number): { letter: DeadLetter; outcome: HandleOutcome } {
    return replayDeadLetter(this.options.db, this.options.consumer, id);
  }

  private notify(notification: SubscriberNotification): void {
    this.options.onNotify?.(notification);
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let authFailures = 0;
    while (!this.stopped) {
      let session: SalesforceSession | undefined;
      try {
        this.stats.state = 'connecting';
        session = await this.options.connection.auth.session();
        await this.streamOnce(session);
      } catch (error) {
        if (this.stopped) break;
        this.stats.lastError = (error as Error).message;
        // A stream that delivered before it failed resets the backoff: the failure is new, not a repeat.
        if ((error as { delivered?: boolean }).delivered === true) {
          failures = 0;
          authFailures = 0;
        }
        if (isAuthError(error) && session && authFailures < 3) {
          // A refreshed session retries at once; three refusals in a row fall back to the backoff below.
          authFailures += 1;
          try {
            await this.options.connection.auth.refresh(session);
            this.stats.tokenRefreshes += 1;
            this.notify({
              kind: 'token-refresh',
              message: 'Session refreshed after UNAUTHENTICATED'
            });
          } catch (refreshError) {
            this.stats.lastError = (refreshError as Error).message;
            failures += 1;
          }
        } else {
          failures += 1;
        }
      }
      // Let the batches of the closed stream commit before reading the checkpoint to resume from.
      await this.queue;
      if (this.stopped) break;
      this.stats.reconnects += 1;
      if (failures > 0) {
        const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (failures - 1));
        const delay = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
        this.stats.state = 'backing-off';
        this.notify({
          kind: 'reconnect',
          message: `Reconnecting in ${delay} ms after: ${this.stats.lastError ?? 'stream ended'}`,
          details: { delayMs: delay, failures }
        });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeBackoff = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeBackoff = undefined;
      } else {
        this.notify({ kind: 'reconnect', message: 'Reconnecting with a refreshed session' });
      }
    }
  }

  /**
   * One Subscribe stream, from the durable checkpoint. It always ends in a rejection (error, server end, idle
   * timeout, stop); the error carries `delivered: true` when the stream had delivered data.
   */
  private streamOnce(session: SalesforceSession): Promise<void> {
    const { consumer } = this.options;
    const generation = ++this.generation;
    const checkpoint = this.checkpoints.get(consumer.name);
    const call = this.options.connection.subscribe(session);
    this.call = call;
    this.outstanding = 0;
    let delivered = false;

    return new Promise<void>((_resolve, reject) => {
      let settled = false;
      /** Set when a batch of this stream did not finish: the later ones are left to the next stream. */
      let halted = false;
      const finish = (error: Error) => {
        if (settled) return;
        settled = true;
        if (this.idleTimer) clearTimeout(this.idleTimer);
        call.removeAllListeners('data');
        // Keep an error listener: a late error from a cancelled call must not become an unhandled 'error' event.
        call.removeAllListeners('error');
        call.on('error', () => undefined);
        if (this.call === call) this.call = undefined;
        call.cancel();
        reject(Object.assign(error, { delivered }));
      };
      const armIdle = () => {
        if (this.idleTimer) clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(
          () => finish(new StreamEnded(`No data or keepalive for ${this.idleTimeoutMs} ms`)),
          this.idleTimeoutMs
        );
        this.idleTimer.unref();
      };

      call.on('data', (response: FetchResponse) => {
        if (generation !== this.generation) return;
        if (this.stats.state !== 'streaming') {
          this.stats.state = 'streaming';
          this.notify({
            kind: 'connected',
            message: `${consumer.name} streaming ${consumer.topic}`
          });
        }
        delivered = true;
        armIdle();
        const count = response.events.length;
        this.outstanding = Math.max(0, this.outstanding - count);
        this.stats.received += count;
        this.buffered += count;
        // Pipelining: ask for the next batch now, while this one is decoded and committed (bounded, see requestMore).
        this.requestMore(generation);
        this.queue = this.queue
          .then(async () => {
            try {
              // Batches commit in order, each after the one before it. Once one could not finish (a database
              // error, or a stop in the middle of it), the batches received after it must not commit: their
              // checkpoint would pass events never applied. They come again from the checkpoint.
              if (halted || this.stopped) return;
              const finished = await this.process(response);
              if (!finished) halted = true;
            } finally {
              this.buffered -= count;
            }
            this.requestMore(generation);
          })
          .catch((error: unknown) => {
            // A batch that cannot commit (database error) must not be acknowledged: reopen from the checkpoint.
            halted = true;
            this.stats.lastError = (error as Error).message;
            if (generation === this.generation) finish(error as Error);
          });
      });
      call.on('error', (error: Error) => finish(error));
      call.on('end', () => finish(new StreamEnded('Server ended the stream')));

      const first: FetchRequest = {
        topic_name: consumer.topic,
        num_requested: this.batchSize,
        ...(checkpoint
          ? { replay_preset: 'CUSTOM', replay_id: replayIdFromHex(checkpoint.replayId) }
          : { replay_preset: consumer.startFrom ?? 'LATEST' })
      };
      this.outstanding = this.batchSize;
      this.stats.maxOutstanding = Math.max(this.stats.maxOutstanding, this.outstanding);
      armIdle();
      call.write(first);
    });
  }

  private closeCall(): void {
    const call = this.call;
    this.call = undefined;
    this.generation += 1;
    if (call) {
      call.removeAllListeners('data');
      call.on('error', () => undefined);
      call.cancel();
    }
  }

  /** Decodes one FetchResponse's events with the schemas they were written with. */
  private async decode(response: FetchResponse): Promise<Item[]> {
    const { connection } = this.options;
    const items: Item[] = new Array<Item>(response.events.length);
    const missing: number[] = [];
    // Hot path: every schema id is cached (the rule after the first event), so the whole response decodes
    // synchronously; an event with an unknown schema id waits for GetSchema below.
    for (let index = 0; index < response.events.length; index += 1) {
      const type = connection.cachedSchema(response.events[index]!.event.schema_id);
      if (type) items[index] = this.decodeOne(response.events[index]!, type);
      else missing.push(index);
    }
    for (const index of missing) {
      const { event, replay_id } = response.events[index]!;
      let type: avro.Type;
      try {
        type = await connection.schema(event.schema_id);
      } catch (error) {
        if (isAuthError(error)) throw error;
        items[index] = {
          id: event.id,
          replayId: replayIdToHex(replay_id),
          schemaId: event.schema_id,
          raw: Buffer.from(event.payload),
          payload: null,
          decodeError: (error as Error).message
        };
        continue;
      }
      items[index] = this.decodeOne(response.events[index]!, type);
    }
    return items;
  }

  private decodeOne({ event, replay_id }: FetchResponse['events'][number], type: avro.Type): Item {
    const base = {
      id: event.id,
      replayId: replayIdToHex(replay_id),
      schemaId: event.schema_id,
      raw: Buffer.from(event.payload)
    };
    try {
      const payload = type.fromBuffer(base.raw) as Record<string, unknown>;
      const change = isChangeEventPayload(payload) ? readChangeEvent(payload, type) : undefined;
      return { ...base, payload, ...(change ? { change } : {}) };
    } catch (error) {
      return { ...base, payload: null, decodeError: (error as Error).message };
    }
  }

  /**
   * Decodes, applies and checkpoints one FetchResponse (the caller then asks for more). Resolves false when it stopped
   * part-way (the subscriber is stopping): what precedes the stop is committed, nothing after it.
   */
  private async process(response: FetchResponse): Promise<boolean> {
    const { consumer } = this.options;
    if (response.events.length === 0) {
      this.stats.keepalives += 1;
      // pending_num_requested > 0 with no events: the server owed us events and had none, so we are at the tip and
      // the latest replay id is safe to keep. With nothing requested it could be ahead of undelivered events.
      if (response.pending_num_requested > 0 && response.latest_replay_id.length > 0) {
        const latest = replayIdToHex(response.latest_replay_id);
        this.checkpoints.save(consumer.name, consumer.topic, latest);
        this.stats.lastReplayId = latest;
      }
      this.notify({ kind: 'keepalive', message: 'Keepalive' });
      return true;
    }

    const decoded = await this.decode(response);

    const outcomes: Record<ProcessedOutcome | 'business-duplicate', number> = {
      applied: 0,
      duplicate: 0,
      'dead-lettered': 0,
      'business-duplicate': 0
    };
    const letters: { eventId: string; error: string }[] = [];
    const attempts = new Map<number, number>();
    const lastError = new Map<number, string>();
    const prepared = new Map<number, unknown>();
    const eventOf = (item: Item): DecodedEvent => ({
      id: item.id,
      replayId: item.replayId,
      schemaId: item.schemaId,
      topic: consumer.topic,
      payload: item.payload!,
      ...(item.change ? { change: item.change } : {})
    });
    const fail = (index: number, error: unknown): number => {
      const used = (attempts.get(index) ?? 0) + 1;
      attempts.set(index, used);
      lastError.set(index, error instanceof Error ? error.message : String(error));
      return used;
    };

    // Segments: normally one per batch. When an event fails and has attempts left with a backoff, the events before
    // it are committed, the consumer waits, and the next segment starts at that event.
    let start = 0;
    // Until an event of this response fails, segments run on the fast path: one transaction, no savepoint per event.
    let careful = false;
    while (start < decoded.length) {
      let end = decoded.length;
      let retryAt: number | undefined;

      if (consumer.prepare) {
        for (let index = start; index < end; index += 1) {
          const item = decoded[index]!;
          if (
            item.payload === null ||
            prepared.has(index) ||
            this.ledger.has(consumer.name, item.id)
          ) {
            continue;
          }
          while ((attempts.get(index) ?? 0) < this.maxAttempts) {
            try {
              prepared.set(index, await this.runPrepare(consumer, eventOf(item)));
              break;
            } catch (error) {
              if (this.stopped) return false;
              const used = fail(index, error);
              if (used < this.maxAttempts && this.retryBackoffMs > 0) {
                retryAt = index;
                break;
              }
              if (used < this.maxAttempts) this.stats.retries += 1;
            }
          }
          if (retryAt !== undefined) {
            end = index;
            break;
          }
        }
      }

      if (!careful) {
        const fast = this.applyFast(decoded, start, end, prepared, eventOf);
        if (fast.failedAt === undefined) {
          outcomes.applied += fast.applied;
          outcomes.duplicate += fast.duplicates;
          outcomes['business-duplicate'] += fast.businessDuplicates;
          if (retryAt === undefined) {
            start = end;
            continue;
          }
          // A prepare failure waits below before its next attempt (the fast path committed what precedes it).
          start = end;
        } else {
          // Nothing of the fast attempt was kept. The rest of this response goes event by event, each in its own
          // savepoint; a failure of the handler counts as the event's first attempt.
          careful = true;
          if (fast.error !== undefined) {
            const used = fail(fast.failedAt, fast.error);
            if (used < this.maxAttempts && this.retryBackoffMs > 0) {
              end = fast.failedAt;
              retryAt = fast.failedAt;
            } else if (used < this.maxAttempts) {
              this.stats.retries += 1;
            }
          }
        }
      }

      const segment =
        start >= end && retryAt !== undefined
          ? retryAt
          : this.applyCareful(decoded, start, end, retryAt, {
              prepared,
              attempts,
              lastError,
              fail,
              eventOf,
              outcomes,
              letters
            });

      if (segment === undefined) {
        start = end;
        continue;
      }
      // Wait before the next attempt at decoded[segment]; nothing more is requested meanwhile.
      start = segment;
      prepared.delete(segment);
      this.stats.retries += 1;
      const used = attempts.get(segment) ?? 1;
      const delay = Math.min(this.maxBackoffMs, this.retryBackoffMs * 2 ** (used - 1));
      this.stats.lastError = lastError.get(segment);
      this.stats.state = 'backing-off';
      this.notify({
        kind: 'retry',
        message: `Event ${decoded[segment]!.id} failed (attempt ${used} of ${this.maxAttempts}); retrying in ${delay} ms: ${lastError.get(segment) ?? ''}`,
        details: { eventId: decoded[segment]!.id, attempt: used, delayMs: delay }
      });
      await this.sleep(delay);
      if (this.stopped) return false;
      this.stats.state = 'streaming';
    }

    this.stats.applied += outcomes.applied;
    this.stats.duplicatesIgnored += outcomes.duplicate;
    this.stats.businessDuplicates += outcomes['business-duplicate'];
    this.stats.deadLettered += outcomes['dead-lettered'];
    this.stats.lastReplayId = decoded[decoded.length - 1]!.replayId;
    for (const letter of letters) {
      this.notify({
        kind: 'dead-letter',
        message: `Event ${letter.eventId} dead-lettered: ${letter.error}`,
        details: letter
      });
    }
    this.notify({
      kind: 'batch',
      message: `${decoded.length} events: ${outcomes.applied} applied, ${outcomes.duplicate} duplicates ignored`,
      details: { ...outcomes, replayId: this.stats.lastReplayId }
    });
    return true;
  }

  /**
   * The fast path: events `[start, end)` in one transaction with no savepoint per event, then the checkpoint. It
   * commits only when every event was either already in the ledger or handled without a throw. The first event that
   * cannot be applied this way (a throw from the handler, an undecodable payload, a failed `prepare`) rolls the whole
   * transaction back and is reported in `failedAt` (with the handler's error, if it threw), so that
   * {@link applyCareful} handles the segment event by event. A database error that is not the handler's (the ledger,
   * the checkpoint, the commit) propagates: the batch is not acknowledged.
   */
  private applyFast(
    decoded: readonly Item[],
    start: number,
    end: number,
    prepared: ReadonlyMap<number, unknown>,
    eventOf: (item: Item) => DecodedEvent
  ): {
    applied: number;
    duplicates: number;
    businessDuplicates: number;
    failedAt?: number;
    error?: unknown;
  } {
    const { consumer, db } = this.options;
    const counts = { applied: 0, duplicates: 0, businessDuplicates: 0 };
    if (end <= start) return counts;
    let failedAt: number | undefined;
    let error: unknown;
    const fallBack = new FallBack();
    try {
      db.transaction(() => {
        const at = new Date().toISOString();
        for (let index = start; index < end; index += 1) {
          const item = decoded[index]!;
          // Per event, inside the transaction: it also sees an id recorded earlier in this response. (One
          // json_each lookup for the whole response measured slower than these indexed probes.)
          if (this.ledger.has(consumer.name, item.id)) {
            counts.duplicates += 1;
            continue;
          }
          if (item.payload === null || (consumer.prepare !== undefined && !prepared.has(index))) {
            failedAt = index;
            throw fallBack;
          }
          let outcome: HandleOutcome;
          try {
            outcome = consumer.handle(eventOf(item), db, prepared.get(index)) ?? 'applied';
          } catch (caught) {
            failedAt = index;
            error = caught;
            throw fallBack;
          }
          if (outcome === 'duplicate') counts.businessDuplicates += 1;
          else counts.applied += 1;
          this.ledger.record(consumer.name, item.id, item.replayId, 'applied', at);
        }
        this.checkpointThrough(decoded, start, end, counts.duplicates);
      })();
    } catch (caught) {
      if (caught !== fallBack) throw caught;
      return { applied: 0, duplicates: 0, businessDuplicates: 0, failedAt: failedAt!, error };
    }
    return counts;
  }

  /**
   * The careful path, after an event of the response failed: events `[start, end)` in one transaction, each in its
   * own savepoint, so a throw rolls back that event's writes only; an event is tried until `maxAttempts` and then
   * dead-lettered. With `retryBackoffMs`, a failure with attempts left commits the events before it and returns its
   * index (the caller waits, then resumes there). Returns `retryAt` (a prepare failure to wait for) otherwise.
   */
  private applyCareful(
    decoded: readonly Item[],
    start: number,
    end: number,
    retryAt: number | undefined,
    state: {
      prepared: ReadonlyMap<number, unknown>;
      attempts: Map<number, number>;
      lastError: ReadonlyMap<number, string>;
      fail: (index: number, error: unknown) => number;
      eventOf: (item: Item) => DecodedEvent;
      outcomes: Record<ProcessedOutcome | 'business-duplicate', number>;
      letters: { eventId: string; error: string }[];
    }
  ): number | undefined {
    const { consumer, db } = this.options;
    const { prepared, attempts, lastError, fail, eventOf, outcomes, letters } = state;
    return db.transaction(() => {
      let duplicates = 0;
      for (let index = start; index < end; index += 1) {
        const item = decoded[index]!;
        if (this.ledger.has(consumer.name, item.id)) {
          outcomes.duplicate += 1;
          duplicates += 1;
          continue;
        }
        let error =
          item.payload === null ? `Cannot decode event: ${item.decodeError ?? 'unknown'}` : '';
        const preparationFailed = consumer.prepare !== undefined && !prepared.has(index);
        if (item.payload !== null && preparationFailed)
          error = lastError.get(index) ?? 'prepare failed';
        if (item.payload !== null && !preparationFailed) {
          const event = eventOf(item);
          // An event whose attempts were all used on the fast path goes straight to the dead letters.
          error = lastError.get(index) ?? '';
          while ((attempts.get(index) ?? 0) < this.maxAttempts) {
            try {
              const outcome = db.transaction(
                () => consumer.handle(event, db, prepared.get(index)) ?? 'applied'
              )();
              if (outcome === 'duplicate') outcomes['business-duplicate'] += 1;
              else outcomes.applied += 1;
              this.ledger.record(consumer.name, item.id, item.replayId, 'applied');
              error = '';
              break;
            } catch (caught) {
              // Some errors make SQLite end the whole transaction itself (SQLITE_FULL, SQLITE_IOERR, a busy
              // deadlock …): the rest of the batch would then commit statement by statement, checkpoint included,
              // without what came before. Give the batch up instead; it comes again from the checkpoint.
              if (!db.inTransaction) throw caught;
              const used = fail(index, caught);
              error = lastError.get(index)!;
              if (used < this.maxAttempts && this.retryBackoffMs > 0) {
                // Commit what precedes this event; wait outside the transaction; try it again.
                this.checkpointThrough(decoded, start, index, duplicates);
                return index;
              }
              if (used < this.maxAttempts) this.stats.retries += 1;
            }
          }
        }
        if (error) {
          this.deadLetters.add({
            consumer: consumer.name,
            topic: consumer.topic,
            eventId: item.id,
            replayId: item.replayId,
            schemaId: item.schemaId,
            payload: item.payload,
            rawPayload: item.raw,
            error,
            attempts: Math.max(attempts.get(index) ?? 0, 1)
          });
          this.ledger.record(consumer.name, item.id, item.replayId, 'dead-lettered');
          outcomes['dead-lettered'] += 1;
          letters.push({ eventId: item.id, error });
        }
      }
      this.checkpointThrough(decoded, start, end, duplicates);
      return retryAt;
    })();
  }

  /**
   * Saves the consumer's checkpoint after `decoded[upTo - 1]`, counting the events `[start, upTo)` and the duplicates
   * among them; nothing when the range is empty.
   */
  private checkpointThrough(
    decoded: readonly Item[],
    start: number,
    upTo: number,
    duplicates: number
  ): void {
    if (upTo <= start) return;
    const { consumer } = this.options;
    this.checkpoints.save(
      consumer.name,
      consumer.topic,
      decoded[upTo - 1]!.replayId,
      upTo - start,
      duplicates
    );
  }

  /** Runs the consumer's `prepare` with a deadline; the signal is aborted when the deadline passes or on stop. */
  private async runPrepare(consumer: EventConsumer, event: DecodedEvent): Promise<unknown> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`prepare timed out after ${this.prepareTimeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, this.prepareTimeoutMs);
    });
    const onStop = () => controller.abort(new Error('subscriber stopping'));
    this.stopListeners.add(onStop);
    try {
      return await Promise.race([consumer.prepare!(event, controller.signal), deadline]);
    } finally {
      clearTimeout(timer);
      this.stopListeners.delete(onStop);
    }
  }

  /** Waits `ms`, or less when the subscriber stops. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopListeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopListeners.add(done);
    });
  }

  /**
   * Flow control. Tops the request back up to `batchSize` once at least half of it has arrived, so the server never
   * owes more than `batchSize` (≤ 100) events, and does so as soon as a batch *arrives*, not after it is committed: the
   * next batch crosses the network while this one is decoded and written. What is held in memory stays bounded too:
   * no request while more than `batchSize` received events wait to be committed (at most one batch being written and
   * one waiting), and none while a failing event's retry backs off.
   */
  private requestMore(generation: number): void {
    const call = this.call;
    if (this.stopped || !call || generation !== this.generation) return;
    if (this.stats.state === 'backing-off') return;
    if (this.outstanding > this.batchSize / 2 || this.buffered > this.batchSize) return;
    const more = this.batchSize - this.outstanding;
    this.outstanding += more;
    this.stats.maxOutstanding = Math.max(this.stats.maxOutstanding, this.outstanding);
    call.write({ num_requested: more });
  }
}

/** Replays one dead letter through `consumer` (see {@link PubSubSubscriber.replayDeadLetter}). */
export function replayDeadLetter(
  db: Database.Database,
  consumer: EventConsumer,
  id: number
): { letter: DeadLetter; outcome: HandleOutcome } {
  const store = new DeadLetterStore(db);
  const letter = store.get(consumer.name, id);
  if (!letter) throw new DeadLetterError('NOT_FOUND', `No dead letter ${id} for ${consumer.name}`);
  if (letter.status !== 'open') {
    throw new DeadLetterError('CONFLICT', `Dead letter ${id} is already ${letter.status}`);
  }
  if (letter.payload === null) {
    throw new DeadLetterError(
      'CONFLICT',
      `Dead letter ${id} could not be decoded; it can only be discarded`
    );
  }
  const event: DecodedEvent = {
    id: letter.eventId,
    replayId: letter.replayId,
    schemaId: letter.schemaId,
    topic: letter.topic,
    payload: letter.payload
  };
  try {
    const outcome = db.transaction(() => {
      const result = consumer.handle(event, db) ?? 'applied';
      new ProcessedEvents(db).record(consumer.name, letter.eventId, letter.replayId, 'applied');
      store.markResolved(id, 'replayed');
      return result;
    })();
    return { letter: store.get(consumer.name, id)!, outcome };
  } catch (error) {
    store.recordFailedReplay(id, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/**
 * Replays one dead letter through a consumer that may have a `prepare` step and may read CDC details: the change event
 * is decoded again from the stored payload with the schema of `schemaId` (`schema` fetches it, usually
 * {@link PubSubConnection.schema}), `prepare` runs with its deadline, then the effect, the ledger and the letter's status
 * commit in one transaction. A failure is recorded on the letter and thrown.
 */
export async function replayDeadLetterAsync<Prepared>(
  db: Database.Database,
  consumer: EventConsumer<Prepared>,
  id: number,
  options: { schema?: (schemaId: string) => Promise<avro.Type>; prepareTimeoutMs?: number } = {}
): Promise<{ letter: DeadLetter; outcome: HandleOutcome }> {
  const store = new DeadLetterStore(db);
  const letter = store.get(consumer.name, id);
  if (!letter) throw new DeadLetterError('NOT_FOUND', `No dead letter ${id} for ${consumer.name}`);
  if (letter.status !== 'open') {
    throw new DeadLetterError('CONFLICT', `Dead letter ${id} is already ${letter.status}`);
  }
  if (letter.payload === null) {
    throw new DeadLetterError(
      'CONFLICT',
      `Dead letter ${id} could not be decoded; it can only be discarded`
    );
  }
  const payload = letter.payload;
  try {
    let change: ChangeEvent | undefined;
    if (isChangeEventPayload(payload)) {
      if (!options.schema) throw new Error('A change event needs its schema to be replayed');
      change = readChangeEvent(payload, await options.schema(letter.schemaId));
    }
    const event: DecodedEvent = {
      id: letter.eventId,
      replayId: letter.replayId,
      schemaId: letter.schemaId,
      topic: letter.topic,
      payload,
      ...(change ? { change } : {})
    };
    let prepared: Prepared | undefined;
    if (consumer.prepare) {
      const controller = new AbortController();
      const timeoutMs = options.prepareTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      try {
        prepared = await Promise.race([
          consumer.prepare(event, controller.signal),
          new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => {
              const error = new Error(`prepare timed out after ${timeoutMs} ms`);
              controller.abort(error);
              reject(error);
            }, timeoutMs);
          })
        ]);
      } finally {
        clearTimeout(timer);
      }
    }
    const outcome = db.transaction(() => {
      const result = consumer.handle(event, db, prepared) ?? 'applied';
      new ProcessedEvents(db).record(consumer.name, letter.eventId, letter.replayId, 'applied');
      store.markResolved(id, 'replayed');
      return result;
    })();
    return { letter: store.get(consumer.name, id)!, outcome };
  } catch (error) {
    store.recordFailedReplay(id, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** A dead letter that cannot be acted on: `NOT_FOUND` or `CONFLICT` (already resolved, undecodable). */
export class DeadLetterError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT',
    message: string
  ) {
    super(message);
    this.name = 'DeadLetterError';
  }
}
