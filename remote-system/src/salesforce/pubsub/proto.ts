import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The official Pub/Sub API contract (`eventbus.v1`), read from the copy of `pubsub_api.proto` that ships in the
 * `salesforce-pubsub-api-client` package (the file is not in the package's `exports`, so it is located next to the
 * resolved entry point). The subscriber and the local test server both load this one file, so they cannot drift
 * from each other or from Salesforce's published contract.
 */
export const PUBSUB_PROTO_PATH = path.resolve(
  path.dirname(require.resolve('salesforce-pubsub-api-client')),
  '..',
  'pubsub_api.proto'
);

/** `bytes` fields arrive as Buffers; enums as their names; fields keep the proto's snake_case names. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true
};

export type ReplayPreset = 'LATEST' | 'EARLIEST' | 'CUSTOM';

export interface TopicRequest {
  topic_name: string;
}
export interface TopicInfo {
  topic_name: string;
  tenant_guid: string;
  can_publish: boolean;
  can_subscribe: boolean;
  schema_id: string;
  rpc_id: string;
}
export interface SchemaRequest {
  schema_id: string;
}
export interface SchemaInfo {
  schema_json: string;
  schema_id: string;
  rpc_id: string;
}
export interface EventHeader {
  key: string;
  value: Buffer;
}
export interface ProducerEvent {
  id: string;
  schema_id: string;
  payload: Buffer;
  headers: EventHeader[];
}
export interface ConsumerEvent {
  event: ProducerEvent;
  replay_id: Buffer;
}
export interface FetchRequest {
  topic_name?: string;
  replay_preset?: ReplayPreset;
  replay_id?: Buffer;
  num_requested: number;
  auth_refresh?: string;
}
export interface FetchResponse {
  events: ConsumerEvent[];
  latest_replay_id: Buffer;
  rpc_id: string;
  pending_num_requested: number;
}
export interface PublishRequest {
  topic_name: string;
  events: Partial<ProducerEvent>[];
  auth_refresh?: string;
}
export interface PublishResult {
  replay_id: Buffer;
  error: { code: 'UNKNOWN' | 'PUBLISH' | 'COMMIT'; msg: string } | null;
  correlation_key: string;
}
export interface PublishResponse {
  results: PublishResult[];
  schema_id: string;
  rpc_id: string;
}

/** The generated client constructor for `eventbus.v1.PubSub` (typed by the methods this project calls). */
export interface PubSubClient extends grpc.Client {
  GetTopic(
    request: TopicRequest,
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null, response?: TopicInfo) => void
  ): grpc.ClientUnaryCall;
  GetSchema(
    request: SchemaRequest,
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null, response?: SchemaInfo) => void
  ): grpc.ClientUnaryCall;
  Publish(
    request: PublishRequest,
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null, response?: PublishResponse) => void
  ): grpc.ClientUnaryCall;
  Subscribe(metadata: grpc.Metadata): grpc.ClientDuplexStream<FetchRequest, FetchResponse>;
  PublishStream(metadata: grpc.Metadata): grpc.ClientDuplexStream<PublishRequest, PublishResponse>;
}

export interface PubSubPackage {
  readonly client: new (
    address: string,
    credentials: grpc.ChannelCredentials,
    options?: grpc.ChannelOptions
  ) => PubSubClient;
  /** The service definition a server registers implementations against. */
  readonly service: grpc.ServiceDefinition;
}

let cached: PubSubPackage | undefined;

/** Loads `eventbus.v1.PubSub` from the official proto once per process. */
export function loadPubSubPackage(): PubSubPackage {
  if (cached) return cached;
  const definition = protoLoader.loadSync(PUBSUB_PROTO_PATH, LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    eventbus: { v1: { PubSub: grpc.ServiceClientConstructor } };
  };
  const ctor = loaded.eventbus.v1.PubSub;
  cached = {
    client: ctor as unknown as PubSubPackage['client'],
    service: ctor.service
  };
  return cached;
}

/** Replay ids are opaque bytes: stored and compared as lower-case hex, never interpreted. */
export function replayIdToHex(replayId: Buffer | Uint8Array | undefined): string {
  return replayId === undefined ? '' : Buffer.from(replayId).toString('hex');
}

export function replayIdFromHex(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}
