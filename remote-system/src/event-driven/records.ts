import type { SalesforceAuth, SalesforceSession } from '../salesforce/auth';
import { RECORD_FIELDS, REST_TO_EVENT_FIELD } from './contract';

/** An Account as the REST API returns it now, keyed by change event field names (`BillingAddress.City`). */
export type AccountSnapshot = Readonly<Record<string, unknown>>;

export interface AccountReaderOptions {
  readonly auth: SalesforceAuth;
  readonly fetch?: typeof fetch;
}

/**
 * Re-reads Accounts through the REST API (`GET /services/data/vXX.X/sobjects/Account/{id}?fields=…`, sObject Rows),
 * which is what a gap event asks for: it says a record changed without saying how. A 401 refreshes the session once;
 * a 404 means the record is gone (deleted since); anything else throws, so the consumer retries, backs off and
 * finally dead-letters the event.
 */
export class AccountReader {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: AccountReaderOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The record now, or null when it no longer exists. */
  async read(accountId: string, signal?: AbortSignal): Promise<AccountSnapshot | null> {
    if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(accountId)) {
      throw new Error(`"${accountId}" is not a record id`);
    }
    const once = (session: SalesforceSession) =>
      this.fetchImpl(
        `${session.instanceUrl}/services/data/v${session.apiVersion}/sobjects/Account/${accountId}?fields=${RECORD_FIELDS.join(',')}`,
        {
          headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' },
          ...(signal ? { signal } : {})
        }
      );
    const session = await this.options.auth.session();
    let response = await once(session);
    if (response.status === 401) response = await once(await this.options.auth.refresh(session));
    if (response.status === 404) return null;
    if (!response.ok) {
      const text = await response.text();
      throw new Error(
        `Reading Account ${accountId} failed: HTTP ${response.status} ${text.slice(0, 200)}`
      );
    }
    const body = (await response.json()) as Record<string, unknown>;
    const snapshot: Record<string, unknown> = {};
    for (const field of RECORD_FIELDS) {
      snapshot[REST_TO_EVENT_FIELD[field] ?? field] = body[field] ?? null;
    }
    return snapshot;
  }
}
