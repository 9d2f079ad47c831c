import fs from 'node:fs';
import path from 'node:path';
import { MintingAuth } from '../stand-ins/minting-auth';
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

export interface ShipmentEventsFixture {
  readonly standIn: PubSubStandIn;
  readonly auth: MintingAuth;
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
    auth: new MintingAuth(standIn),
    config,
    async close() {
      await standIn.close();
      cleanup();
    }
  };
}
