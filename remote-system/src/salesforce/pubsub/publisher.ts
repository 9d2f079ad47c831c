import * as grpc from '@grpc/grpc-js';
import type avro from 'avsc';
import type { SalesforceSession } from '../auth';
import { isAuthError, type PubSubConnection } from './connection';
import {
  replayIdToHex,
  type ProducerEvent,
  type PublishRequest,
  type PublishResponse
} from './proto';

/**
 * Publishing limits of the Pub/Sub API ("Pub/Sub API and Event Allocations"): at most 200 events per
 * `PublishRequest` are recommended, a request should stay under 3 MB (gRPC itself refuses 4 MB, and the server then
 * closes the stream), and one event may be at most 1 MB (larger ones fail in their own `PublishResult`).
 */
export const MAX_EVENTS_PER_PUBLISH = 200;
export const RECOMMENDED_PUBLISH_BYTES = 3 * 1024 * 1024;
export const GRPC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
export const MAX_EVENT_BYTES = 1024 * 1024;
/** A PublishStream closes unless a request arrives every 70 s (`pubsub_api.proto`); ours closes itself first. */
export const PUBLISH_STREAM_IDLE_MS = 60_000;

/** One event to publish: the id is the `ProducerEvent.id`, returned as the result's correlation key. */
export interface PublishInput {
  readonly id: string;
  readonly payload: Record<string, unknown>;
}

/**
 * What became of one event, always one per input:
 * - `published`: Salesforce stored it (its replay id, hex);
 * - `rejected`: Salesforce (or the local size/schema check) refused this event: retrying the same bytes cannot help;
 * - `failed`: the transport kept failing (gRPC errors, no answer) until the attempts ran out: it may be sent again.
 */
export type PublishOutcome =
  | {
      readonly id: string;
      readonly status: 'published';
      readonly replayId: string;
      readonly attempts: number;
    }
  | {
      readonly id: string;
      readonly status: 'rejected' | 'failed';
      readonly code: string;
      readonly message: string;
      readonly attempts: number;
    };

export type PublisherNotification =
  | {
      readonly kind: 'retry';
      readonly events: number;
      readonly attempt: number;
      readonly reason: string;
      readonly delayMs: number;
    }
  | {
      readonly kind: 'rejected' | 'failed';
      readonly id: string;
      readonly code: string;
      readonly message: string;
    }
  | { readonly kind: 'auth-refresh' }
  | { readonly kind: 'stream-opened' | 'stream-closed'; readonly reason?: string };

export interface PublisherOptions {
  readonly connection: PubSubConnection;
  /** `/event/Name__e`. */
  readonly topic: string;
  /** `stream` (PublishStream, default: requests pipelined on one stream) or `unary` (one Publish call per batch). */
  readonly transport?: 'stream' | 'unary';
  /** 1..200 (default 200). */
  readonly maxEventsPerRequest?: number;
  /** Bytes of events per request, at most 3 MB (the default). */
  readonly maxBytesPerRequest?: number;
  /** Requests awaiting their answer at once (default 4). */
  readonly maxInFlight?: number;
  /** Attempts per event before `failed` / `rejected` (default 5). */
  readonly maxAttempts?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A request unanswered this long counts as a transient failure, and its stream is cancelled (default 30 s). */
  readonly responseTimeoutMs?: number;
  /** Close an idle PublishStream after this long (default 60 s, under Salesforce's 70 s). */
  readonly streamIdleMs?: number;
  readonly onNotify?: (notification: PublisherNotification) => void;
  /** Jitter source (default `Math.random`). */
  readonly random?: () => number;
}

export interface PublisherStats {
  requests: number;
  published: number;
  rejected: number;
  failed: number;
  retries: number;
  streamsOpened: number;
  maxEventsInRequest: number;
  maxBytesInRequest: number;
}

/** An event ready to send: Avro bytes under the schema id it was written with. */
interface Encoded {
  readonly id: string;
  readonly payload: Buffer;
  /** Estimated protobuf bytes of this event inside a PublishRequest. */
  readonly wireBytes: number;
  attempts: number;
  lastError?: { code: string; message: string };
}

/** Protobuf bytes an event adds to a request: three length-delimited fields plus the repeated field's own header. */
function wireBytesOf(id: string, schemaId: string, payload: Buffer): number {
  const field = (length: number) => 1 + varintLength(length) + length;
  const inner =
    field(Buffer.byteLength(id)) + field(Buffer.byteLength(schemaId)) + field(payload.length);
  return 1 + varintLength(inner) + inner;
}

function varintLength(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    bytes += 1;
  }
  return bytes;
}

/**
 * Splits events, in order, into requests of at most `maxEvents` events and `maxBytes` estimated bytes each (an event
 * alone over `maxBytes` is never passed in: the caller rejects it first).
 */
export function planBatches<T extends { readonly wireBytes: number }>(
  events: readonly T[],
  maxEvents: number,
  maxBytes: number
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const event of events) {
    if (current.length > 0 && (current.length >= maxEvents || bytes + event.wireBytes > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += event.wireBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const TRANSIENT_CODES = new Set<grpc.status>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.ABORTED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.CANCELLED
]);

function grpcCodeName(error: unknown): string {
  const code = (error as grpc.ServiceError | undefined)?.code;
  return typeof code === 'number' ? (grpc.status[code] ?? String(code)) : 'ERROR';
}

function transportError(code: grpc.status, details: string): grpc.ServiceError {
  const error = new Error(details) as grpc.ServiceError;
  error.code = code;
  error.details = details;
  error.metadata = new grpc.Metadata();
  return error;
}

interface InFlight {
  readonly ids: ReadonlySet<string>;
  readonly resolve: (response: PublishResponse) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One PublishStream: requests are written without waiting for earlier answers (the proto allows queuing them), and
 * each answer is matched to its request by the correlation keys of its results. When the stream ends or fails,
 * every unanswered request fails with that error; the next send opens a new stream.
 */
class PublishStreamChannel {
  private call?: grpc.ClientDuplexStream<PublishRequest, PublishResponse>;
  private session?: SalesforceSession;
  private readonly inFlight: InFlight[] = [];
  private idleTimer?: NodeJS.Timeout;

  constructor(
    private readonly connection: PubSubConnection,
    private readonly options: { responseTimeoutMs: number; idleMs: number },
    private readonly notify: (notification: PublisherNotification) => void,
    private readonly onOpen: () => void
  ) {}

  send(session: SalesforceSession, request: PublishRequest): Promise<PublishResponse> {
    if (this.call && this.session?.accessToken !== session.accessToken)
      this.close('session renewed');
    const call = this.call ?? this.open(session);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    return new Promise<PublishResponse>((resolve, reject) => {
      const entry: InFlight = {
        ids: new Set(request.events.map((event) => event.id ?? '')),
        resolve,
        reject,
        timer: setTimeout(() => {
          this.fail(
            call,
            transportError(grpc.status.DEADLINE_EXCEEDED, 'no PublishResponse in time')
          );
        }, this.options.responseTimeoutMs)
      };
      this.inFlight.push(entry);
      call.write(request);
    });
  }

  private open(
    session: SalesforceSession
  ): grpc.ClientDuplexStream<PublishRequest, PublishResponse> {
    const call = this.connection.publishStream(session);
    this.call = call;
    this.session = session;
    this.onOpen();
    this.notify({ kind: 'stream-opened' });
    call.on('data', (response: PublishResponse) => this.answer(call, response));
    call.on('error', (error) => this.fail(call, error));
    call.on('end', () =>
      this.fail(call, transportError(grpc.status.UNAVAILABLE, 'PublishStream ended by the server'))
    );
    return call;
  }

  private answer(
    call: grpc.ClientDuplexStream<PublishRequest, PublishResponse>,
    response: PublishResponse
  ): void {
    if (call !== this.call) return;
    const key = response.results[0]?.correlation_key;
    let index = key === undefined ? 0 : this.inFlight.findIndex((entry) => entry.ids.has(key));
    if (index < 0) index = 0;
    const [entry] = this.inFlight.splice(index, 1);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.resolve(response);
    this.armIdle();
  }

  private fail(
    call: grpc.ClientDuplexStream<PublishRequest, PublishResponse>,
    error: unknown
  ): void {
    if (call !== this.call) return;
    this.call = undefined;
    this.session = undefined;
    for (const entry of this.inFlight.splice(0)) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
    call.removeAllListeners('data');
    call.on('error', () => undefined);
    call.cancel();
    this.notify({ kind: 'stream-closed', reason: (error as Error).message });
  }

  private armIdle(): void {
    if (this.inFlight.length > 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close('idle'), this.options.idleMs);
    this.idleTimer.unref();
  }

  /** Half-closes the stream when nothing is in flight, or cancels it (failing what is in flight). */
  close(reason: string): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const call = this.call;
    if (!call) return;
    if (this.inFlight.length > 0) {
      this.fail(call, transportError(grpc.status.CANCELLED, `PublishStream closed: ${reason}`));
      return;
    }
    this.call = undefined;
    this.session = undefined;
    call.removeAllListeners();
    call.on('error', () => undefined);
    call.end();
    this.notify({ kind: 'stream-closed', reason });
  }
}

/**
 * A general Pub/Sub API publisher for any pattern that sends events to Salesforce (ui-update's shipment simulator,
 * event-driven's ERP producer). It encodes each payload with the topic's current Avro schema, splits events into
 * requests within the documented limits (events and bytes per request; an event over 1 MB is rejected before it is
 * sent), sends them over one PublishStream (requests pipelined, up to `maxInFlight` unanswered) or with unary
 * `Publish` calls, and checks **every** `PublishResult`:
 *
 * - a result with a replay id: `published`;
 * - a result error `COMMIT` (unrecoverable, per the proto): `rejected` at once; `PUBLISH` / `UNKNOWN`: sent again
 *   with the next round, then `rejected` with the last error when the attempts run out;
 * - an event without a result, a transient gRPC error (`UNAVAILABLE`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, …)
 *   or an unanswered request: sent again after an exponential backoff with jitter, then `failed`;
 * - `UNAUTHENTICATED`: the session is refreshed through {@link SalesforceAuth.refresh} and the events are sent again;
 * - any other gRPC error (`PERMISSION_DENIED`, `NOT_FOUND`, `INVALID_ARGUMENT`): `failed` at once.
 *
 * A retry after a transport error may publish an event twice (the first request may have been stored before the
 * answer was lost): subscribers must tolerate duplicates, as with any at-least-once delivery.
 */
export class PubSubPublisher {
  readonly stats: PublisherStats = {
    requests: 0,
    published: 0,
    rejected: 0,
    failed: 0,
    retries: 0,
    streamsOpened: 0,
    maxEventsInRequest: 0,
    maxBytesInRequest: 0
  };
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private readonly stream: PublishStreamChannel;
  private topicSchema?: Promise<{ schemaId: string; type: avro.Type }>;

  constructor(private readonly options: PublisherOptions) {
    this.maxEvents = options.maxEventsPerRequest ?? MAX_EVENTS_PER_PUBLISH;
    this.maxBytes = options.maxBytesPerRequest ?? RECOMMENDED_PUBLISH_BYTES;
    if (
      !Number.isInteger(this.maxEvents) ||
      this.maxEvents < 1 ||
      this.maxEvents > MAX_EVENTS_PER_PUBLISH
    ) {
      throw new RangeError(`maxEventsPerRequest must be 1..${MAX_EVENTS_PER_PUBLISH}`);
    }
    if (this.maxBytes < 1024 || this.maxBytes > RECOMMENDED_PUBLISH_BYTES) {
      throw new RangeError(`maxBytesPerRequest must be 1 KB..${RECOMMENDED_PUBLISH_BYTES} bytes`);
    }
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 4);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.initialBackoffMs = options.initialBackoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.random = options.random ?? Math.random;
    this.stream = new PublishStreamChannel(
      options.connection,
      {
        responseTimeoutMs: options.responseTimeoutMs ?? 30_000,
        idleMs: options.streamIdleMs ?? PUBLISH_STREAM_IDLE_MS
      },
      (notification) => this.notify(notification),
      () => {
        this.stats.streamsOpened += 1;
      }
    );
  }

  get topic(): string {
    return this.options.topic;
  }

  private notify(notification: PublisherNotification): void {
    this.options.onNotify?.(notification);
  }

  /** The topic's current schema (id and Avro type), read once; forgotten after a failure so it is read again. */
  private schema(): Promise<{ schemaId: string; type: avro.Type }> {
    if (!this.topicSchema) {
      const pending = (async () => {
        const topic = await this.options.connection.getTopic(this.options.topic);
        if (!topic.can_publish) {
          throw transportError(
            grpc.status.PERMISSION_DENIED,
            `The session's user cannot publish to ${this.options.topic} (GetTopic can_publish = false)`
          );
        }
        return {
          schemaId: topic.schema_id,
          type: await this.options.connection.schema(topic.schema_id)
        };
      })();
      pending.catch(() => {
        if (this.topicSchema === pending) this.topicSchema = undefined;
      });
      this.topicSchema = pending;
    }
    return this.topicSchema;
  }

  /**
   * Publishes `inputs` and resolves with one outcome per input, in input order, once each is final. Never rejects
   * for an event's failure (that is an outcome); rejects only when the topic's schema cannot be read at all.
   */
  async publish(inputs: readonly PublishInput[]): Promise<PublishOutcome[]> {
    const outcomes = new Map<string, PublishOutcome>();
    if (inputs.length === 0) return [];
    const ids = new Set<string>();
    for (const input of inputs) {
      if (!input.id || ids.has(input.id))
        throw new Error(`event ids must be unique and non-empty (${input.id})`);
      ids.add(input.id);
    }
    const { schemaId, type } = await this.schema();

    let pending: Encoded[] = [];
    for (const input of inputs) {
      let payload: Buffer;
      try {
        payload = type.toBuffer(input.payload);
      } catch (error) {
        this.finish(outcomes, {
          id: input.id,
          status: 'rejected',
          code: 'INVALID_PAYLOAD',
          message: `does not match the topic's schema: ${(error as Error).message}`,
          attempts: 0
        });
        continue;
      }
      const wireBytes = wireBytesOf(input.id, schemaId, payload);
      if (payload.length > MAX_EVENT_BYTES || wireBytes > this.maxBytes) {
        this.finish(outcomes, {
          id: input.id,
          status: 'rejected',
          code: 'EVENT_TOO_LARGE',
          message: `${payload.length} bytes; an event may be at most ${Math.min(MAX_EVENT_BYTES, this.maxBytes)}`,
          attempts: 0
        });
        continue;
      }
      pending.push({ id: input.id, payload, wireBytes, attempts: 0 });
    }

    let session = await this.options.connection.auth.session();
    let round = 0;
    while (pending.length > 0) {
      round += 1;
      const retry: Encoded[] = [];
      let refreshAuth = false;
      const batches = planBatches(pending, this.maxEvents, this.maxBytes);
      await runPool(batches, this.maxInFlight, async (batch) => {
        for (const event of batch) event.attempts += 1;
        let response: PublishResponse;
        try {
          response = await this.send(session, schemaId, batch);
        } catch (error) {
          const code = grpcCodeName(error);
          const message = (error as Error).message;
          if (isAuthError(error)) {
            refreshAuth = true;
            for (const event of batch)
              retry.push(Object.assign(event, { lastError: { code, message } }));
          } else if (TRANSIENT_CODES.has((error as grpc.ServiceError).code)) {
            for (const event of batch)
              retry.push(Object.assign(event, { lastError: { code, message } }));
          } else {
            for (const event of batch) {
              this.finish(outcomes, {
                id: event.id,
                status: 'failed',
                code,
                message,
                attempts: event.attempts
              });
            }
          }
          return;
        }
        const results = new Map(response.results.map((result) => [result.correlation_key, result]));
        for (const event of batch) {
          const result = results.get(event.id);
          if (!result) {
            retry.push(
              Object.assign(event, {
                lastError: {
                  code: 'NO_RESULT',
                  message: 'the PublishResponse had no result for this event'
                }
              })
            );
          } else if (result.error && result.error.code !== undefined) {
            const { code, msg } = result.error;
            if (code === 'COMMIT') {
              this.finish(outcomes, {
                id: event.id,
                status: 'rejected',
                code,
                message: msg,
                attempts: event.attempts
              });
            } else {
              retry.push(Object.assign(event, { lastError: { code, message: msg } }));
            }
          } else {
            this.finish(outcomes, {
              id: event.id,
              status: 'published',
              replayId: replayIdToHex(result.replay_id),
              attempts: event.attempts
            });
          }
        }
      });

      pending = [];
      for (const event of retry) {
        if (event.attempts < this.maxAttempts) {
          pending.push(event);
          continue;
        }
        const last = event.lastError ?? { code: 'ERROR', message: 'unknown' };
        // A per-event error from Salesforce is a refusal of this event; anything else is a transport failure.
        const refused = last.code === 'PUBLISH' || last.code === 'UNKNOWN';
        this.finish(outcomes, {
          id: event.id,
          status: refused ? 'rejected' : 'failed',
          code: last.code,
          message: last.message,
          attempts: event.attempts
        });
      }
      if (pending.length === 0) break;
      if (refreshAuth) {
        this.notify({ kind: 'auth-refresh' });
        session = await this.options.connection.auth.refresh(session);
      }
      const delayMs = refreshAuth ? 0 : this.backoff(round);
      this.stats.retries += pending.length;
      this.notify({
        kind: 'retry',
        events: pending.length,
        attempt: round + 1,
        reason: pending[0]?.lastError
          ? `${pending[0].lastError.code}: ${pending[0].lastError.message}`
          : 'unknown',
        delayMs
      });
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    return inputs.map((input) => outcomes.get(input.id)!);
  }

  private backoff(round: number): number {
    const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (round - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private finish(outcomes: Map<string, PublishOutcome>, outcome: PublishOutcome): void {
    outcomes.set(outcome.id, outcome);
    if (outcome.status === 'published') {
      this.stats.published += 1;
      return;
    }
    this.stats[outcome.status] += 1;
    this.notify({
      kind: outcome.status,
      id: outcome.id,
      code: outcome.code,
      message: outcome.message
    });
  }

  private send(
    session: SalesforceSession,
    schemaId: string,
    batch: readonly Encoded[]
  ): Promise<PublishResponse> {
    const events: Partial<ProducerEvent>[] = batch.map((event) => ({
      id: event.id,
      schema_id: schemaId,
      payload: event.payload
    }));
    const request: PublishRequest = { topic_name: this.options.topic, events };
    const bytes = batch.reduce((sum, event) => sum + event.wireBytes, 0);
    this.stats.requests += 1;
    this.stats.maxEventsInRequest = Math.max(this.stats.maxEventsInRequest, batch.length);
    this.stats.maxBytesInRequest = Math.max(this.stats.maxBytesInRequest, bytes);
    return this.options.transport === 'unary'
      ? this.options.connection.publishEncoded(session, request)
      : this.stream.send(session, request);
  }

  /** Closes the PublishStream (the connection stays open: it belongs to the caller). */
  close(): void {
    this.stream.close('publisher closed');
  }
}

/** Runs `work` over `items` with at most `limit` running at once. */
async function runPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
