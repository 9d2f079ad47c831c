import * as grpc from '@grpc/grpc-js';
import avro from 'avsc';
import { MintingAuth } from '../../stand-ins/minting-auth';
import {
  MAX_EVENT_BYTES,
  PubSubConnection,
  PubSubPublisher,
  RECOMMENDED_PUBLISH_BYTES,
  planBatches,
  replayIdToHex,
  type PublisherNotification,
  type PublisherOptions
} from '../../../src/salesforce/pubsub';
import {
  startPubSubStandIn,
  type AvroRecordSchema,
  type PubSubStandIn
} from '../../stand-ins/pubsub-server';

/**
 * The general Pub/Sub API publisher against the local stand-in (TLS, gRPC, the official proto): batching within the
 * documented limits, every PublishResult checked, retries on transient failures, session refresh.
 */

const TOPIC = '/event/Publisher_Test__e';
const SCHEMA: AvroRecordSchema = {
  type: 'record',
  name: 'Publisher_Test__e',
  namespace: 'com.sforce.eventbus',
  fields: [
    { name: 'CreatedDate', type: 'long' },
    { name: 'CreatedById', type: 'string' },
    { name: 'Key__c', type: ['null', 'string'], default: null },
    { name: 'Body__c', type: ['null', 'string'], default: null }
  ]
};
const type = avro.Type.forSchema(SCHEMA as avro.Schema);

const event = (n: number, body: string | null = `body ${n}`) => ({
  id: `evt-${n}`,
  payload: {
    CreatedDate: 1767225600000 + n,
    CreatedById: '005000000000001AAA',
    Key__c: `k${n}`,
    Body__c: body
  }
});
const range = (count: number, from = 1) => Array.from({ length: count }, (_, i) => from + i);

describe.each(['stream', 'unary'] as const)('PubSubPublisher over %s', (transport) => {
  let standIn: PubSubStandIn;
  let auth: MintingAuth;
  let connection: PubSubConnection;
  const publishers: PubSubPublisher[] = [];
  let notes: PublisherNotification[];

  const publisher = (options: Partial<PublisherOptions> = {}) => {
    const created = new PubSubPublisher({
      connection,
      topic: TOPIC,
      transport,
      initialBackoffMs: 5,
      maxBackoffMs: 20,
      onNotify: (note) => notes.push(note),
      ...options
    });
    publishers.push(created);
    return created;
  };

  beforeEach(async () => {
    standIn = await startPubSubStandIn({
      topics: [{ topicName: TOPIC, schema: SCHEMA }],
      acceptedTokens: []
    });
    auth = new MintingAuth(standIn);
    connection = new PubSubConnection({
      endpoint: standIn.endpoint,
      caPem: Buffer.from(standIn.caPem),
      auth
    });
    notes = [];
  });

  afterEach(async () => {
    for (const created of publishers.splice(0)) created.close();
    connection.close();
    await standIn.close();
  });

  it('publishes every event with the Avro schema of the topic and returns its replay id', async () => {
    const outcomes = await publisher().publish(range(3).map((n) => event(n)));
    const stored = standIn.events(TOPIC);
    expect(stored.map((e) => e.id)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    expect(stored.map((e) => type.fromBuffer(e.payload))).toEqual(
      range(3).map((n) => event(n).payload)
    );
    expect(stored.every((e) => e.schemaId === standIn.schemaId(TOPIC))).toBe(true);
    expect(outcomes).toEqual(
      stored.map((e) => ({
        id: e.id,
        status: 'published',
        replayId: replayIdToHex(e.replayId),
        attempts: 1
      }))
    );
  });

  it('splits a large publish into requests of at most 200 events', async () => {
    const created = publisher();
    const outcomes = await created.publish(range(450).map((n) => event(n)));
    expect(outcomes.every((o) => o.status === 'published')).toBe(true);
    expect(standIn.events(TOPIC)).toHaveLength(450);
    expect(standIn.stats.publishRequests).toBe(3);
    expect(standIn.stats.maxPublishEvents).toBe(200);
    expect(created.stats.maxEventsInRequest).toBe(200);
  });

  it('keeps each request under 3 MB of events, and rejects an event over 1 MB without sending it', async () => {
    const big = 'x'.repeat(200 * 1024);
    const created = publisher();
    const inputs = [
      ...range(40).map((n) => event(n, big)),
      event(99, 'y'.repeat(MAX_EVENT_BYTES + 1))
    ];
    const outcomes = await created.publish(inputs);
    expect(outcomes.slice(0, 40).every((o) => o.status === 'published')).toBe(true);
    expect(outcomes[40]).toMatchObject({
      id: 'evt-99',
      status: 'rejected',
      code: 'EVENT_TOO_LARGE',
      attempts: 0
    });
    expect(standIn.stats.maxPublishBytes).toBeLessThanOrEqual(RECOMMENDED_PUBLISH_BYTES);
    expect(created.stats.maxBytesInRequest).toBeLessThanOrEqual(RECOMMENDED_PUBLISH_BYTES);
    // 40 events of 200 KB make ~7.8 MB: at least three requests of at most 3 MB.
    expect(standIn.stats.publishRequests).toBeGreaterThanOrEqual(3);
    expect(standIn.events(TOPIC).map((e) => e.id)).not.toContain('evt-99');
  });

  it('retries a request that failed with a transient gRPC error, and publishes each event once', async () => {
    standIn.failNextPublishes(2, grpc.status.UNAVAILABLE);
    const created = publisher();
    const outcomes = await created.publish(range(5).map((n) => event(n)));
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('published'));
    expect(outcomes[0]!.attempts).toBe(3);
    expect(standIn.events(TOPIC).map((e) => e.id)).toEqual(range(5).map((n) => `evt-${n}`));
    expect(created.stats.retries).toBe(10);
    expect(notes.filter((n) => n.kind === 'retry')).toHaveLength(2);
  });

  it('reports events as failed, with the gRPC code, when the transient failures outlast the attempts', async () => {
    standIn.failNextPublishes(100, grpc.status.UNAVAILABLE);
    const outcomes = await publisher({ maxAttempts: 3 }).publish([event(1), event(2)]);
    expect(outcomes).toEqual([
      expect.objectContaining({ id: 'evt-1', status: 'failed', code: 'UNAVAILABLE', attempts: 3 }),
      expect.objectContaining({ id: 'evt-2', status: 'failed', code: 'UNAVAILABLE', attempts: 3 })
    ]);
    expect(standIn.events(TOPIC)).toHaveLength(0);
    expect(notes.filter((n) => n.kind === 'failed')).toHaveLength(2);
  });

  it('reports an event Salesforce rejects with COMMIT at once, and publishes the rest', async () => {
    standIn.rejectNextEvents(1, { code: 'COMMIT', msg: 'commit failed for good' });
    const outcomes = await publisher().publish(range(3).map((n) => event(n)));
    expect(outcomes[0]).toEqual({
      id: 'evt-1',
      status: 'rejected',
      code: 'COMMIT',
      message: 'commit failed for good',
      attempts: 1
    });
    expect(outcomes.slice(1).map((o) => o.status)).toEqual(['published', 'published']);
    expect(standIn.events(TOPIC).map((e) => e.id)).toEqual(['evt-2', 'evt-3']);
    expect(notes).toContainEqual(
      expect.objectContaining({ kind: 'rejected', id: 'evt-1', code: 'COMMIT' })
    );
  });

  it('sends a PUBLISH-rejected event again, and reports it rejected when it keeps being refused', async () => {
    standIn.rejectNextEvents(1, { code: 'PUBLISH', msg: 'try again' });
    const first = await publisher().publish([event(1)]);
    expect(first[0]).toMatchObject({ status: 'published', attempts: 2 });

    standIn.rejectNextEvents(10, { code: 'PUBLISH', msg: 'still no' });
    const second = await publisher({ maxAttempts: 2 }).publish([event(2)]);
    expect(second[0]).toEqual({
      id: 'evt-2',
      status: 'rejected',
      code: 'PUBLISH',
      message: 'still no',
      attempts: 2
    });
  });

  it('refreshes an expired session and publishes', async () => {
    const created = publisher();
    await created.publish([event(1)]);
    standIn.expireToken(auth.token);
    // A new publisher opens its stream (or call) with the expired token.
    const outcomes = await publisher().publish([event(2)]);
    expect(outcomes[0]).toMatchObject({ status: 'published' });
    expect(auth.refreshes).toBe(1);
    expect(standIn.events(TOPIC).map((e) => e.id)).toEqual(['evt-1', 'evt-2']);
  });

  it('fails loudly when the topic cannot be published to', async () => {
    await standIn.close();
    standIn = await startPubSubStandIn({
      topics: [{ topicName: TOPIC, schema: SCHEMA, canPublish: false }],
      acceptedTokens: []
    });
    auth = new MintingAuth(standIn);
    connection.close();
    connection = new PubSubConnection({
      endpoint: standIn.endpoint,
      caPem: Buffer.from(standIn.caPem),
      auth
    });
    await expect(publisher().publish([event(1)])).rejects.toThrow(/cannot publish/);
  });
});

describe('PubSubPublisher over PublishStream', () => {
  it('pipelines requests on one stream and opens a new one after the server drops it', async () => {
    const standIn = await startPubSubStandIn({
      topics: [{ topicName: TOPIC, schema: SCHEMA }],
      acceptedTokens: []
    });
    const auth = new MintingAuth(standIn);
    const connection = new PubSubConnection({
      endpoint: standIn.endpoint,
      caPem: Buffer.from(standIn.caPem),
      auth
    });
    const publisher = new PubSubPublisher({
      connection,
      topic: TOPIC,
      maxEventsPerRequest: 10,
      initialBackoffMs: 5
    });
    try {
      await publisher.publish(range(100).map((n) => event(n)));
      expect(standIn.stats.publishRequests).toBe(10);
      expect(standIn.stats.publishStreams).toBe(1);
      // A failure on a stream ends it (as Salesforce does); the retry goes out on a new stream.
      standIn.failNextPublishes(1);
      const outcomes = await publisher.publish(range(5, 101).map((n) => event(n)));
      expect(outcomes.every((o) => o.status === 'published')).toBe(true);
      expect(standIn.stats.publishStreams).toBe(2);
      expect(publisher.stats.streamsOpened).toBe(2);
      expect(standIn.events(TOPIC)).toHaveLength(105);
    } finally {
      publisher.close();
      connection.close();
      await standIn.close();
    }
  });
});

describe('planBatches', () => {
  const sized = (bytes: number[]) => bytes.map((wireBytes, i) => ({ i, wireBytes }));

  it('cuts on the event count and on the byte budget, keeping order', () => {
    expect(planBatches(sized([1, 1, 1, 1, 1]), 2, 100).map((b) => b.map((e) => e.i))).toEqual([
      [0, 1],
      [2, 3],
      [4]
    ]);
    expect(
      planBatches(sized([40, 40, 40, 10, 90]), 200, 100).map((b) => b.map((e) => e.i))
    ).toEqual([[0, 1], [2, 3], [4]]);
    expect(planBatches([], 200, 100)).toEqual([]);
  });

  it('never makes a request over the budget from events within it', () => {
    const events = sized(Array.from({ length: 500 }, (_, i) => 1 + ((i * 7919) % 97)));
    for (const batch of planBatches(events, 200, 300)) {
      expect(batch.length).toBeLessThanOrEqual(200);
      expect(batch.reduce((sum, e) => sum + e.wireBytes, 0)).toBeLessThanOrEqual(300);
    }
  });
});
