import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Verifying a Canvas signed request, the only thing the canvas page trusts.
 *
 * Salesforce POSTs `signed_request=<signature>.<payload>` to the canvas URL: `payload` is the CanvasRequest JSON in
 * base64, `signature` is the base64 HMAC-SHA256 of the `payload` text keyed by the External Client App's consumer
 * secret. The order below is the point of this module:
 *
 * 1. shape of the raw string (size, one dot, base64 alphabets), before any decoding;
 * 2. the HMAC of the payload text, compared with the presented signature in constant time (`timingSafeEqual` over
 *    two 32-byte digests), before the payload is decoded or parsed;
 * 3. only then the JSON: the `algorithm` it names must be `HMACSHA256`, the fields the page uses must be there with
 *    the right types, and, only when an age limit is configured, `issuedAt` must be recent.
 *
 * Freshness: the signed request carries no dependable signing time. The guide defines `issuedAt` as "the timestamp
 * when the oauthToken was issued", and requests captured from real orgs show values that are no recent time at all
 * (negative ones among them), so the age check is off unless `maxAgeSeconds` is given. What bounds a replayed request
 * is the token inside it: the write-back uses it, and Salesforce refuses it (401) once the session has ended.
 *
 * A failure at any step throws a {@link CanvasRejection} and nothing of the request is used.
 */

/** The algorithm name Salesforce writes into the CanvasRequest (`algorithm`). */
export const SIGNED_REQUEST_ALGORITHM = 'HMACSHA256';

/** Why a request was refused, as the 4xx page shows it. */
export class CanvasRejection extends Error {
  constructor(
    readonly status: 400 | 403 | 413 | 415,
    readonly code: string,
    message: string
  ) {
    super(message);
    this.name = 'CanvasRejection';
  }
}

export const REJECTION = {
  NOT_CONFIGURED: 'CANVAS_NOT_CONFIGURED',
  MISSING: 'SIGNED_REQUEST_MISSING',
  MALFORMED: 'SIGNED_REQUEST_MALFORMED',
  TOO_LARGE: 'SIGNED_REQUEST_TOO_LARGE',
  BAD_SIGNATURE: 'SIGNATURE_MISMATCH',
  UNSUPPORTED_ALGORITHM: 'UNSUPPORTED_ALGORITHM',
  EXPIRED: 'SIGNED_REQUEST_EXPIRED',
  UNTRUSTED_INSTANCE: 'UNTRUSTED_INSTANCE',
  NO_RECORD: 'NO_OPPORTUNITY_IN_CONTEXT'
} as const;

/**
 * The part of the CanvasRequest this page reads (Canvas Developer Guide: CanvasRequest, Client, Context, User,
 * Organization, Environment). Salesforce sends more; unknown fields are allowed and ignored.
 */
export const CanvasRequestSchema = Type.Object({
  algorithm: Type.String(),
  /**
   * The guide: "the timestamp when the oauthToken was issued". Read as seconds since the epoch only when an age limit
   * is configured; real orgs have sent values that are no recent time (see the module comment).
   */
  issuedAt: Type.Integer(),
  userId: Type.String({ minLength: 15, maxLength: 18 }),
  client: Type.Object({
    oauthToken: Type.String({ minLength: 1, maxLength: 4096 }),
    instanceUrl: Type.String({ minLength: 1, maxLength: 2048 }),
    targetOrigin: Type.String({ minLength: 1, maxLength: 2048 }),
    instanceId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    refreshToken: Type.Optional(Type.Union([Type.String(), Type.Null()]))
  }),
  context: Type.Object({
    user: Type.Object({
      userId: Type.String(),
      userName: Type.String(),
      fullName: Type.String(),
      email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      locale: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      currencyISOCode: Type.Optional(Type.Union([Type.String(), Type.Null()]))
    }),
    organization: Type.Object({
      organizationId: Type.String(),
      name: Type.String(),
      currencyIsoCode: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      multicurrencyEnabled: Type.Optional(Type.Boolean())
    }),
    environment: Type.Object({
      displayLocation: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      parameters: Type.Optional(
        Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])
      ),
      record: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
      version: Type.Optional(
        Type.Union([Type.Object({ api: Type.Optional(Type.String()) }), Type.Null()])
      )
    })
  })
});

export type CanvasRequest = Static<typeof CanvasRequestSchema>;

export interface VerifyOptions {
  /** The consumer secret; undefined when `UI_INTEGRATION_CONSUMER_SECRET` is not set. */
  readonly secret: string | undefined;
  /** Oldest `issuedAt` accepted, in seconds; undefined: no age check (the default, see the module comment). */
  readonly maxAgeSeconds?: number | undefined;
  /** Longest signed request accepted, in characters. */
  readonly maxLength: number;
  /** Clock in milliseconds (tests move it). */
  readonly now?: () => number;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Requests dated this far in the future are refused too (clock skew allowance, seconds). */
const MAX_CLOCK_SKEW_SECONDS = 300;

/** The HMAC-SHA256 of `payload` keyed by `secret`, base64: what Salesforce puts before the dot. */
export function signPayload(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('base64');
}

/**
 * Verifies `raw` (the `signed_request` form field) and returns the CanvasRequest, or throws a
 * {@link CanvasRejection}. The signature is checked before the payload is decoded.
 */
export function verifySignedRequest(raw: unknown, options: VerifyOptions): CanvasRequest {
  if (options.secret === undefined) {
    throw new CanvasRejection(
      403,
      REJECTION.NOT_CONFIGURED,
      'This ERP cannot verify Salesforce signed requests yet: set UI_INTEGRATION_CONSUMER_SECRET to the External ' +
        "Client App's consumer secret and restart it."
    );
  }
  if (typeof raw !== 'string' || raw === '') {
    throw new CanvasRejection(
      400,
      REJECTION.MISSING,
      'No signed_request in the form: open this page from Salesforce, which POSTs one.'
    );
  }
  if (raw.length > options.maxLength) {
    throw new CanvasRejection(
      413,
      REJECTION.TOO_LARGE,
      `The signed request is ${raw.length} characters long; at most ${options.maxLength} are accepted.`
    );
  }
  const parts = raw.split('.');
  const [signature, payload] = parts;
  if (
    parts.length !== 2 ||
    signature === undefined ||
    payload === undefined ||
    !BASE64.test(signature) ||
    !BASE64.test(payload)
  ) {
    throw new CanvasRejection(
      400,
      REJECTION.MALFORMED,
      'The signed request is not <base64 signature>.<base64 payload>.'
    );
  }

  const presented = Buffer.from(signature, 'base64');
  const expected = createHmac('sha256', options.secret).update(payload, 'utf8').digest();
  // The length of an HMAC-SHA256 is public (32 bytes); only equal-length buffers reach the constant-time compare.
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new CanvasRejection(
      403,
      REJECTION.BAD_SIGNATURE,
      'The signed request was not signed with this app’s consumer secret (tampered, or signed for another app).'
    );
  }

  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
  } catch {
    throw new CanvasRejection(400, REJECTION.MALFORMED, 'The signed payload is not JSON.');
  }
  const algorithm = (decoded as { algorithm?: unknown } | null)?.algorithm;
  if (typeof algorithm !== 'string' || algorithm.toUpperCase() !== SIGNED_REQUEST_ALGORITHM) {
    throw new CanvasRejection(
      400,
      REJECTION.UNSUPPORTED_ALGORITHM,
      `The signed request names the algorithm ${JSON.stringify(algorithm ?? null)}; only ${SIGNED_REQUEST_ALGORITHM} is accepted.`
    );
  }
  if (!Value.Check(CanvasRequestSchema, decoded)) {
    const first = Value.Errors(CanvasRequestSchema, decoded).First();
    throw new CanvasRejection(
      400,
      REJECTION.MALFORMED,
      `The signed request lacks what the page needs: ${first ? `${first.path || '/'} ${first.message}` : 'unknown shape'}.`
    );
  }
  if (options.maxAgeSeconds !== undefined) {
    const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
    const age = nowSeconds - decoded.issuedAt;
    if (age > options.maxAgeSeconds || age < -MAX_CLOCK_SKEW_SECONDS) {
      throw new CanvasRejection(
        403,
        REJECTION.EXPIRED,
        age > 0
          ? `The signed request was issued ${age} s ago; at most ${options.maxAgeSeconds} s are accepted. Reload the Salesforce page.`
          : 'The signed request is dated in the future; check the clocks.'
      );
    }
  }
  return decoded;
}

/**
 * True when `instanceUrl` is an origin the user's token may be sent to: https on a host matching one of `hosts`
 * (`*.salesforce.com` matches any subdomain), or plain http on a host listed exactly (a local stand-in). A verified
 * signature already says Salesforce wrote the URL; this keeps a leaked consumer secret from turning the ERP into a
 * token relay to anywhere.
 */
export function isTrustedInstance(instanceUrl: string, hosts: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(instanceUrl);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    return false;
  }
  const host = url.hostname.toLowerCase();
  return hosts.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p.startsWith('*.')) return url.protocol === 'https:' && host.endsWith(p.slice(1));
    return host === p && (url.protocol === 'https:' || url.protocol === 'http:');
  });
}
