import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/**
 * Keeping secrets out of the logs. Three layers, because each catches what the others cannot:
 *
 * 1. **pino `redact`** on structured fields: any logged object's `authorization`, `cookie`, `set-cookie`, OAuth
 *    tokens (`accessToken`, `access_token`, `refresh_token`, `id_token`, `oauthToken`), signed requests
 *    (`signedRequest`, `signed_request`), client secrets, passwords, JWT assertions — at the top level and up to two
 *    levels down (`err.headers.authorization`, `req.headers.cookie`, `client.oauthToken` of a canvas context).
 * 2. **The request serializer** logs method, URL, host and address, never headers; query parameters that carry
 *    credentials (`access_token`, `signed_request`, `code`, …) have their values replaced.
 * 3. **A last look at every line** (`hooks.streamWrite`): the same field names with a string value at any depth,
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

/** pino redact paths: each field at the top level, one level down and two levels down. */
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((field) => {
  const member = field.startsWith('"') ? `[${field}]` : `.${field}`;
  return [field.startsWith('"') ? `[${field}]` : field, `*${member}`, `*.*${member}`];
});

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

/** Replaces every secret shape and every literal secret in one serialized log line. */
export function scrubLine(line: string, secrets: readonly string[]): string {
  let out = line
    .replace(SECRET_FIELD_VALUE, `"$1":"${REDACTED}"`)
    .replace(AUTHORIZATION_VALUE, `$1$2${REDACTED}`);
  for (const shape of SECRET_SHAPES) out = out.replace(shape, REDACTED);
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    // The same value as JSON writes it inside a string (quotes and backslashes escaped).
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

type LoggerOption = FastifyServerOptions['logger'];

/**
 * Fastify logger options with the redaction above added to what the caller chose (`{ level }` by default; tests
 * pass a stream). `false` stays `false`. Longer secrets are scrubbed first, so one that contains another is
 * replaced whole.
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
  const literal = [...new Set(secrets.filter((s) => s.length >= 8))].sort(
    (a, b) => b.length - a.length
  );
  const previousWrite = base.hooks?.streamWrite;
  return {
    ...base,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: { ...base.serializers, req: serializeRequest },
    hooks: {
      ...base.hooks,
      streamWrite: (line: string) => {
        const scrubbed = scrubLine(line, literal);
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
