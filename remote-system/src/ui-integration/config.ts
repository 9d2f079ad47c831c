import { EnvReader, type Env } from '../config';

/**
 * Settings of the UI Integration (Canvas) half, from `UI_INTEGRATION_*` and the shared `SF_API_VERSION` (see
 * `.env.example`). Every bad variable is named in one `ConfigError` at start-up.
 *
 * The consumer secret is optional on purpose: the server mounts every pattern, and a developer who never tries the
 * Canvas app should still be able to run `npm start`. Without it the canvas routes answer every request with a 403
 * page that names the variable, and verify nothing.
 */
export interface UiIntegrationConfig {
  /**
   * `UI_INTEGRATION_CONSUMER_SECRET`: the External Client App's consumer secret, the HMAC-SHA256 key Salesforce signs
   * each signed request with. Never logged, never shown.
   */
  readonly consumerSecret?: string;
  /**
   * `UI_INTEGRATION_MAX_AGE_SECONDS` (unset by default; 30..86 400 when set): how old a signed request's `issuedAt`
   * may be, or undefined for no age check. Off by default because `issuedAt` is not a dependable clock: the Canvas
   * Developer Guide defines it only as "the timestamp when the oauthToken was issued" (not when the request was
   * signed), and signed requests captured from real orgs in public repositories carry values such as -1882588807 and
   * 798284367, which are no recent time in seconds or milliseconds. Set it only after reading what your org sends.
   * When set, every action of the page (quote, write-back) carries the signed request again, so it is also how long a
   * page may sit before the user has to reload it.
   */
  readonly maxAgeSeconds?: number;
  /**
   * `UI_INTEGRATION_MAX_REQUEST_BYTES` (default 65 536, 4 096..1 048 576): the largest form body, signed request
   * included, a canvas route reads; larger bodies get a 413 page before anything is parsed.
   */
  readonly maxRequestBytes: number;
  /**
   * `UI_INTEGRATION_FRAME_ANCESTORS`: the CSP `frame-ancestors` sources allowed to frame the page, space-separated.
   * Default: the Salesforce domains that host Lightning and Visualforce pages.
   */
  readonly frameAncestors: readonly string[];
  /**
   * `UI_INTEGRATION_INSTANCE_HOSTS`: host patterns (`*.my.salesforce.com`, `127.0.0.1`) the signed request's
   * `instanceUrl` must match before the user's token is sent there. Default: Salesforce domains only, over https.
   * A host given without a wildcard also allows plain http (the local stand-in in tests).
   */
  readonly instanceHosts: readonly string[];
  /** `SF_API_VERSION` (default `67.0`): the REST API version of the write-back. */
  readonly apiVersion: string;
  /** `UI_INTEGRATION_WRITEBACK_TIMEOUT_MS` (default 10 000): how long the write-back may take. */
  readonly writeBackTimeoutMs: number;
}

/** Domains Salesforce serves Lightning, Visualforce and Setup pages from (CSP host-source wildcards). */
export const DEFAULT_FRAME_ANCESTORS: readonly string[] = [
  'https://*.salesforce.com',
  'https://*.force.com',
  'https://*.salesforce-setup.com'
];

/** Hosts a Salesforce `instanceUrl` can have (My Domain, sandboxes, scratch orgs, government cloud). */
export const DEFAULT_INSTANCE_HOSTS: readonly string[] = [
  '*.salesforce.com',
  '*.force.com',
  '*.salesforce.mil'
];

export function loadUiIntegrationConfig(env: Env = process.env): UiIntegrationConfig {
  const reader = new EnvReader(env);
  const consumerSecret = reader.string('UI_INTEGRATION_CONSUMER_SECRET');
  if (consumerSecret !== undefined && consumerSecret.length < 16) {
    reader.problems.push(
      'UI_INTEGRATION_CONSUMER_SECRET must be the External Client App consumer secret (at least 16 characters)'
    );
  }
  const frameAncestors = list(reader, 'UI_INTEGRATION_FRAME_ANCESTORS') ?? DEFAULT_FRAME_ANCESTORS;
  for (const source of frameAncestors) {
    if (!/^https:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?$/i.test(source) && source !== "'self'") {
      reader.problems.push(
        `UI_INTEGRATION_FRAME_ANCESTORS must list https origins such as https://*.force.com, got "${source}"`
      );
    }
  }
  const instanceHosts = list(reader, 'UI_INTEGRATION_INSTANCE_HOSTS') ?? DEFAULT_INSTANCE_HOSTS;
  for (const host of instanceHosts) {
    if (!/^(\*\.)?[a-z0-9.-]+$/i.test(host)) {
      reader.problems.push(
        `UI_INTEGRATION_INSTANCE_HOSTS must list host names such as *.my.salesforce.com, got "${host}"`
      );
    }
  }
  const apiVersion = reader.string('SF_API_VERSION') ?? '67.0';
  if (!/^\d{2,3}\.0$/.test(apiVersion)) {
    reader.problems.push(`SF_API_VERSION must look like "67.0", got "${apiVersion}"`);
  }
  const config: UiIntegrationConfig = {
    ...(consumerSecret === undefined ? {} : { consumerSecret }),
    ...(reader.string('UI_INTEGRATION_MAX_AGE_SECONDS') === undefined
      ? {}
      : { maxAgeSeconds: reader.integer('UI_INTEGRATION_MAX_AGE_SECONDS', 900, 30, 86_400) }),
    maxRequestBytes: reader.integer('UI_INTEGRATION_MAX_REQUEST_BYTES', 65_536, 4_096, 1_048_576),
    frameAncestors,
    instanceHosts,
    apiVersion,
    writeBackTimeoutMs: reader.integer('UI_INTEGRATION_WRITEBACK_TIMEOUT_MS', 10_000, 100, 120_000)
  };
  reader.throwIfInvalid();
  return config;
}

/** A space- or comma-separated list, or undefined when the variable is unset. */
function list(reader: EnvReader, name: string): string[] | undefined {
  const raw = reader.string(name);
  if (raw === undefined) return undefined;
  return raw.split(/[\s,]+/).filter((item) => item !== '');
}
