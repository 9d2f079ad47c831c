import * as grpc from '@grpc/grpc-js';
import avro from 'avsc';
import type { SalesforceAuth, SalesforceSession } from '../auth';
import {
  loadPubSubPackage,
  type FetchRequest,
  type FetchResponse,
  type ProducerEvent,
  type PubSubClient,
  type PublishRequest,
  type PublishResponse,
  type TopicInfo
} from './proto';

/** Salesforce's global Pub/Sub API endpoint. */
export const DEFAULT_PUBSUB_ENDPOINT = 'api.pubsub.salesforce.com:7443';

export interface PubSubConnectionOptions {
  /** `host:port`, from `SF_PUBSUB_ENDPOINT`. */
  readonly endpoint: string;
  /** Extra trusted CA (PEM) for a local server, from `SF_PUBSUB_CA_FILE`; the system roots otherwise. */
  readonly caPem?: Buffer;
  readonly auth: SalesforceAuth;
}

/** True for the gRPC status the Pub/Sub API answers when the session is missing, invalid or expired. */
export function isAuthError(error: unknown): boolean {
  return (error as grpc.ServiceError | undefined)?.code === grpc.status.UNAUTHENTICATED;
}

/**
 * The `tenantid` header wants the org id. Auth flows report it; otherwise it is the part of a Salesforce access token
 * before the `!` (`00D…!…`).
 */
export function tenantIdOf(session: SalesforceSession): string {
  if (session.orgId) return session.orgId;
  const prefix = session.accessToken.split('!')[0] ?? '';
  if (/^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/.test(prefix)) return prefix;
  throw new Error(
    'The Pub/Sub API needs the org id (tenantid header): the Salesforce session did not report one and the access token does not start with it'
  );
}

/**
 * One gRPC channel to the Pub/Sub API, shared by every subscription and publisher of the process (Salesforce allows
 * 100 concurrent streams per channel). Each call carries the current session as metadata; unary calls that fail with
 * `UNAUTHENTICATED` are retried once after {@link SalesforceAuth.refresh}. Avro schemas are fetched by id once and
 * cached: events carry the id of the schema they were written with, so an event written before a field was added and
 * one written after are each decoded with their own schema.
 */
export class PubSubConnection {
  private readonly client: PubSubClient;
  private readonly schemas = new Map<string, Promise<avro.Type>>();
  /** The same types once fetched, for the synchronous lookup of the subscriber's hot path. */
  private readonly resolvedSchemas = new Map<string, avro.Type>();

  constructor(private readonly options: PubSubConnectionOptions) {
    const Client = loadPubSubPackage().client;
    this.client = new Client(options.endpoint, grpc.credentials.createSsl(options.caPem ?? null), {
      // Salesforce events are at most 1 MB; a FetchResponse carries up to 100 of them.
      'grpc.max_receive_message_length': 110 * 1024 * 1024,
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000
    });
  }

  get auth(): SalesforceAuth {
    return this.options.auth;
  }

  /** The metadata headers every Pub/Sub call carries. */
  metadata(session: SalesforceSession): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set('accesstoken', session.accessToken);
    metadata.set('instanceurl', session.instanceUrl);
    metadata.set('tenantid', tenantIdOf(session));
    return metadata;
  }

  /** Runs a unary call with the current session, refreshing it once after `UNAUTHENTICATED`. */
  private async unary<Res>(
    invoke: (
      metadata: grpc.Metadata,
      callback: (error: grpc.ServiceError | null, response?: Res) => void
    ) => void
  ): Promise<Res> {
    const once = (session: SalesforceSession) =>
      new Promise<Res>((resolve, reject) => {
        invoke(this.metadata(session), (error, response) =>
          error || response === undefined
            ? reject(error ?? new Error('empty response'))
            : resolve(response)
        );
      });
    const session = await this.options.auth.session();
    try {
      return await once(session);
    } catch (error) {
      if (!isAuthError(error)) throw error;
      return once(await this.options.auth.refresh(session));
    }
  }

  getTopic(topicName: string): Promise<TopicInfo> {
    return this.unary((metadata, callback) =>
      this.client.GetTopic({ topic_name: topicName }, metadata, callback)
    );
  }

  /** The Avro type of a schema id, fetched once (concurrent callers share the fetch; a failed fetch is retried). */
  schema(schemaId: string): Promise<avro.Type> {
    let pending = this.schemas.get(schemaId);
    if (!pending) {
      pending = this.unary<{ schema_json: string }>((metadata, callback) =>
        this.client.GetSchema({ schema_id: schemaId }, metadata, callback)
      ).then((info) => {
        const type = avro.Type.forSchema(JSON.parse(info.schema_json) as avro.Schema);
        this.resolvedSchemas.set(schemaId, type);
        return type;
      });
      pending.catch(() => this.schemas.delete(schemaId));
      this.schemas.set(schemaId, pending);
    }
    return pending;
  }

  /**
   * The Avro type of a schema id already fetched, without a round trip through a promise (the subscriber decodes a
   * whole FetchResponse synchronously when every event's schema is cached, which is the rule after the first one).
   */
  cachedSchema(schemaId: string): avro.Type | undefined {
    return this.resolvedSchemas.get(schemaId);
  }

  /** Schemas fetched so far (for diagnostics and tests). */
  get cachedSchemaIds(): string[] {
    return [...this.schemas.keys()];
  }

  /** Opens a Subscribe stream authenticated with `session`; the caller writes the FetchRequests. */
  subscribe(session: SalesforceSession): grpc.ClientDuplexStream<FetchRequest, FetchResponse> {
    return this.client.Subscribe(this.metadata(session));
  }

  /** Opens a PublishStream authenticated with `session`; see {@link PubSubPublisher} for the caller's duties. */
  publishStream(
    session: SalesforceSession
  ): grpc.ClientDuplexStream<PublishRequest, PublishResponse> {
    return this.client.PublishStream(this.metadata(session));
  }

  /** One `Publish` call with already-encoded events and the given session (no retry: the caller decides). */
  publishEncoded(session: SalesforceSession, request: PublishRequest): Promise<PublishResponse> {
    return new Promise((resolve, reject) => {
      this.client.Publish(request, this.metadata(session), (error, response) =>
        error || response === undefined
          ? reject(error ?? new Error('empty response'))
          : resolve(response)
      );
    });
  }

  /**
   * Publishes events (Avro-encoded with the topic's current schema) in one `Publish` call. Salesforce recommends at
   * most 200 events and 3 MB per request.
   */
  async publish(
    topicName: string,
    payloads: readonly Record<string, unknown>[],
    ids?: readonly string[]
  ): Promise<PublishResponse> {
    const topic = await this.getTopic(topicName);
    const type = await this.schema(topic.schema_id);
    const events: Partial<ProducerEvent>[] = payloads.map((payload, index) => ({
      ...(ids?.[index] ? { id: ids[index] } : {}),
      schema_id: topic.schema_id,
      payload: type.toBuffer(payload)
    }));
    return this.unary((metadata, callback) =>
      this.client.Publish({ topic_name: topicName, events }, metadata, callback)
    );
  }

  close(): void {
    this.client.close();
  }
}
