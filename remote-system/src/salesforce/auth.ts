import { execFile } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { SignJWT } from 'jose';
import { parseSfOrgDisplay, type SalesforceConnectionConfig } from '../config';

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

/** Why no session could be had: a refused grant, an unreachable token endpoint, a fixed token that expired. */
export class SalesforceAuthError extends Error {
  constructor(
    message: string,
    /** The OAuth `error` code (`invalid_grant`, `invalid_client`, …) when the token endpoint sent one. */
    readonly oauthError?: string,
    /** HTTP status of the token endpoint's answer, when there was one. */
    readonly status?: number
  ) {
    super(message);
    this.name = 'SalesforceAuthError';
  }
}

/** What {@link createSalesforceAuth} can be given besides the configuration (tests and tools replace these). */
export interface SalesforceAuthOptions {
  /** HTTP client for the token endpoint; the global `fetch` by default. */
  readonly fetch?: typeof fetch;
  /** Runs `sf org display --json --target-org <org>` and resolves with what it printed (stdout). */
  readonly runSfOrgDisplay?: (targetOrg: string) => Promise<string>;
  /** Milliseconds to wait for the token endpoint (default 30 000). */
  readonly tokenTimeoutMs?: number;
  /** Clock for the JWT `exp` claim, in milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * The {@link SalesforceAuth} for the configured `SF_*` mode:
 *
 * | mode | session | refresh |
 * | --- | --- | --- |
 * | `token` | `SF_INSTANCE_URL` + `SF_ACCESS_TOKEN` as given | throws: a fixed token cannot be renewed |
 * | `sf-cli` | `sf org display --json --target-org SF_TARGET_ORG` | runs it again (the CLI renews its own token) |
 * | `jwt` | JWT bearer grant, RS256 JWT signed with `SF_PRIVATE_KEY_FILE` | a new grant |
 * | `client-credentials` | client-credentials grant at the My Domain `SF_LOGIN_URL` | a new grant |
 *
 * Sessions are cached; concurrent callers share one token request. Throws {@link SalesforceAuthError} for mode
 * `none`, so a pattern that needs the org says which settings are missing.
 */
export function createSalesforceAuth(
  config: SalesforceConnectionConfig,
  options: SalesforceAuthOptions = {}
): SalesforceAuth {
  switch (config.mode) {
    case 'none':
      throw new SalesforceAuthError(
        'no Salesforce connection configured: set SF_INSTANCE_URL + SF_ACCESS_TOKEN, SF_TARGET_ORG, or SF_CLIENT_ID ' +
          'with SF_PRIVATE_KEY_FILE + SF_USERNAME (JWT bearer) or SF_CLIENT_SECRET (client credentials)'
      );
    case 'token':
      return new FixedTokenAuth({
        instanceUrl: config.instanceUrl,
        accessToken: config.accessToken,
        apiVersion: config.apiVersion,
        ...orgIdOfToken(config.accessToken)
      });
    case 'sf-cli': {
      const run = options.runSfOrgDisplay ?? runSfOrgDisplay;
      return new CachingAuth(async () => {
        const display = parseSfOrgDisplay(await run(config.targetOrg));
        return {
          instanceUrl: display.instanceUrl,
          accessToken: display.accessToken,
          apiVersion: config.apiVersion,
          ...orgIdOfToken(display.accessToken)
        };
      });
    }
    case 'jwt': {
      const now = options.now ?? Date.now;
      let key: KeyObject | undefined;
      return new CachingAuth(async () => {
        key ??= readPrivateKey(config.privateKeyFile);
        const issuedAt = Math.floor(now() / 1000);
        // Salesforce accepts an `exp` at most 3 minutes ahead; the assertion is used once, right away.
        const assertion = await new SignJWT({})
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer(config.clientId)
          .setSubject(config.username)
          .setAudience(config.audience)
          .setExpirationTime(issuedAt + 180)
          .sign(key);
        return requestToken(
          config.loginUrl,
          { grant_type: JWT_BEARER_GRANT, assertion },
          config.apiVersion,
          options
        );
      });
    }
    case 'client-credentials':
      return new CachingAuth(() =>
        requestToken(
          config.loginUrl,
          {
            grant_type: 'client_credentials',
            client_id: config.clientId,
            client_secret: config.clientSecret
          },
          config.apiVersion,
          options
        )
      );
  }
}

/** The OAuth 2.0 grant type of the JWT bearer flow (RFC 7523). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Caches one session and de-duplicates token requests: every caller that arrives while a request is in flight gets
 * the same promise, and a `refresh` for a token that has already been replaced returns the replacement instead of
 * asking again (ten parallel calls that all got a 401 cause one token request, not ten).
 */
class CachingAuth implements SalesforceAuth {
  private current: SalesforceSession | undefined;
  private pending: Promise<SalesforceSession> | undefined;

  constructor(private readonly obtain: () => Promise<SalesforceSession>) {}

  session(): Promise<SalesforceSession> {
    if (this.pending !== undefined) return this.pending;
    if (this.current !== undefined) return Promise.resolve(this.current);
    return this.load();
  }

  refresh(rejected: SalesforceSession): Promise<SalesforceSession> {
    if (this.pending !== undefined) return this.pending;
    if (this.current !== undefined && this.current.accessToken !== rejected.accessToken) {
      return Promise.resolve(this.current);
    }
    return this.load();
  }

  private load(): Promise<SalesforceSession> {
    const pending = this.obtain().then(
      (session) => {
        this.current = session;
        this.pending = undefined;
        return session;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      }
    );
    this.pending = pending;
    return pending;
  }
}

/** `token` mode: the session never changes, and a rejected token is the end of the road. */
class FixedTokenAuth implements SalesforceAuth {
  constructor(private readonly fixed: SalesforceSession) {}

  session(): Promise<SalesforceSession> {
    return Promise.resolve(this.fixed);
  }

  refresh(): Promise<SalesforceSession> {
    return Promise.reject(
      new SalesforceAuthError(
        'the org rejected SF_ACCESS_TOKEN and a fixed token cannot be refreshed: put a fresh one in SF_ACCESS_TOKEN ' +
          '(sf org display --json), or use SF_TARGET_ORG or OAuth (SF_CLIENT_ID) so the token renews itself'
      )
    );
  }
}

/** Salesforce access tokens start with the 15-character org id followed by `!`. */
function orgIdOfToken(accessToken: string): { orgId?: string } {
  const match = /^(00D[A-Za-z0-9]{12})!/.exec(accessToken);
  return match === null ? {} : { orgId: match[1] };
}

function readPrivateKey(file: string): KeyObject {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new SalesforceAuthError(
      `cannot read SF_PRIVATE_KEY_FILE ${file}: ${(error as Error).message}`
    );
  }
  try {
    // createPrivateKey reads both PKCS#8 ("BEGIN PRIVATE KEY") and PKCS#1 ("BEGIN RSA PRIVATE KEY") PEM files.
    return createPrivateKey(pem);
  } catch (error) {
    throw new SalesforceAuthError(
      `SF_PRIVATE_KEY_FILE ${file} is not a PEM private key: ${(error as Error).message}`
    );
  }
}

/** The fields of a Salesforce token endpoint answer this module reads. */
interface TokenResponse {
  readonly access_token?: unknown;
  readonly instance_url?: unknown;
  readonly id?: unknown;
  readonly error?: unknown;
  readonly error_description?: unknown;
}

/** POSTs a grant to `<loginUrl>/services/oauth2/token` (form-encoded) and turns the answer into a session. */
async function requestToken(
  loginUrl: string,
  grant: Record<string, string>,
  apiVersion: string,
  options: SalesforceAuthOptions
): Promise<SalesforceSession> {
  const doFetch = options.fetch ?? fetch;
  const endpoint = `${loginUrl.replace(/\/+$/, '')}/services/oauth2/token`;
  let response: Response;
  try {
    response = await doFetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(grant).toString(),
      signal: AbortSignal.timeout(options.tokenTimeoutMs ?? 30_000)
    });
  } catch (error) {
    throw new SalesforceAuthError(
      `token endpoint ${endpoint} unreachable: ${(error as Error).message}`
    );
  }
  const text = await response.text();
  let body: TokenResponse = {};
  try {
    body = JSON.parse(text) as TokenResponse;
  } catch {
    // handled below: a non-JSON answer is an error whatever its status
  }
  if (!response.ok || typeof body.access_token !== 'string') {
    const code = typeof body.error === 'string' ? body.error : undefined;
    const description =
      typeof body.error_description === 'string' ? body.error_description : text.slice(0, 200);
    throw new SalesforceAuthError(
      `token endpoint ${endpoint} refused the ${grant.grant_type} grant (HTTP ${response.status}` +
        `${code === undefined ? '' : `, ${code}`}): ${description}`,
      code,
      response.status
    );
  }
  if (typeof body.instance_url !== 'string') {
    throw new SalesforceAuthError(`token endpoint ${endpoint} answered without instance_url`);
  }
  // The identity URL is https://<host>/id/<orgId>/<userId>.
  const orgId =
    typeof body.id === 'string' ? /\/id\/(00D[A-Za-z0-9]{12,15})\//.exec(body.id)?.[1] : undefined;
  return {
    instanceUrl: body.instance_url.replace(/\/+$/, ''),
    accessToken: body.access_token,
    apiVersion,
    ...(orgId === undefined ? {} : { orgId })
  };
}

/** Runs the `sf` CLI (from PATH; `npm run` puts the project's pinned CLI there) and returns its JSON output. */
function runSfOrgDisplay(targetOrg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'sf',
      ['org', 'display', '--json', '--target-org', targetOrg],
      {
        env: {
          ...process.env,
          SF_DISABLE_TELEMETRY: 'true',
          SF_AUTOUPDATE_DISABLE: 'true',
          SF_SKIP_NEW_VERSION_CHECK: 'true'
        },
        timeout: 60_000,
        maxBuffer: 1024 * 1024
      },
      (error, stdout) => {
        // The CLI prints its JSON error (status 1, message) on stdout and exits non-zero: let the parser report it.
        if (error !== null && stdout.trim() === '') {
          const reason =
            (error as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'the sf CLI is not on PATH (run through npm, or install @salesforce/cli)'
              : error.message;
          reject(
            new SalesforceAuthError(`sf org display --target-org ${targetOrg} failed: ${reason}`)
          );
          return;
        }
        resolve(stdout);
      }
    );
  });
}
