import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, seedDatabase } from '../../src/db';
import { loadEventDrivenConfig, type EventDrivenConfig } from '../../src/event-driven/config';
import type { SalesforceAuth, SalesforceSession } from '../../src/salesforce/auth';
import { publishChanges, type ChangeSpec } from '../stand-ins/change-data-capture';
import {
  startPubSubStandIn,
  type AvroRecordSchema,
  type PubSubStandIn,
  type StandInEvent
} from '../stand-ins/pubsub-server';
import { startSalesforceStandIn, type SalesforceStandIn } from '../stand-ins/salesforce-rest';
import { SMALL_SEED, tempDir } from '../support';

/** The contract static resource both halves read. */
export const CONTRACT_PATH = path.resolve(
  __dirname,
  '../../../force-app/main/event-driven/staticresources/EventDrivenContract.json'
);

export interface Contract {
  channel: { fullName: string; channelType: string; topic: string };
  member: {
    fullName: string;
    selectedEntity: string;
    entity: string;
    enrichedFields: string[];
    filterExpression: string;
  };
  consumers: Record<string, { fields: string[] }>;
  recordRead: { path: string; fields: string[]; compoundMembers: Record<string, string> };
  marker: { object: string; fields: Record<string, string> };
  avroSchema: AvroRecordSchema;
  examples: Record<
    string,
    {
      note: string;
      payload: Record<string, unknown>;
      decoded?: { changedFields: string[]; nulledFields: string[] };
    }
  >;
}

export function readContract(): Contract {
  return JSON.parse(fs.readFileSync(CONTRACT_PATH, 'utf8')) as Contract;
}

export const TOKEN = 'event-driven-token';
export const ORG_ID = '00D000000000001AAA';

/** One fixed session that both stand-ins accept; a refresh hands back the same token. */
class FixedAuth implements SalesforceAuth {
  constructor(private readonly current: SalesforceSession) {}
  async session(): Promise<SalesforceSession> {
    return this.current;
  }
  async refresh(): Promise<SalesforceSession> {
    return this.current;
  }
}

export interface Fixture {
  readonly pubsub: PubSubStandIn;
  readonly rest: SalesforceStandIn;
  readonly auth: SalesforceAuth;
  readonly db: Database.Database;
  readonly dbPath: string;
  readonly caFile: string;
  readonly topic: string;
  readonly schema: AvroRecordSchema;
  /** Settings as `loadEventDrivenConfig` reads them, pointed at the stand-ins. */
  config(env?: Record<string, string>): EventDrivenConfig;
  publish(specs: readonly ChangeSpec[]): StandInEvent[];
  /** Puts an Account into the REST stand-in (what a gap event's re-read finds). */
  putAccount(fields: Record<string, unknown> & { Id: string }): void;
  close(): Promise<void>;
}

/** The local Pub/Sub API serving the contract's channel, the REST stand-in, and a seeded database. */
export async function startFixture(): Promise<Fixture> {
  const contract = readContract();
  const topic = contract.channel.topic;
  const pubsub = await startPubSubStandIn({
    topics: [{ topicName: topic, schema: contract.avroSchema, canPublish: false }],
    acceptedTokens: [TOKEN],
    tenantId: ORG_ID,
    keepaliveMs: 200
  });
  const rest = await startSalesforceStandIn({ staticTokens: [TOKEN] });
  const auth = new FixedAuth({
    instanceUrl: rest.url,
    accessToken: TOKEN,
    apiVersion: '67.0',
    orgId: ORG_ID
  });
  const { dir, cleanup } = tempDir('event-driven-test-');
  const caFile = path.join(dir, 'pubsub-ca.pem');
  fs.writeFileSync(caFile, pubsub.caPem);
  const dbPath = path.join(dir, 'erp.sqlite');
  const db = openDatabase(dbPath);
  seedDatabase(db, SMALL_SEED);
  return {
    pubsub,
    rest,
    auth,
    db,
    dbPath,
    caFile,
    topic,
    schema: contract.avroSchema,
    config: (env = {}) =>
      loadEventDrivenConfig({
        SF_PUBSUB_ENDPOINT: pubsub.endpoint,
        SF_PUBSUB_CA_FILE: caFile,
        EVENT_DRIVEN_BATCH_SIZE: '20',
        EVENT_DRIVEN_RETRY_BACKOFF_MS: '20',
        EVENT_DRIVEN_PREPARE_TIMEOUT_MS: '300',
        EVENT_DRIVEN_MAX_ATTEMPTS: '3',
        ...env
      }),
    publish: (specs) => publishChanges(pubsub, topic, contract.avroSchema, specs),
    putAccount(fields) {
      const store = rest.records.get('Account') ?? new Map<string, Record<string, unknown>>();
      store.set(fields.Id.toUpperCase(), fields);
      rest.records.set('Account', store);
    },
    async close() {
      await pubsub.close();
      await rest.close();
      db.close();
      cleanup();
    }
  };
}

/** An 18-character Account id for a small number. */
export const accountId = (n: number): string => `001${String(n).padStart(12, '0')}AAA`;
/** The seeded ERP customer number for a small number. */
export const customerNumber = (n: number): string => `C-${String(n).padStart(6, '0')}`;
