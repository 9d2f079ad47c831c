/**
 * How the ERP's half of a pattern reaches the org. Every pattern that calls Salesforce (REST, Composite, Bulk API
 * 2.0, Pub/Sub API) asks a {@link SalesforceAuth} for a session and asks again with `refresh()` after the org
 * rejected the token (HTTP 401 `INVALID_SESSION_ID`, gRPC `UNAUTHENTICATED`). Where a session comes from (a token
 * given in the environment, the `sf` CLI, the OAuth 2.0 JWT bearer or client-credentials flow) is decided once, by
 * the documented `SF_*` settings, so any server that speaks the same contract can stand in for the org.
 */
export interface SalesforceSession {
  /** `https://<my-domain>.my.salesforce.com`, without a trailing slash. */
  readonly instanceUrl: string;
  readonly accessToken: string;
  /** REST API version, for example `67.0`. */
  readonly apiVersion: string;
  /** The org id, when the auth flow reports it (the Pub/Sub API wants it as the `tenantid` header). */
  readonly orgId?: string;
}

export interface SalesforceAuth {
  /** The current session, obtained on first use and cached. */
  session(): Promise<SalesforceSession>;
  /**
   * A new session after the org rejected `rejected`. Concurrent callers that saw the same rejected token share one
   * refresh; a mode that cannot refresh (a fixed token) throws a clear error instead.
   */
  refresh(rejected: SalesforceSession): Promise<SalesforceSession>;
}
