import fs from 'node:fs';
import path from 'node:path';

/**
 * Typed configuration of the remote system, read from environment variables (see `.env.example`).
 * Every value is validated once at start-up so a typo fails fast with a message naming the variable,
 * instead of surfacing later as a confusing runtime error.
 */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /** SQLite file, or `:memory:` (tests). */
  readonly databasePath: string;
  /** Base URL the org (or a browser) reaches this server on; printed at start-up and used for absolute links. */
  readonly publicUrl: string;
  /**
   * `PUBLIC_URL` when it was set. Links a caller follows (OData `@odata.nextLink`) use it; without it they use the
   * host the request came to, which the `http://localhost:<port>` default of `publicUrl` would get wrong behind a
   * tunnel.
   */
  readonly explicitPublicUrl?: string;
  /** Bearer secret the org's External Credential sends (`ERP_Principal` → `ApiKey`). */
  readonly sharedSecret: string;
  /** True when no `ERP_SHARED_SECRET` was set and the well-known development secret is in use. */
  readonly usingDefaultSecret: boolean;
  /**
   * `ERP_SHARED_SECRET_PREVIOUS`: the secret being rotated out, still accepted (compared in constant time, like the
   * current one) until the org's External Credential sends the new one. Only the current secret signs anything.
   */
  readonly previousSharedSecret?: string;
  /** Whether anything outside this machine can reach the server (see {@link exposureOf}). */
  readonly exposure: Exposure;
  /** Per-credential limits on pattern routes (`RATE_LIMIT_*`); `max` 0 turns rate limiting off. */
  readonly rateLimit: RateLimitConfig;
  /** Shipments generated when `npm start` creates the database. */
  readonly seedShipments: number;
  readonly logLevel: LogLevel;
  /** Maximum request body size in bytes; larger bodies get a 413. */
  readonly bodyLimitBytes: number;
  /**
   * `local` (default): the console answers only browsers on this machine that asked for a loopback host name, and
   * nothing that came through a proxy or tunnel; `open`: anyone who reaches the server (set explicitly).
   */
  readonly consoleAccess: 'open' | 'local';
  readonly salesforce: SalesforceConnectionConfig;
  /**
   * The variables this configuration was read from. `patternModules(config)` hands them to each pattern's own
   * `load<Pascal>Config(env)` (built with {@link EnvReader}), so pattern settings come from the same source, `.env`
   * included, and are validated at start-up too.
   */
  readonly env: Env;
}

/** Reachability of the server from outside this machine, with the settings that make it so. */
export interface Exposure {
  readonly exposed: boolean;
  /** For example `HOST=0.0.0.0`, `PUBLIC_URL=https://my-tunnel.example.com`; empty on loopback. */
  readonly reasons: readonly string[];
}

export interface RateLimitConfig {
  /** Requests per window for each credential (the current secret, the previous one); 0 = no rate limiting. */
  readonly max: number;
  /** Requests per window for each client address without a valid credential (so 401s are limited too). */
  readonly anonymousMax: number;
  readonly windowSeconds: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * How patterns that call the org (fire-and-forget call-back, ui-update publisher, batch-sync loader) reach it.
 * Only parsed here; the patterns that call the org consume it.
 */
export type SalesforceConnectionConfig =
  | { readonly mode: 'none' }
  /** An access token and instance URL given directly (for example from `sf org display --json`). */
  | {
      readonly mode: 'token';
      readonly instanceUrl: string;
      readonly accessToken: string;
      readonly apiVersion: string;
    }
  /** Read the token of an org the `sf` CLI is authorised to, at the moment it is needed. */
  | { readonly mode: 'sf-cli'; readonly targetOrg: string; readonly apiVersion: string }
  /**
   * OAuth 2.0 JWT bearer flow: a JWT signed with the private key whose certificate the org's External Client App
   * holds, exchanged at `<loginUrl>/services/oauth2/token` for a token of `username`.
   */
  | {
      readonly mode: 'jwt';
      readonly loginUrl: string;
      /** The JWT `aud` claim: the login URL unless `SF_JWT_AUDIENCE` says otherwise. */
      readonly audience: string;
      readonly clientId: string;
      readonly username: string;
      readonly privateKeyFile: string;
      readonly apiVersion: string;
    }
  /**
   * OAuth 2.0 client-credentials flow: the External Client App's consumer key and secret, exchanged at the org's
   * My Domain token endpoint for a token of the app's configured run-as user.
   */
  | {
      readonly mode: 'client-credentials';
      readonly loginUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly apiVersion: string;
    };

/** Development-only secret used when `ERP_SHARED_SECRET` is not set; start-up prints a warning. */
export const DEFAULT_DEV_SECRET = 'local-dev-secret-change-me';

export const DEFAULT_DATABASE_PATH = path.resolve(__dirname, '..', 'data', 'erp.sqlite');

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent'
];

/** Thrown when one or more environment variables hold invalid values; `problems` lists each of them. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Environment variables as read: `process.env`, or a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Small readers for environment variables, shared by `loadConfig` and by each pattern's own
 * `remote-system/src/<id>/config.ts`. Each reader returns the fallback when the variable is unset or blank, and
 * on a bad value records a problem naming the variable (and still returns the fallback), so one start-up reports
 * every bad variable at once; {@link EnvReader.throwIfInvalid} then throws a {@link ConfigError} listing them.
 *
 * ```ts
 * export function loadOrderSyncConfig(env: Env): OrderSyncConfig {
 *   const reader = new EnvReader(env);
 *   const config = {
 *     batchSize: reader.integer('ORDER_SYNC_BATCH_SIZE', 200, 1, 10_000),
 *     callbackUrl: reader.url('ORDER_SYNC_CALLBACK_URL'),
 *     mode: reader.oneOf('ORDER_SYNC_MODE', ['push', 'pull'] as const, 'push')
 *   };
 *   reader.throwIfInvalid();
 *   return config;
 * }
 * ```
 */
export class EnvReader {
  /** Every problem found so far, one sentence each, starting with the variable's name. */
  readonly problems: string[] = [];

  constructor(private readonly env: Env = process.env) {}

  /** The trimmed value, or undefined when the variable is unset or blank. */
  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** A whole number from `min` to `max` (decimal digits only: no sign, no exponent). */
  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) {
      this.problems.push(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      this.problems.push(`${name} must be between ${min} and ${max}, got ${raw}`);
      return fallback;
    }
    return value;
  }

  /** An absolute http(s) URL without trailing slashes. */
  url(name: string): string | undefined;
  url(name: string, fallback: string): string;
  url(name: string, fallback: string | undefined): string | undefined;
  url(name: string, fallback?: string): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        this.problems.push(`${name} must be an http(s) URL, got "${raw}"`);
        return fallback;
      }
      return raw.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name} must be an absolute URL, got "${raw}"`);
      return fallback;
    }
  }

  /** One of `values`, compared case-insensitively (the value returned is the listed spelling). */
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const match = values.find((value) => value.toLowerCase() === raw.toLowerCase());
    if (match !== undefined) return match;
    this.problems.push(
      `${name} must be one of ${values.map((v) => `"${v}"`).join(', ')}, got "${raw}"`
    );
    return fallback;
  }

  /** `true`/`false` (also `1`/`0`, `yes`/`no`), case-insensitive. */
  boolean(name: string, fallback: boolean): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1' || raw === 'yes') return true;
    if (raw === 'false' || raw === '0' || raw === 'no') return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  /** Throws a {@link ConfigError} listing every problem recorded, if any. */
  throwIfInvalid(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

/** Reads and validates the configuration; throws {@link ConfigError} listing every bad variable at once. */
export function loadConfig(env: Env = process.env): AppConfig {
  const reader = new EnvReader(env);
  const problems = reader.problems;
  const read = (name: string): string | undefined => reader.string(name);
  const integer = (name: string, fallback: number, min: number, max: number): number =>
    reader.integer(name, fallback, min, max);
  const url = (name: string, fallback: string | undefined): string | undefined =>
    reader.url(name, fallback);

  const port = integer('PORT', 3000, 0, 65535);
  // Loopback by default: with the development secret, listening on every interface would expose the ERP to the
  // local network. Tunnels connect to localhost; containers set HOST=0.0.0.0.
  const host = read('HOST') ?? 'localhost';
  const databasePath = read('DATABASE_PATH') ?? DEFAULT_DATABASE_PATH;
  const explicitPublicUrl = url('PUBLIC_URL', undefined);
  const publicUrl = explicitPublicUrl ?? `http://localhost:${port}`;

  const secret = read('ERP_SHARED_SECRET');
  if (secret !== undefined && secret.length < 16) {
    problems.push('ERP_SHARED_SECRET must be at least 16 characters long');
  }
  const previousSecret = read('ERP_SHARED_SECRET_PREVIOUS');
  if (previousSecret !== undefined) {
    if (secret === undefined) {
      problems.push(
        'ERP_SHARED_SECRET_PREVIOUS is only for a rotation: set the new secret in ERP_SHARED_SECRET too'
      );
    } else if (previousSecret === secret) {
      problems.push('ERP_SHARED_SECRET_PREVIOUS must differ from ERP_SHARED_SECRET');
    }
    if (previousSecret.length < 16) {
      problems.push('ERP_SHARED_SECRET_PREVIOUS must be at least 16 characters long');
    }
  }
  const rateLimit: RateLimitConfig = {
    max: integer('RATE_LIMIT_MAX', 6_000, 0, 1_000_000),
    anonymousMax: integer('RATE_LIMIT_ANONYMOUS_MAX', 60, 1, 1_000_000),
    windowSeconds: integer('RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400)
  };

  const seedShipments = integer('SEED_SHIPMENTS', 100_000, 0, 100_000_000);
  const bodyLimitBytes = integer('BODY_LIMIT_BYTES', 1_048_576, 1_024, 104_857_600);

  const logLevelRaw = (read('LOG_LEVEL') ?? 'info').toLowerCase();
  let logLevel: LogLevel = 'info';
  if ((LOG_LEVELS as readonly string[]).includes(logLevelRaw)) {
    logLevel = logLevelRaw as LogLevel;
  } else {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevelRaw}"`);
  }

  // Local by default, exposed or not: a tunnel to localhost is invisible in HOST and PUBLIC_URL, so only the request
  // itself (proxy headers, Host) can tell, and the console must not answer it unless someone chose `open`.
  const consoleRaw = (read('CONSOLE_ACCESS') ?? 'local').toLowerCase();
  let consoleAccess: 'open' | 'local' = 'local';
  if (consoleRaw === 'open' || consoleRaw === 'local') {
    consoleAccess = consoleRaw;
  } else {
    problems.push(`CONSOLE_ACCESS must be "open" or "local", got "${consoleRaw}"`);
  }

  const salesforce = parseSalesforceConfig(read, url, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    databasePath,
    publicUrl,
    ...(explicitPublicUrl === undefined ? {} : { explicitPublicUrl }),
    sharedSecret: secret ?? DEFAULT_DEV_SECRET,
    usingDefaultSecret: secret === undefined,
    ...(previousSecret === undefined ? {} : { previousSharedSecret: previousSecret }),
    exposure: exposureOf(host, explicitPublicUrl),
    rateLimit,
    seedShipments,
    logLevel,
    bodyLimitBytes,
    consoleAccess,
    salesforce,
    env
  };
}

/**
 * True for names and addresses that only this machine can reach: `localhost` (and `*.localhost`), 127.0.0.0/8,
 * `::1` (with or without brackets) and IPv4-mapped 127.x. `0.0.0.0`, `::`, a LAN address or any other name is not.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    /^127(?:\.\d{1,3}){3}$/.test(name) ||
    name === '::1' ||
    name === '0:0:0:0:0:0:0:1' ||
    /^::ffff:127(?:\.\d{1,3}){3}$/.test(name)
  );
}

/**
 * Whether the server can be reached from outside this machine: it listens on a non-loopback `HOST`, or `PUBLIC_URL`
 * names a non-loopback host (a tunnel or a proxy forwards to it even though it listens on localhost).
 */
export function exposureOf(host: string, publicUrl: string | undefined): Exposure {
  const reasons: string[] = [];
  if (!isLoopbackHost(host)) reasons.push(`HOST=${host}`);
  if (publicUrl !== undefined && !isLoopbackHost(new URL(publicUrl).hostname)) {
    reasons.push(`PUBLIC_URL=${publicUrl}`);
  }
  return { exposed: reasons.length > 0, reasons };
}

/**
 * Refuses to serve with the development secret (published in this repository) when the server is reachable from
 * outside: throws a {@link ConfigError} with one message naming `ERP_SHARED_SECRET` and how to generate one. On
 * loopback only (`HOST` localhost, no public `PUBLIC_URL`) the development secret stays allowed, with a warning.
 * `main.ts` calls it before touching the database; `buildServer` calls it again for every other way in.
 */
export function assertSafeExposure(
  config: Pick<
    AppConfig,
    'exposure' | 'sharedSecret' | 'previousSharedSecret' | 'usingDefaultSecret'
  >
): void {
  if (!config.exposure.exposed) return;
  const devSecret =
    config.usingDefaultSecret ||
    config.sharedSecret === DEFAULT_DEV_SECRET ||
    config.previousSharedSecret === DEFAULT_DEV_SECRET;
  if (!devSecret) return;
  throw new ConfigError([
    `ERP_SHARED_SECRET must be set to a secret of your own: the server is reachable from outside ` +
      `(${config.exposure.reasons.join(', ')}) and the development secret is published in the repository, so ` +
      `anyone could call every pattern route. Generate one with \`openssl rand -hex 32\` (or \`node -e ` +
      `"console.log(require('node:crypto').randomBytes(32).toString('hex'))"\`), set ERP_SHARED_SECRET to it, and ` +
      `put the same value in the org (External Credential ERP_Credential, principal ERP_Principal, parameter ` +
      `ApiKey). The development secret is accepted only on loopback (HOST=localhost, no public PUBLIC_URL).`
  ]);
}

function parseSalesforceConfig(
  read: (name: string) => string | undefined,
  url: (name: string, fallback: string | undefined) => string | undefined,
  problems: string[]
): SalesforceConnectionConfig {
  const apiVersion = read('SF_API_VERSION') ?? '67.0';
  if (!/^\d{2,3}\.0$/.test(apiVersion)) {
    problems.push(`SF_API_VERSION must look like "67.0", got "${apiVersion}"`);
  }
  const instanceUrl = url('SF_INSTANCE_URL', undefined);
  const accessToken = read('SF_ACCESS_TOKEN');
  const targetOrg = read('SF_TARGET_ORG');

  const oauth = parseSalesforceOAuth(read, url, problems, apiVersion);
  if (oauth !== undefined) {
    if (instanceUrl !== undefined || accessToken !== undefined || targetOrg !== undefined) {
      problems.push(
        'set one Salesforce connection: SF_CLIENT_ID (OAuth), SF_TARGET_ORG, or SF_INSTANCE_URL + SF_ACCESS_TOKEN'
      );
    }
    return oauth;
  }

  if (instanceUrl !== undefined || accessToken !== undefined) {
    if (instanceUrl === undefined || accessToken === undefined) {
      problems.push('SF_INSTANCE_URL and SF_ACCESS_TOKEN must be set together');
      return { mode: 'none' };
    }
    if (targetOrg !== undefined) {
      problems.push('set either SF_TARGET_ORG or SF_INSTANCE_URL + SF_ACCESS_TOKEN, not both');
    }
    return { mode: 'token', instanceUrl, accessToken, apiVersion };
  }
  if (targetOrg !== undefined) {
    if (!/^[\w.@+-]{1,255}$/.test(targetOrg)) {
      problems.push(`SF_TARGET_ORG must be an org alias or username, got "${targetOrg}"`);
    }
    return { mode: 'sf-cli', targetOrg, apiVersion };
  }
  return { mode: 'none' };
}

/** Default OAuth login host (production and Developer Edition orgs; sandboxes use https://test.salesforce.com). */
export const DEFAULT_SF_LOGIN_URL = 'https://login.salesforce.com';

/**
 * The OAuth modes: `SF_PRIVATE_KEY_FILE` selects the JWT bearer flow, `SF_CLIENT_SECRET` the client-credentials
 * flow; both need `SF_CLIENT_ID` (the External Client App's consumer key). Undefined when no OAuth variable is set.
 */
function parseSalesforceOAuth(
  read: (name: string) => string | undefined,
  url: (name: string, fallback: string | undefined) => string | undefined,
  problems: string[],
  apiVersion: string
): SalesforceConnectionConfig | undefined {
  const clientId = read('SF_CLIENT_ID');
  const username = read('SF_USERNAME');
  const privateKeyFile = read('SF_PRIVATE_KEY_FILE');
  const clientSecret = read('SF_CLIENT_SECRET');
  const explicitLoginUrl = url('SF_LOGIN_URL', undefined);
  const audience = url('SF_JWT_AUDIENCE', undefined);
  if ([clientId, username, privateKeyFile, clientSecret].every((v) => v === undefined)) {
    return undefined;
  }
  if (clientId === undefined) {
    problems.push('SF_CLIENT_ID (the External Client App consumer key) is required for OAuth');
  }
  if (privateKeyFile !== undefined && clientSecret !== undefined) {
    problems.push(
      'set either SF_PRIVATE_KEY_FILE (JWT bearer) or SF_CLIENT_SECRET (client credentials), not both'
    );
    return { mode: 'none' };
  }
  if (clientSecret !== undefined) {
    if (explicitLoginUrl === undefined) {
      problems.push(
        "SF_LOGIN_URL must be the org's My Domain URL for the client-credentials flow (https://<domain>.my.salesforce.com)"
      );
    }
    if (username !== undefined) {
      problems.push(
        'SF_USERNAME is not used by the client-credentials flow (the app has a run-as user)'
      );
    }
    return {
      mode: 'client-credentials',
      loginUrl: explicitLoginUrl ?? DEFAULT_SF_LOGIN_URL,
      clientId: clientId ?? '',
      clientSecret,
      apiVersion
    };
  }
  if (privateKeyFile === undefined || username === undefined) {
    problems.push(
      'OAuth needs SF_CLIENT_ID with SF_PRIVATE_KEY_FILE + SF_USERNAME (JWT bearer) or SF_CLIENT_SECRET (client credentials)'
    );
    return { mode: 'none' };
  }
  if (!fs.existsSync(privateKeyFile)) {
    problems.push(`SF_PRIVATE_KEY_FILE does not exist: ${privateKeyFile}`);
  }
  const loginUrl = explicitLoginUrl ?? DEFAULT_SF_LOGIN_URL;
  return {
    mode: 'jwt',
    loginUrl,
    audience: audience ?? loginUrl,
    clientId: clientId ?? '',
    username,
    privateKeyFile,
    apiVersion
  };
}

/** The part of `sf org display --json` output the remote system needs. */
export interface SfOrgDisplay {
  readonly instanceUrl: string;
  readonly accessToken: string;
  readonly username?: string;
}

/**
 * Parses the JSON printed by `sf org display --json --target-org <alias>`; throws with the CLI's own message when
 * the command reported an error (for example an expired session).
 */
export function parseSfOrgDisplay(json: string): SfOrgDisplay {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('sf org display did not print JSON (run it with --json)');
  }
  const root = parsed as { status?: unknown; message?: unknown; result?: Record<string, unknown> };
  if (root.status !== 0 || typeof root.result !== 'object' || root.result === null) {
    const message = typeof root.message === 'string' ? root.message : 'unknown error';
    throw new Error(`sf org display failed: ${message}`);
  }
  const { instanceUrl, accessToken, username } = root.result;
  if (typeof instanceUrl !== 'string' || typeof accessToken !== 'string') {
    throw new Error('sf org display result has no instanceUrl/accessToken');
  }
  return {
    instanceUrl: instanceUrl.replace(/\/+$/, ''),
    accessToken,
    ...(typeof username === 'string' ? { username } : {})
  };
}

/**
 * Loads `KEY=value` lines from `ENV_FILE` (default: `.env` at the repository root) into `process.env`, without
 * overriding variables already set in the environment. Returns the file read, or undefined when there is none.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.ENV_FILE?.trim() || path.resolve(__dirname, '..', '..', '.env');
  if (!fs.existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
