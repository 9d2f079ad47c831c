/**
 * Keyset paging tokens (`$skiptoken`). A token carries the sort-key values of the last row sent and the rows still
 * owed under `$top`, bound to the query it continues; it is signed with HMAC-SHA256 so a client can neither forge a
 * position nor reuse a token with another `$filter`/`$orderby`. Any token that does not verify is a 400.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ODataQueryError } from './errors';

export interface PageCursor {
  /** Sort-key values of the last row sent, in `$orderby` order with the entity key last. */
  readonly after: (string | number | null)[];
  /** Rows still owed under `$top`, or null when the query had no `$top`. */
  readonly remaining: number | null;
  /** `@odata.count` computed for the first page, repeated on the following ones without a recount. */
  readonly count?: number;
}

interface TokenPayload {
  readonly a: (string | number | null)[];
  readonly r: number | null;
  readonly c?: number;
  readonly q: string;
}

const TARGET = '$skiptoken';

export class PageTokens {
  private readonly key: Buffer;

  /** @param secret signing key; a random one (tokens then die with the process) when none is given */
  constructor(secret?: string) {
    this.key = secret
      ? createHash('sha256').update(`data-virtualization paging\u0000${secret}`).digest()
      : randomBytes(32);
  }

  /** Fingerprint of the query options a token is bound to. */
  static fingerprint(parts: readonly (string | undefined)[]): string {
    return createHash('sha256')
      .update(JSON.stringify(parts.map((p) => p ?? null)))
      .digest('base64url')
      .slice(0, 22);
  }

  encode(cursor: PageCursor, fingerprint: string): string {
    const payload: TokenPayload = {
      a: cursor.after,
      r: cursor.remaining,
      ...(cursor.count === undefined ? {} : { c: cursor.count }),
      q: fingerprint
    };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** Verifies and decodes a token; `arity` is the number of sort keys the current query has. */
  decode(token: string, fingerprint: string, arity: number): PageCursor {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined || !/^[A-Za-z0-9_-]+$/.test(body)) {
      throw new ODataQueryError('Malformed $skiptoken', TARGET);
    }
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new ODataQueryError('Invalid or expired $skiptoken', TARGET);
    }
    let payload: TokenPayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
    } catch {
      throw new ODataQueryError('Malformed $skiptoken', TARGET);
    }
    if (typeof payload !== 'object' || payload === null || payload.q !== fingerprint) {
      throw new ODataQueryError('$skiptoken does not belong to this query', TARGET);
    }
    const valuesOk =
      Array.isArray(payload.a) &&
      payload.a.length === arity &&
      payload.a.every((v) => v === null || typeof v === 'string' || typeof v === 'number');
    const remainingOk =
      payload.r === null || (Number.isSafeInteger(payload.r) && (payload.r as number) > 0);
    const countOk = payload.c === undefined || (Number.isSafeInteger(payload.c) && payload.c >= 0);
    if (!valuesOk || !remainingOk || !countOk) {
      throw new ODataQueryError('Malformed $skiptoken', TARGET);
    }
    return { after: payload.a, remaining: payload.r, count: payload.c };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
