import type Database from 'better-sqlite3';
import { HttpError } from '../http';
import { CursorCodec } from './cursor';
import type { CustomerBalance, CustomersPage } from './schemas';

/** Currency of credit limits and balances: the ERP keeps credit in one currency (customers carry none). */
export const CREDIT_CURRENCY = 'USD';
const NUMBER = /^C-[0-9]{6}$/;

interface CustomerRow {
  customer_number: string;
  name: string;
  credit_limit_cents: number;
  balance_cents: number;
  risk_rating: CustomerBalance['riskRating'];
  on_hold: number;
}

export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string;
  readonly numbers?: string;
}

/** Reads customer balance pages in primary-key order (keyset paging; see {@link CursorCodec}). */
export class CustomerPages {
  private readonly all: Database.Statement<[string, number], CustomerRow>;
  private readonly some: Database.Statement<[string, string, number], CustomerRow>;

  constructor(
    db: Database.Database,
    private readonly cursors: CursorCodec,
    private readonly pageSize: { readonly defaultSize: number; readonly maxSize: number }
  ) {
    const columns =
      'customer_number, name, credit_limit_cents, balance_cents, risk_rating, on_hold';
    this.all = db.prepare(
      `SELECT ${columns} FROM customers WHERE customer_number > ? ORDER BY customer_number LIMIT ?`
    );
    this.some = db.prepare(
      `SELECT ${columns} FROM customers
        WHERE customer_number > ? AND customer_number IN (SELECT value FROM json_each(?))
        ORDER BY customer_number LIMIT ?`
    );
  }

  page(request: PageRequest): CustomersPage {
    const limit = request.limit ?? this.pageSize.defaultSize;
    if (limit > this.pageSize.maxSize) {
      throw new HttpError(
        400,
        'PAGE_TOO_LARGE',
        `limit must be at most ${this.pageSize.maxSize}.`,
        [{ field: 'query.limit', reason: `must be at most ${this.pageSize.maxSize}` }]
      );
    }
    const numbers = request.numbers === undefined ? undefined : this.parseNumbers(request.numbers);
    const fingerprint = CursorCodec.fingerprint(numbers);
    const after =
      request.cursor === undefined ? '' : this.cursors.decode(request.cursor, fingerprint);

    // One row more than the page tells whether another page follows, without a count.
    const rows =
      numbers === undefined
        ? this.all.all(after, limit + 1)
        : this.some.all(after, JSON.stringify(numbers), limit + 1);
    const hasMore = rows.length > limit;
    const pageRows = hasMore ? rows.slice(0, limit) : rows;
    const last = pageRows.at(-1)?.customer_number;

    let missing: string[] = [];
    if (numbers !== undefined) {
      const found = new Set(pageRows.map((r) => r.customer_number));
      // The key range this page answers for: after the cursor, up to its last row (or to the end on the last page).
      missing = numbers.filter(
        (n) => n > after && (!hasMore || (last !== undefined && n <= last)) && !found.has(n)
      );
    }
    return {
      items: pageRows.map(toBalance),
      ...(hasMore && last !== undefined
        ? { nextCursor: this.cursors.encode(last, fingerprint) }
        : {}),
      missing
    };
  }

  private parseNumbers(raw: string): string[] {
    const values = [...new Set(raw.split(',').map((v) => v.trim()))].filter((v) => v !== '');
    const bad = values.filter((v) => !NUMBER.test(v));
    if (bad.length > 0) {
      throw new HttpError(
        400,
        'VALIDATION_FAILED',
        'numbers holds values that are not customer numbers.',
        [
          {
            field: 'query.numbers',
            reason: `not a customer number (C-000001): ${bad.slice(0, 5).join(', ')}`
          }
        ]
      );
    }
    if (values.length === 0 || values.length > this.pageSize.maxSize) {
      throw new HttpError(
        400,
        'VALIDATION_FAILED',
        `numbers must list 1 to ${this.pageSize.maxSize} customer numbers.`,
        [
          {
            field: 'query.numbers',
            reason: `must list 1 to ${this.pageSize.maxSize} customer numbers`
          }
        ]
      );
    }
    return values.sort();
  }
}

function toBalance(row: CustomerRow): CustomerBalance {
  return {
    customerNumber: row.customer_number,
    name: row.name,
    currencyCode: CREDIT_CURRENCY,
    creditLimit: row.credit_limit_cents / 100,
    balance: row.balance_cents / 100,
    riskRating: row.risk_rating,
    onHold: row.on_hold === 1
  };
}
