import { createHash, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import avro from 'avsc';
import { generate } from 'selfsigned';
import {
  loadPubSubPackage,
  replayIdToHex,
  type FetchRequest,
  type FetchResponse,
  type ProducerEvent,
  type PublishRequest,
  type PublishResponse,
  type PublishResult,
  type SchemaInfo,
  type SchemaRequest,
  type TopicInfo,
  type TopicRequest
} from '../../src/salesforce/pubsub/proto';

/**
 * A local stand-in for the Salesforce Pub/Sub API (`eventbus.v1.PubSub`), served over TLS on 127.0.0.1 from the
 * official `pubsub_api.proto`, for tests and benchmarks of any pattern that subscribes or publishes (fire-and-forget,
 * ui-update, event-driven). It follows the documented contract:
 *
 * - every call needs the `accesstoken`, `instanceurl` and `tenantid` metadata headers; an unknown or expired token
 *   fails with `UNAUTHENTICATED`, as the org does when a session expires;
 * - `GetTopic` returns the topic's current schema id, `GetSchema` the Avro schema JSON for any id the topic ever had;
 * - `Subscribe` honours the first `FetchRequest`'s replay preset (`LATEST`, `EARLIEST`, `CUSTOM` + replay id, which
 *   resumes *after* that event), delivers no more events than the client has requested (`num_requested`, at most 100
 *   per request), and sends an empty `FetchResponse` carrying the latest replay id as a keepalive when idle;
 * - `Publish` and `PublishStream` validate each payload against the schema id it names and answer a `PublishResult`
 *   per event (replay id, or an error) with the event id as correlation key.
 *
 * Knobs a test turns: {@link PubSubStandIn.dropStreams} (server ends every subscription with `UNAVAILABLE`),
 * {@link PubSubStandIn.expireToken} (the next use of a token, including open streams, is `UNAUTHENTICATED`),
 * {@link PubSubStandIn.redeliver} (sends already-delivered events again: at-least-once duplicates), and
 * {@link PubSubStandIn.addField} (a new schema version with one more optional field, as when an admin adds a
 * field to a Platform Event). {@link PubSubStandIn.stats} reports what clients did (subscribe calls, the largest
 * outstanding request seen, fetch requests, rejected calls).
 *
 * What it does not model: retention (events are kept for the server's life, not 72 h), partitions and ordering
 * across them, managed subscriptions, the `auth_refresh` field, and allocation limits.
 */

/** An Avro record schema, as `GetSchema` returns it (JSON). */
export interface AvroRecordSchema {
  readonly type: 'record';
  readonly name: string;
  readonly namespace?: string;
  readonly fields: readonly { name: string; type: unknown; default?: unknown; doc?: string }[];
}

export interface StandInTopicOptions {
  /** For example `/event/Opportunity_Closed_Won__e`. */
  readonly topicName: string;
  readonly schema: AvroRecordSchema;
  readonly canPublish?: boolean;
}

export interface PubSubStandInOptions {
  readonly topics: readonly StandInTopicOptions[];
  /** Tokens accepted from the start; default `['stand-in-token']`. */
  readonly acceptedTokens?: readonly string[];
  /** Org id expected in the `tenantid` header; default `00D000000000001AAA`. */
  readonly tenantId?: string;
  /** Idle time before an empty keepalive `FetchResponse`; Salesforce sends one within 270 s. Default 270,000. */
  readonly keepaliveMs?: number;
  /** Most events in one `FetchResponse`; default 100. */
  readonly maxEventsPerResponse?: number;
}

export interface StandInEvent {
  readonly id: string;
  readonly schemaId: string;
  readonly payload: Buffer;
  readonly replayId: Buffer;
}

export interface StandInStats {
  /** `Subscribe` calls accepted (a reconnect is one more). */
  subscribeCalls: number;
  /** Subscribe streams open now. */
  activeStreams: number;
  fetchRequests: number;
  /** The most events one stream was owed at any moment (sum of `num_requested` not yet delivered). */
  maxOutstanding: number;
  /** The largest single `num_requested` seen. */
  maxNumRequested: number;
  /** Calls rejected with `UNAUTHENTICATED`. */
  unauthenticated: number;
  /** Events delivered on subscribe streams, duplicates included. */
  delivered: number;
  keepalivesSent: number;
  /** Publish calls plus PublishStream requests received (ui-update publisher tests). */
  publishRequests: number;
  /** PublishStream calls opened. */
  publishStreams: number;
  /** The most events and the most payload + id bytes seen in one publish request. */
  maxPublishEvents: number;
  maxPublishBytes: number;
}

export interface PubSubStandIn {
  /** `127.0.0.1:<port>`: the value for `SF_PUBSUB_ENDPOINT`. */
  readonly endpoint: string;
  /** PEM of the generated self-signed certificate: write it to the file `SF_PUBSUB_CA_FILE` names. */
  readonly caPem: string;
  readonly tenantId: string;
  readonly stats: StandInStats;
  /** Encodes each payload with the topic's current schema and appends it, as the org does on publish. */
  publish(topicName: string, payloads: readonly Record<string, unknown>[]): StandInEvent[];
  /** Every event stored for a topic, in replay order. */
  events(topicName: string): readonly StandInEvent[];
  /** The topic's current schema id. */
  schemaId(topicName: string): string;
  /**
   * Registers a new schema version with one more field (optional, default null) and makes it current: later
   * publishes are encoded with it. Returns the new schema id.
   */
  addField(topicName: string, field: { name: string; type: unknown; default?: unknown }): string;
  acceptToken(token: string): void;
  /** Rejects `token` from now on; open streams authenticated with it end with `UNAUTHENTICATED`. */
  expireToken(token: string): void;
  /** Ends every open subscribe stream with `UNAVAILABLE` (a server restart or network cut). */
  dropStreams(): void;
  /**
   * Sends again, on every open stream of the topic, the last `count` events that stream already received (ignoring
   * flow control, as a redelivery after a broker fail-over would).
   */
  redeliver(topicName: string, count: number): void;
  /**
   * The next `count` publish requests (a `Publish` call, or one request on a PublishStream, which then ends) fail
   * with gRPC status `code` (default `UNAVAILABLE`), storing nothing: a transient failure to retry.
   */
  failNextPublishes(count: number, code?: grpc.status): void;
  /** The next `count` published events get an error `PublishResult` (default code `PUBLISH`) and are not stored. */
  rejectNextEvents(
    count: number,
    error?: { code: 'UNKNOWN' | 'PUBLISH' | 'COMMIT'; msg: string }
  ): void;
  close(): Promise<void>;
}

interface TopicState {
  readonly info: StandInTopicOptions;
  currentSchemaId: string;
  readonly schemas: Map<string, { json: string; type: avro.Type }>;
  readonly events: StandInEvent[];
}

interface StreamState {
  readonly call: grpc.ServerDuplexStream<FetchRequest, FetchResponse>;
  readonly token: string;
  topic?: TopicState;
  /** Index of the next event to deliver. */
  cursor: number;
  outstanding: number;
  closed: boolean;
  keepalive?: NodeJS.Timeout;
}

const DEFAULT_TOKEN = 'stand-in-token';
const DEFAULT_TENANT = '00D000000000001AAA';
/** The documented maximum of `num_requested` in one FetchRequest. */
const MAX_NUM_REQUESTED = 100;

/** Salesforce schema ids are short opaque strings; a digest of the schema JSON keeps them stable per version. */
function schemaIdOf(json: string): string {
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

function replayIdOf(sequence: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(sequence));
  return buffer;
}

function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  const error = new Error(details) as grpc.ServiceError;
  error.code = code;
  error.details = details;
  error.metadata = new grpc.Metadata();
  return error;
}

/** Starts the stand-in on 127.0.0.1, on a free port, with a certificate generated for 127.0.0.1 and localhost. */
export async function startPubSubStandIn(options: PubSubStandInOptions): Promise<PubSubStandIn> {
  const tenantId = options.tenantId ?? DEFAULT_TENANT;
  const keepaliveMs = options.keepaliveMs ?? 270_000;
  const maxPerResponse = options.maxEventsPerResponse ?? 100;
  const accepted = new Set(options.acceptedTokens ?? [DEFAULT_TOKEN]);
  const topics = new Map<string, TopicState>();
  const streams = new Set<StreamState>();
  let sequence = 1_000;
  const stats: StandInStats = {
    subscribeCalls: 0,
    activeStreams: 0,
    fetchRequests: 0,
    maxOutstanding: 0,
    maxNumRequested: 0,
    unauthenticated: 0,
    delivered: 0,
    keepalivesSent: 0,
    publishRequests: 0,
    publishStreams: 0,
    maxPublishEvents: 0,
    maxPublishBytes: 0
  };
  // Publish fault knobs (failNextPublishes / rejectNextEvents).
  let publishFailures: { count: number; code: grpc.status } = {
    count: 0,
    code: grpc.status.UNAVAILABLE
  };
  let eventRejections: { count: number; error: NonNullable<PublishResult['error']> } = {
    count: 0,
    error: { code: 'PUBLISH', msg: 'rejected by the stand-in' }
  };

  const addSchema = (topic: TopicState, schema: AvroRecordSchema): string => {
    const json = JSON.stringify(schema);
    const id = schemaIdOf(json);
    topic.schemas.set(id, { json, type: avro.Type.forSchema(schema as avro.Schema) });
    topic.currentSchemaId = id;
    return id;
  };
  for (const info of options.topics) {
    const topic: TopicState = { info, currentSchemaId: '', schemas: new Map(), events: [] };
    addSchema(topic, info.schema);
    topics.set(info.topicName, topic);
  }
  const topicOrThrow = (name: string): TopicState => {
    const topic = topics.get(name);
    if (!topic) throw new Error(`stand-in has no topic ${name}`);
    return topic;
  };

  /** The token of a call, or an error to answer it with. */
  const authenticate = (metadata: grpc.Metadata): { token: string } | grpc.ServiceError => {
    const token = String(metadata.get('accesstoken')[0] ?? '');
    const instanceUrl = String(metadata.get('instanceurl')[0] ?? '');
    const tenant = String(metadata.get('tenantid')[0] ?? '');
    if (!token || !accepted.has(token)) {
      stats.unauthenticated += 1;
      return grpcError(grpc.status.UNAUTHENTICATED, 'Invalid or expired session (accesstoken)');
    }
    if (!instanceUrl || tenant !== tenantId) {
      stats.unauthenticated += 1;
      return grpcError(
        grpc.status.UNAUTHENTICATED,
        'instanceurl and tenantid headers are required'
      );
    }
    return { token };
  };

  const endStream = (stream: StreamState, error?: grpc.ServiceError): void => {
    if (stream.closed) return;
    stream.closed = true;
    if (stream.keepalive) clearTimeout(stream.keepalive);
    streams.delete(stream);
    stats.activeStreams = streams.size;
    if (error) stream.call.emit('error', error);
    else stream.call.end();
  };

  const latestReplayId = (topic: TopicState): Buffer =>
    topic.events.length > 0
      ? topic.events[topic.events.length - 1]!.replayId
      : replayIdOf(sequence);

  const armKeepalive = (stream: StreamState): void => {
    if (stream.keepalive) clearTimeout(stream.keepalive);
    stream.keepalive = setTimeout(() => {
      if (stream.closed || !stream.topic) return;
      stats.keepalivesSent += 1;
      stream.call.write({
        events: [],
        latest_replay_id: latestReplayId(stream.topic),
        rpc_id: randomUUID(),
        pending_num_requested: stream.outstanding
      });
      armKeepalive(stream);
    }, keepaliveMs);
    stream.keepalive.unref();
  };

  const pump = (stream: StreamState): void => {
    const topic = stream.topic;
    if (stream.closed || !topic) return;
    while (stream.outstanding > 0 && stream.cursor < topic.events.length) {
      const count = Math.min(
        stream.outstanding,
        maxPerResponse,
        topic.events.length - stream.cursor
      );
      const batch = topic.events.slice(stream.cursor, stream.cursor + count);
      stream.cursor += count;
      stream.outstanding -= count;
      stats.delivered += count;
      stream.call.write({
        events: batch.map((event) => ({
          event: { id: event.id, schema_id: event.schemaId, payload: event.payload, headers: [] },
          replay_id: event.replayId
        })),
        latest_replay_id: batch[batch.length - 1]!.replayId,
        rpc_id: randomUUID(),
        pending_num_requested: stream.outstanding
      });
    }
    armKeepalive(stream);
  };

  const appendEvent = (
    topic: TopicState,
    event: { id: string; schemaId: string; payload: Buffer }
  ) => {
    sequence += 1;
    const stored: StandInEvent = { ...event, replayId: replayIdOf(sequence) };
    topic.events.push(stored);
    return stored;
  };

  const publishTo = (request: PublishRequest): PublishResponse => {
    stats.publishRequests += 1;
    stats.maxPublishEvents = Math.max(stats.maxPublishEvents, request.events.length);
    stats.maxPublishBytes = Math.max(
      stats.maxPublishBytes,
      request.events.reduce((sum, e) => sum + (e.payload?.length ?? 0) + (e.id?.length ?? 0), 0)
    );
    if (publishFailures.count > 0) {
      publishFailures.count -= 1;
      throw grpcError(publishFailures.code, 'Stand-in publish failure (failNextPublishes)');
    }
    const topic = topics.get(request.topic_name);
    if (!topic) throw grpcError(grpc.status.NOT_FOUND, `Unknown topic ${request.topic_name}`);
    if (topic.info.canPublish === false) {
      throw grpcError(
        grpc.status.PERMISSION_DENIED,
        `Topic ${request.topic_name} is not publishable`
      );
    }
    const results: PublishResult[] = request.events.map((event) => {
      const id = event.id || randomUUID();
      const schema = event.schema_id ? topic.schemas.get(event.schema_id) : undefined;
      const payload = event.payload ? Buffer.from(event.payload) : Buffer.alloc(0);
      if (!schema) {
        return {
          replay_id: Buffer.alloc(0),
          error: { code: 'PUBLISH', msg: `Unknown schema id ${event.schema_id ?? ''}` },
          correlation_key: id
        };
      }
      if (eventRejections.count > 0) {
        eventRejections.count -= 1;
        return {
          replay_id: Buffer.alloc(0),
          error: { ...eventRejections.error },
          correlation_key: id
        };
      }
      try {
        schema.type.fromBuffer(payload);
      } catch (error) {
        return {
          replay_id: Buffer.alloc(0),
          error: {
            code: 'PUBLISH',
            msg: `Payload does not match schema: ${(error as Error).message}`
          },
          correlation_key: id
        };
      }
      const stored = appendEvent(topic, { id, schemaId: event.schema_id!, payload });
      return { replay_id: stored.replayId, error: null, correlation_key: id };
    });
    for (const stream of streams) if (stream.topic === topic) pump(stream);
    return { results, schema_id: topic.currentSchemaId, rpc_id: randomUUID() };
  };

  const unary =
    <Req, Res>(work: (request: Req) => Res) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      const auth = authenticate(call.metadata);
      if (auth instanceof Error) return callback(auth);
      try {
        callback(null, work(call.request));
      } catch (error) {
        callback(error as grpc.ServiceError);
      }
    };

  const implementation: grpc.UntypedServiceImplementation = {
    GetTopic: unary<TopicRequest, TopicInfo>((request) => {
      const topic = topics.get(request.topic_name);
      if (!topic) throw grpcError(grpc.status.NOT_FOUND, `Unknown topic ${request.topic_name}`);
      return {
        topic_name: topic.info.topicName,
        tenant_guid: tenantId,
        can_publish: topic.info.canPublish !== false,
        can_subscribe: true,
        schema_id: topic.currentSchemaId,
        rpc_id: randomUUID()
      };
    }),
    GetSchema: unary<SchemaRequest, SchemaInfo>((request) => {
      for (const topic of topics.values()) {
        const schema = topic.schemas.get(request.schema_id);
        if (schema)
          return { schema_json: schema.json, schema_id: request.schema_id, rpc_id: randomUUID() };
      }
      throw grpcError(grpc.status.NOT_FOUND, `Unknown schema id ${request.schema_id}`);
    }),
    Publish: unary<PublishRequest, PublishResponse>(publishTo),
    PublishStream(call: grpc.ServerDuplexStream<PublishRequest, PublishResponse>): void {
      const auth = authenticate(call.metadata);
      if (auth instanceof Error) {
        call.emit('error', auth);
        return;
      }
      stats.publishStreams += 1;
      call.on('data', (request: PublishRequest) => {
        try {
          call.write(publishTo(request));
        } catch (error) {
          call.emit('error', error);
        }
      });
      call.on('end', () => call.end());
    },
    Subscribe(call: grpc.ServerDuplexStream<FetchRequest, FetchResponse>): void {
      const auth = authenticate(call.metadata);
      if (auth instanceof Error) {
        call.emit('error', auth);
        return;
      }
      stats.subscribeCalls += 1;
      const stream: StreamState = {
        call,
        token: auth.token,
        cursor: 0,
        outstanding: 0,
        closed: false
      };
      streams.add(stream);
      stats.activeStreams = streams.size;
      call.on('data', (request: FetchRequest) => {
        if (stream.closed) return;
        stats.fetchRequests += 1;
        if (!accepted.has(stream.token)) {
          stats.unauthenticated += 1;
          endStream(stream, grpcError(grpc.status.UNAUTHENTICATED, 'Session expired'));
          return;
        }
        if (request.num_requested < 0 || request.num_requested > MAX_NUM_REQUESTED) {
          endStream(
            stream,
            grpcError(grpc.status.INVALID_ARGUMENT, `num_requested must be 1..${MAX_NUM_REQUESTED}`)
          );
          return;
        }
        if (!stream.topic) {
          const topic = topics.get(request.topic_name ?? '');
          if (!topic) {
            endStream(
              stream,
              grpcError(grpc.status.NOT_FOUND, `Unknown topic ${request.topic_name ?? ''}`)
            );
            return;
          }
          stream.topic = topic;
          const preset = request.replay_preset ?? 'LATEST';
          if (preset === 'EARLIEST') stream.cursor = 0;
          else if (preset === 'LATEST') stream.cursor = topic.events.length;
          else {
            const wanted = replayIdToHex(request.replay_id);
            const index = topic.events.findIndex(
              (event) => replayIdToHex(event.replayId) === wanted
            );
            if (index < 0) {
              endStream(
                stream,
                grpcError(
                  grpc.status.INVALID_ARGUMENT,
                  `Replay id ${wanted} is not valid for this topic`
                )
              );
              return;
            }
            stream.cursor = index + 1;
          }
        }
        stats.maxNumRequested = Math.max(stats.maxNumRequested, request.num_requested);
        stream.outstanding += request.num_requested;
        stats.maxOutstanding = Math.max(stats.maxOutstanding, stream.outstanding);
        pump(stream);
      });
      call.on('end', () => endStream(stream));
      call.on('cancelled', () => endStream(stream));
      call.on('error', () => endStream(stream));
    }
  };

  const certificate = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' }
        ]
      }
    ]
  });
  const server = new grpc.Server();
  server.addService(loadPubSubPackage().service, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      '127.0.0.1:0',
      grpc.ServerCredentials.createSsl(
        null,
        [
          {
            private_key: Buffer.from(certificate.private),
            cert_chain: Buffer.from(certificate.cert)
          }
        ],
        false
      ),
      (error, bound) => (error ? reject(error) : resolve(bound))
    );
  });

  return {
    endpoint: `127.0.0.1:${port}`,
    caPem: certificate.cert,
    tenantId,
    stats,
    publish(topicName, payloads) {
      const topic = topicOrThrow(topicName);
      const schema = topic.schemas.get(topic.currentSchemaId)!;
      const stored = payloads.map((payload) =>
        appendEvent(topic, {
          id: randomUUID(),
          schemaId: topic.currentSchemaId,
          payload: schema.type.toBuffer(payload)
        })
      );
      for (const stream of streams) if (stream.topic === topic) pump(stream);
      return stored;
    },
    events: (topicName) => topicOrThrow(topicName).events,
    schemaId: (topicName) => topicOrThrow(topicName).currentSchemaId,
    addField(topicName, field) {
      const topic = topicOrThrow(topicName);
      const current = JSON.parse(
        topic.schemas.get(topic.currentSchemaId)!.json
      ) as AvroRecordSchema;
      return addSchema(topic, {
        ...current,
        fields: [...current.fields, { default: null, ...field }]
      });
    },
    acceptToken: (token) => void accepted.add(token),
    expireToken(token) {
      accepted.delete(token);
      for (const stream of [...streams]) {
        if (stream.token === token) {
          stats.unauthenticated += 1;
          endStream(stream, grpcError(grpc.status.UNAUTHENTICATED, 'Session expired or invalid'));
        }
      }
    },
    dropStreams() {
      for (const stream of [...streams]) {
        endStream(stream, grpcError(grpc.status.UNAVAILABLE, 'Stand-in dropped the stream'));
      }
    },
    redeliver(topicName, count) {
      const topic = topicOrThrow(topicName);
      for (const stream of streams) {
        if (stream.topic !== topic || stream.closed) continue;
        const from = Math.max(0, stream.cursor - count);
        const batch = topic.events.slice(from, stream.cursor);
        if (batch.length === 0) continue;
        stats.delivered += batch.length;
        stream.call.write({
          events: batch.map((event) => ({
            event: { id: event.id, schema_id: event.schemaId, payload: event.payload, headers: [] },
            replay_id: event.replayId
          })),
          latest_replay_id: batch[batch.length - 1]!.replayId,
          rpc_id: randomUUID(),
          pending_num_requested: stream.outstanding
        });
      }
    },
    failNextPublishes(count, code = grpc.status.UNAVAILABLE) {
      publishFailures = { count, code };
    },
    rejectNextEvents(count, error = { code: 'PUBLISH', msg: 'rejected by the stand-in' }) {
      eventRejections = { count, error };
    },
    async close() {
      for (const stream of [...streams]) endStream(stream);
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    }
  };
}

/** Encodes an object with a schema, for tests that publish through the client's `Publish` call. */
export function encodeWith(schema: AvroRecordSchema, value: Record<string, unknown>): Buffer {
  return avro.Type.forSchema(schema as avro.Schema).toBuffer(value);
}

export type { ProducerEvent };
