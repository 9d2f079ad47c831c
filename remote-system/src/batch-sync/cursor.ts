import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http';

/** Error code of a cursor that is malformed, forged, or used with other `numbers` than it was issued for. */
export const INVALID_CURSOR = 'INVALID_CURSOR';

/**
 * Keyset cursors for the customer pages. A cursor carries the last customer number sent and a fingerprint of the
 * filter it belongs to, signed with HMAC-SHA256 (key derived from the shared secret), so a client can neither
 * forge a position nor move a cursor to another filter. Keyset on the primary key is what makes paging stable
 * while the ERP inserts and updates customers: a row that exists for the whole walk is sent exactly once; rows
 * inserted behind the cursor are seen by the next run, rows inserted ahead of it on this one.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHash('sha256').update(`batch-sync cursor\u0000${secret}`).digest();
  }

  static fingerprint(numbers: readonly string[] | undefined): string {
    return createHash('sha256')
      .update(numbers === undefined ? '*' : numbers.join(','))
      .digest('base64url')
      .slice(0, 16);
  }

  encode(after: string, fingerprint: string): string {
    const body = Buffer.from(JSON.stringify({ a: after, q: fingerprint })).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The last key of the previous page; a 400 `INVALID_CURSOR` for anything this server did not issue. */
  decode(cursor: string, fingerprint: string): string {
    const [body, signature, extra] = cursor.split('.');
    if (!body || !signature || extra !== undefined) throw invalid('is malformed');
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw invalid('was not issued by this server (or was altered)');
    }
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalid('is malformed');
    }
    const { a, q } = payload as { a?: unknown; q?: unknown };
    if (typeof a !== 'string' || typeof q !== 'string') throw invalid('is malformed');
    if (q !== fingerprint) throw invalid('belongs to a different `numbers` filter');
    return a;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

function invalid(reason: string): HttpError {
  return new HttpError(400, INVALID_CURSOR, `The cursor ${reason}; start again without one.`, [
    { field: 'query.cursor', reason }
  ]);
}
