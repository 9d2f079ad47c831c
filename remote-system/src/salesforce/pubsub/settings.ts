import fs from 'node:fs';
import { DEFAULT_PUBSUB_ENDPOINT } from './connection';

/** Where the Pub/Sub API is, from the shared `SF_PUBSUB_*` settings (see `.env.example`). */
export interface PubSubSettings {
  /** `host:port`; `SF_PUBSUB_ENDPOINT`, default Salesforce's `api.pubsub.salesforce.com:7443`. */
  readonly endpoint: string;
  /** PEM of an extra CA to trust (a local stand-in's certificate); `SF_PUBSUB_CA_FILE`. */
  readonly caPem?: Buffer;
  readonly caFile?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads `SF_PUBSUB_ENDPOINT` and `SF_PUBSUB_CA_FILE`, pushing one message per bad value onto `problems` (the caller
 * throws them together, naming each variable).
 */
export function readPubSubSettings(env: Env, problems: string[]): PubSubSettings {
  const endpoint = env.SF_PUBSUB_ENDPOINT?.trim() || DEFAULT_PUBSUB_ENDPOINT;
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(endpoint)) {
    problems.push(
      `SF_PUBSUB_ENDPOINT must be host:port (for example ${DEFAULT_PUBSUB_ENDPOINT}), got "${endpoint}"`
    );
  }
  const caFile = env.SF_PUBSUB_CA_FILE?.trim() || undefined;
  if (caFile === undefined) return { endpoint };
  try {
    const caPem = fs.readFileSync(caFile);
    if (!caPem.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) {
      problems.push(`SF_PUBSUB_CA_FILE must be a PEM certificate file, "${caFile}" is not`);
      return { endpoint };
    }
    return { endpoint, caPem, caFile };
  } catch (error) {
    problems.push(`SF_PUBSUB_CA_FILE cannot be read: ${(error as Error).message}`);
    return { endpoint };
  }
}
