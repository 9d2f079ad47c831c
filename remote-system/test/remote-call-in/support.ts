import { generateKeyPairSync } from 'node:crypto';
import type { SalesforceConnectionConfig } from '../../src/config';
import { OrgCaller, type CallerOptions } from '../../src/remote-call-in/caller';
import { createSalesforceAuth, type SalesforceAuth } from '../../src/salesforce';
import { startSalesforceStandIn, type SalesforceStandIn } from '../stand-ins/salesforce-rest';
import { addOrderApi, readContract, type OrderApiState } from './org-stand-in';

export const CLIENT_ID = 'call-in-client';
export const CLIENT_SECRET = 'call-in-secret';
export const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** Fast retry settings for tests; each test overrides what it measures. */
export const FAST: CallerOptions = {
  maxAttempts: 3,
  timeoutMs: 2_000,
  baseDelayMs: 5,
  maxDelayMs: 2_000
};

export interface OrgHarness {
  readonly standIn: SalesforceStandIn;
  readonly orders: OrderApiState;
  readonly auth: SalesforceAuth;
  caller(options?: Partial<CallerOptions>): OrgCaller;
  close(): Promise<void>;
}

/** A stand-in org with the order API and the contract's customers, and a client-credentials session for it. */
export async function startOrg(
  customers: readonly string[] = readContract().customers
): Promise<OrgHarness> {
  const standIn = await startSalesforceStandIn({
    clientCredentials: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    jwt: { clientId: CLIENT_ID, username: 'erp@acme.test', publicKey }
  });
  const orders = addOrderApi(standIn, customers);
  const config: SalesforceConnectionConfig = {
    mode: 'client-credentials',
    loginUrl: standIn.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiVersion: '67.0'
  };
  const auth = createSalesforceAuth(config);
  return {
    standIn,
    orders,
    auth,
    caller: (options = {}) => new OrgCaller(auth, { ...FAST, ...options }),
    close: () => standIn.close()
  };
}
