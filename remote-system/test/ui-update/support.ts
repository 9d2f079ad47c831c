import fs from 'node:fs';
import path from 'node:path';
import type { SalesforceAuth, SalesforceSession } from '../../src/salesforce/auth';
import { loadUiUpdateConfig, type UiUpdateConfig } from '../../src/ui-update/config';
import {
  startPubSubStandIn,
  type AvroRecordSchema,
  type PubSubStandIn
} from '../stand-ins/pubsub-server';
import { tempDir } from '../support';

/** The contract static resource both halves read. */
export const CONTRACT_PATH = path.resolve(
  __dirname,
  '../../../force-app/main/ui-update/staticresources/UiUpdateContract.json'
);

export interface Contract {
  event: { apiName: string; topic: string; fields: Record<string, string>; statusValues: string[] };
  avroSchema: AvroRecordSchema;
  examples: {
    inTransit: Record<string, unknown>;
    empApiMessage: { channel: string; data: { payload: Record<string, unknown> } };
    accountChangeMessage: { channel: string; data: { payload: Record<string, unknown> } };
  };
  changeEvents: {
    channel: string;
    eventChannel: string;
    selectedEntity: string;
    channelMember: string;
    customerNumberField: string;
  };
  publishLimits: { maxEventsPerRequest: number; maxBytesPerRequest: number; maxEventBytes: number };
}

export function readContract(): Contract {
  return JSON.parse(fs.readFileSync(CONTRACT_PATH, 'utf8')) as Contract;
}

/** Hands out `token-1`; `refresh` mints the next token and makes the stand-in accept it. */
export class TestAuth implements SalesforceAuth {
  refreshes = 0;
  private current: SalesforceSession;
  constructor(private readonly standIn: PubSubStandIn) {
    this.current = this.mint(1);
  }
  private mint(n: number): SalesforceSession {
    this.standIn.acceptToken(`token-${n}`);
    return {
      instanceUrl: 'https://stand-in.my.salesforce.com',
      accessToken: `token-${n}`,
      apiVersion: '67.0',
      orgId: this.standIn.tenantId
    };
  }
  async session(): Promise<SalesforceSession> {
    return this.current;
  }
  async refresh(rejected: SalesforceSession): Promise<SalesforceSession> {
    if (rejected.accessToken === this.current.accessToken) {
      this.refreshes += 1;
      this.current = this.mint(this.refreshes + 1);
    }
    return this.current;
  }
}

export interface ShipmentEventsFixture {
  readonly standIn: PubSubStandIn;
  readonly auth: TestAuth;
  readonly config: UiUpdateConfig;
  close(): Promise<void>;
}

/** The local Pub/Sub API serving the contract's event, its CA in a file, and the pattern's settings pointing at it. */
export async function startShipmentEvents(
  env: Record<string, string> = {}
): Promise<ShipmentEventsFixture> {
  const contract = readContract();
  const standIn = await startPubSubStandIn({
    topics: [{ topicName: contract.event.topic, schema: contract.avroSchema }],
    acceptedTokens: []
  });
  const { dir, cleanup } = tempDir('ui-update-test-');
  const caFile = path.join(dir, 'pubsub-ca.pem');
  fs.writeFileSync(caFile, standIn.caPem);
  const config = loadUiUpdateConfig({
    SF_PUBSUB_ENDPOINT: standIn.endpoint,
    SF_PUBSUB_CA_FILE: caFile,
    UI_UPDATE_MAX_ATTEMPTS: '3',
    ...env
  });
  return {
    standIn,
    auth: new TestAuth(standIn),
    config,
    async close() {
      await standIn.close();
      cleanup();
    }
  };
}
