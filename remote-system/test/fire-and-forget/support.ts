import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, seedDatabase } from '../../src/db';
import { MintingAuth } from '../stand-ins/minting-auth';
import {
  startPubSubStandIn,
  type AvroRecordSchema,
  type PubSubStandIn,
  type PubSubStandInOptions
} from '../stand-ins/pubsub-server';
import { SMALL_SEED, tempDir } from '../support';

/** The contract static resource both halves read. */
export const CONTRACT_PATH = path.resolve(
  __dirname,
  '../../../force-app/main/fire-and-forget/staticresources/FireAndForgetContract.json'
);

export interface Contract {
  event: {
    apiName: string;
    topic: string;
    publishBehavior: string;
    fields: Record<string, string>;
  };
  avroSchema: AvroRecordSchema;
  examples: Record<string, Record<string, unknown>>;
  writeBack: {
    object: string;
    api: string;
    fields: Record<string, string>;
    statusValues: Record<string, string>;
    example: { allOrNone: boolean; records: Record<string, unknown>[] };
  };
}

export function readContract(): Contract {
  return JSON.parse(fs.readFileSync(CONTRACT_PATH, 'utf8')) as Contract;
}

export const TOPIC = '/event/Opportunity_Closed_Won__e';

export interface PubSubFixture {
  readonly standIn: PubSubStandIn;
  readonly auth: MintingAuth;
  readonly caFile: string;
  readonly dir: string;
  readonly db: Database.Database;
  readonly dbPath: string;
  close(): Promise<void>;
}

/** A stand-in serving the contract's event, a test auth, the CA written to a file, and a seeded database. */
export async function startPubSubFixture(
  options: Partial<PubSubStandInOptions> = {}
): Promise<PubSubFixture> {
  const contract = readContract();
  const standIn = await startPubSubStandIn({
    topics: [{ topicName: TOPIC, schema: contract.avroSchema }],
    acceptedTokens: [],
    ...options
  });
  const auth = new MintingAuth(standIn);
  const { dir, cleanup } = tempDir('faf-test-');
  const caFile = path.join(dir, 'pubsub-ca.pem');
  fs.writeFileSync(caFile, standIn.caPem);
  const dbPath = path.join(dir, 'erp.sqlite');
  const db = openDatabase(dbPath);
  seedDatabase(db, SMALL_SEED);
  return {
    standIn,
    auth,
    caFile,
    dir,
    db,
    dbPath,
    async close() {
      await standIn.close();
      db.close();
      cleanup();
    }
  };
}

/** A valid closed-won payload for customer `customer` (an existing seeded customer by default). */
export function closedWon(
  n: number,
  overrides: Record<string, unknown> = {}
): Record<string, unknown> {
  const base = readContract().examples.closedWon!;
  return {
    ...base,
    Opportunity_Id__c: `006${String(n).padStart(12, '0')}AAA`,
    Correlation_Id__c: `corr-${n}`,
    Amount__c: 100 + n,
    ...overrides
  };
}
