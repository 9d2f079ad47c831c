import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/**
 * Keeping secrets out of the logs. Three layers, because each catches what the others cannot:
 *
 * 1. **pino `redact`** on structured fields: `authorization`, `cookie`, `set-cookie`, OAuth tokens (`accessToken`,
 *    `access_token`, `refresh_token`, `id_token`, `oauthToken`), signed requests (`signedRequest`,
 *    `signed_request`), client secrets, passwords, JWT assertions at the top level of a log call, and the
 *    credential headers of a logged `headers`, `req.headers`, `err.headers` object, whatever their value type.
 * 2. **The request serializer** logs method, URL, host and address, never headers; query parameters that carry
 *    credentials (`access_token`, `signed_request`, `code`, …) have their values replaced.
 * 3. **A last look at every line** (`hooks.streamWrite`): the same field names with a string value at any depth
 *    (`canvas.context.client.oauthToken`),
 *    and secrets inside strings, such as an error message that quotes a header: `Bearer <anything>`, Salesforce
 *    session ids (`00D…!…`), signed requests and JWTs (`<signature>.eyJ…`), and the literal values of the
 *    configured secrets (the shared secrets and every `…SECRET…`/`…TOKEN…`/`…PASSWORD…` variable).
 *
 * Redacted values read `[Redacted]`. `test/security/log-redaction.test.ts` captures the log lines of real requests
 * that carry each kind of secret and checks that none appears.
 */
export const REDACTED = '[Redacted]';

/** Field names whose values are credentials wherever they appear in a logged object. */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  '"set-cookie"',
  '"x-api-key"',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'oauthToken',
  'signedRequest',
  'signed_request',
  'clientSecret',
  'client_secret',
  'sharedSecret',
  'consumerSecret',
  'secret',
  'password',
  'assertion',
  'privateKey'
];

/**
 * pino redact paths: each field at the top level, and the header objects a log call may carry. No wildcards:
 * fast-redact's wildcard paths cost 10–20 µs per line (measured), and deeper string values are caught by the
 * line scrub ({@link createScrubber}) anyway.
 */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.map((field) => (field.startsWith('"') ? `[${field}]` : field)),
  ...['headers', 'req.headers', 'res.headers', 'err.headers', 'request.headers'].flatMap((object) =>
    ['authorization', 'cookie', '["set-cookie"]', '["x-api-key"]'].map((field) =>
      field.startsWith('[') ? `${object}${field}` : `${object}.${field}`
    )
  )
];

/** Query parameters whose values are credentials (compared case-insensitively). */
const SECRET_PARAMETERS = new Set([
  'access_token',
  'id_token',
  'refresh_token',
  'token',
  'oauth_token',
  'signed_request',
  'client_secret',
  'code',
  'assertion',
  'password',
  'apikey',
  'api_key',
  'sig',
  'signature'
]);

/**
 * The URL with the values of credential-carrying query parameters replaced (`/x?access_token=[Redacted]&a=1`):
 * what the logs and the console's live traffic show. URLs without a query are returned as they are.
 */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  const parts = url.slice(query + 1).split('&');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const equals = part.indexOf('=');
    if (equals === -1) continue;
    let name = part.slice(0, equals);
    try {
      name = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // keep the raw name
    }
    if (SECRET_PARAMETERS.has(name.toLowerCase())) {
      parts[i] = `${part.slice(0, equals)}=${REDACTED}`;
      changed = true;
    }
  }
  return changed ? `${url.slice(0, query)}?${parts.join('&')}` : url;
}

/** An Authorization header value quoted anywhere ("Bearer <token>", "Basic <credentials>"): the scheme stays. */
const AUTHORIZATION_VALUE = /\b(Bearer|Basic)(\s+|%20)[^\s"\\,;]{8,}/gi;

/** A secret field with a string value at any depth of the serialized line (deeper than the redact paths reach). */
const SECRET_FIELD_VALUE = new RegExp(
  `"(${SECRET_FIELDS.map((field) => field.replace(/"/g, '')).join('|')})":"(?:[^"\\\\]|\\\\.)*"`,
  'g'
);

/** Other strings that are credentials whatever field they sit in. */
const SECRET_SHAPES: readonly RegExp[] = [
  // Salesforce session ids / OAuth access tokens: the org id, "!", the session part.
  /\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]{16,}/g,
  // Canvas signed requests (<signature>.<base64 JSON>) and JWTs (<header>.<payload>.<signature>).
  /[A-Za-z0-9+/_-]{16,}={0,2}\.eyJ[A-Za-z0-9+/_=-]{8,}(?:\.[A-Za-z0-9+/_=-]+)?/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]+)?/g
];

/**
 * Environment variables whose values are secrets, besides the shared secrets: every `…SECRET…`, `…TOKEN…`,
 * `…PASSWORD…` variable (`SF_ACCESS_TOKEN`, `SF_CLIENT_SECRET`, `UI_INTEGRATION_CONSUMER_SECRET`, …). Values shorter
 * than 8 characters are left alone, so a setting such as `=true` cannot blank out ordinary words.
 */
export function secretValuesOf(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([name]) => /SECRET|TOKEN|PASSWORD/i.test(name) && !/_FILE$/i.test(name))
    .map(([, value]) => value?.trim() ?? '')
    .filter((value) => value.length >= 8);
}

/**
 * A function that replaces every secret shape and every literal secret in one serialized log line. The literal
 * secrets are prepared once (longest first, so one that contains another is replaced whole, each also as JSON
 * escapes it inside a string); the costlier shapes run only when a cheap substring test says they might match.
 */
export function createScrubber(secrets: readonly string[]): (line: string) => string {
  const literals = [...new Set(secrets.filter((secret) => secret.length >= 8))]
    .sort((a, b) => b.length - a.length)
    .flatMap((secret) => {
      const escaped = JSON.stringify(secret).slice(1, -1);
      return escaped === secret ? [secret] : [secret, escaped];
    });
  const [session, signed, jwt] = SECRET_SHAPES as [RegExp, RegExp, RegExp];
  return (line) => {
    let out = line
      .replace(SECRET_FIELD_VALUE, `"$1":"${REDACTED}"`)
      .replace(AUTHORIZATION_VALUE, `$1$2${REDACTED}`);
    if (out.includes('00D')) out = out.replace(session, REDACTED);
    if (out.includes('eyJ')) out = out.replace(signed, REDACTED).replace(jwt, REDACTED);
    for (const literal of literals) {
      if (out.includes(literal)) out = out.split(literal).join(REDACTED);
    }
    return out;
  };
}

/** {@link createScrubber} for one line (tests). */
export function scrubLine(line: string, secrets: readonly string[]): string {
  return createScrubber(secrets)(line);
}

type LoggerOption = FastifyServerOptions['logger'];

/**
 * Fastify logger options with the redaction above added to what the caller chose (`{ level }` by default; tests
 * pass a stream). `false` stays `false`.
 */
export function redactingLoggerOptions(
  logger: LoggerOption | undefined,
  level: string,
  secrets: readonly string[]
): LoggerOption {
  if (logger === false) return false;
  const base = (logger === undefined || logger === true ? { level } : logger) as Record<
    string,
    unknown
  > & {
    serializers?: Record<string, unknown>;
    hooks?: { streamWrite?: (line: string) => string };
  };
  const scrub = createScrubber(secrets);
  const previousWrite = base.hooks?.streamWrite;
  return {
    ...base,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: { ...base.serializers, req: serializeRequest },
    hooks: {
      ...base.hooks,
      streamWrite: (line: string) => {
        const scrubbed = scrub(line);
        return previousWrite ? previousWrite(scrubbed) : scrubbed;
      }
    }
  } as LoggerOption;
}

/** Fastify's request serializer, with the query's credentials redacted. */
function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  };
}
