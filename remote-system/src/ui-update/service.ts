import type Database from 'better-sqlite3';
import type { SalesforceAuth } from '../salesforce/auth';
import {
  PubSubConnection,
  PubSubPublisher,
  type PublisherNotification,
  type PublisherStats,
  type PublishOutcome
} from '../salesforce/pubsub';
import type { UiUpdateConfig } from './config';
import type { ShipmentChange } from './contract';
import { OutboxPublisher, outboxCounts, type DrainResult, type OutboxState } from './outbox';
import { ShipmentSimulator } from './simulator';

export interface UiUpdateServiceOptions {
  readonly db: Database.Database;
  readonly config: UiUpdateConfig;
  /** The org session; called when publishing is first needed (throws when no `SF_*` connection is configured). */
  readonly auth: () => SalesforceAuth;
  /** Console notes: publish failures and rejections, rate changes. */
  readonly note?: (message: string, details?: Record<string, unknown>) => void;
  /** Simulator tick (default 200 ms). */
  readonly tickMs?: number;
  readonly random?: () => number;
}

export interface UiUpdateStatus {
  readonly running: boolean;
  readonly ratePerSecond: number;
  readonly topic: string;
  readonly transport: 'stream' | 'unary';
  readonly changes: number;
  readonly outbox: Record<OutboxState, number>;
  readonly publisher: PublisherStats | null;
  readonly lastError: string | null;
}

/** Most changes one tick may make, so a stalled event loop does not turn into one huge transaction. */
const MAX_CHANGES_PER_TICK = 1000;

/**
 * The ERP's half of UI Update: the shipment simulator on a timer at a rate set from the console, the CLI or
 * `UI_UPDATE_RATE`, and the outbox drained to the Pub/Sub API after every tick. Publishing failures never stop the
 * simulator: they stay in the outbox (`rejected` / `failed`), are noted on the console and are counted in
 * {@link UiUpdateService.status}.
 */
export class UiUpdateService {
  private readonly simulator: ShipmentSimulator;
  private outbox?: OutboxPublisher;
  private publisher?: PubSubPublisher;
  private connection?: PubSubConnection;
  private timer?: NodeJS.Timeout;
  private rate: number;
  private due = 0;
  private lastTick = 0;
  private changes = 0;
  private lastError: string | null = null;

  constructor(private readonly options: UiUpdateServiceOptions) {
    this.simulator = new ShipmentSimulator({
      db: options.db,
      ...(options.random ? { random: options.random } : {})
    });
    this.rate = options.config.ratePerSecond;
  }

  /** The outbox publisher, created on first use (needs the org session). */
  private ensureOutbox(): OutboxPublisher {
    if (!this.outbox) {
      const { config } = this.options;
      const auth = this.options.auth();
      this.connection = new PubSubConnection({
        endpoint: config.pubsub.endpoint,
        ...(config.pubsub.caPem ? { caPem: config.pubsub.caPem } : {}),
        auth
      });
      this.publisher = new PubSubPublisher({
        connection: this.connection,
        topic: config.topic,
        transport: config.transport,
        maxEventsPerRequest: config.batchSize,
        maxBytesPerRequest: config.maxRequestBytes,
        maxAttempts: config.maxAttempts,
        onNotify: (notification) => this.onPublisherNotification(notification)
      });
      this.outbox = new OutboxPublisher(this.options.db, this.publisher, (outcome) =>
        this.onOutcome(outcome)
      );
    }
    return this.outbox;
  }

  private onPublisherNotification(notification: PublisherNotification): void {
    if (notification.kind === 'retry') {
      this.options.note?.(
        `Publish retry: ${notification.events} event(s), attempt ${notification.attempt} in ${notification.delayMs} ms`,
        { reason: notification.reason }
      );
    } else if (notification.kind === 'auth-refresh') {
      this.options.note?.('Pub/Sub session refreshed after UNAUTHENTICATED');
    }
  }

  private onOutcome(outcome: PublishOutcome): void {
    if (outcome.status === 'published') return;
    this.lastError = `${outcome.status} ${outcome.id}: ${outcome.code} ${outcome.message}`;
    this.options.note?.(`Shipment event ${outcome.status}: ${outcome.code}`, {
      eventId: outcome.id,
      message: outcome.message,
      attempts: outcome.attempts
    });
  }

  /** Starts the simulator at `rate` changes per second (the current rate when omitted). */
  start(rate: number = this.rate): void {
    this.ensureOutbox();
    this.rate = rate;
    if (this.timer || rate === 0) {
      if (rate === 0) this.stop();
      return;
    }
    this.lastTick = Date.now();
    this.due = 0;
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 200);
    this.timer.unref();
    this.options.note?.(`Shipment simulator started at ${rate}/s`);
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.options.note?.('Shipment simulator stopped');
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  private tick(): void {
    const now = Date.now();
    this.due += (this.rate * (now - this.lastTick)) / 1000;
    this.lastTick = now;
    const count = Math.min(MAX_CHANGES_PER_TICK, Math.floor(this.due));
    if (count === 0) return;
    this.due -= count;
    try {
      this.step(count);
    } catch (error) {
      this.lastError = (error as Error).message;
      this.options.note?.(`Shipment simulator step failed: ${this.lastError}`);
    }
  }

  /** Moves `count` shipments now and starts a drain; returns the changes (already committed with their events). */
  step(count: number): ShipmentChange[] {
    const outbox = this.ensureOutbox();
    const changes = this.simulator.step(count);
    this.changes += changes.length;
    void this.drainWith(outbox);
    return changes;
  }

  /** Publishes what is pending now. */
  drain(): Promise<DrainResult> {
    return this.drainWith(this.ensureOutbox());
  }

  private async drainWith(outbox: OutboxPublisher): Promise<DrainResult> {
    try {
      return await outbox.drain();
    } catch (error) {
      // The topic or its schema could not be read (org unreachable, no permission): the events stay pending.
      this.lastError = `publishing stopped: ${(error as Error).message}`;
      this.options.note?.(`Shipment events not published: ${(error as Error).message}`);
      return { sent: 0, published: 0, rejected: 0, failed: 0 };
    }
  }

  /** Puts rejected and failed events back to pending and drains. */
  requeue(): number {
    const outbox = this.ensureOutbox();
    const count = outbox.requeue();
    if (count > 0) void this.drainWith(outbox);
    return count;
  }

  status(): UiUpdateStatus {
    return {
      running: this.running,
      ratePerSecond: this.rate,
      topic: this.options.config.topic,
      transport: this.options.config.transport,
      changes: this.changes,
      outbox: outboxCounts(this.options.db),
      publisher: this.publisher ? { ...this.publisher.stats } : null,
      lastError: this.lastError
    };
  }

  /** Stops the timer, waits for the running drain and closes the stream and the channel. */
  async close(): Promise<void> {
    this.stop();
    await this.outbox?.idle();
    this.publisher?.close();
    this.connection?.close();
  }
}
