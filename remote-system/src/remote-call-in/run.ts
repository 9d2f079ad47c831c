import type Database from 'better-sqlite3';
import type { OrgCaller } from './caller';
import { upsertCustomers, type CustomerUpsert } from './customers';
import {
  generateOrders,
  sendBatch,
  type ApiError,
  type BatchOutcome,
  type WebOrder
} from './orders';

export interface CallInRunOptions {
  readonly orders: number;
  readonly batchSize: number;
  /** Upsert the orders' customers through the Composite API first (default true). */
  readonly upsertCustomers?: boolean;
  /** Order number prefix; a new one per run by default, so each run creates new orders. */
  readonly prefix?: string;
  readonly random?: () => number;
  /** Told after each batch, for progress output. */
  readonly onBatch?: (outcome: BatchOutcome, index: number, total: number) => void;
}

export interface CallInSummary {
  readonly sent: number;
  readonly batches: readonly BatchOutcome[];
  readonly customers: readonly CustomerUpsert[];
  /** Orders left out because their customer could not be upserted. */
  readonly skipped: readonly { readonly order: WebOrder; readonly reason: string }[];
  readonly created: number;
  /** Orders Salesforce already held (`outcome: existing`). */
  readonly existing: number;
  /** Batches answered from the idempotency store. */
  readonly replayedBatches: number;
  readonly rejected: readonly {
    readonly externalNumber: string;
    readonly reasons: readonly ApiError[];
  }[];
  readonly ok: boolean;
}

/**
 * One call-in run: generates `orders` web-shop orders from the ERP's data, upserts their customers (Composite
 * API), and pushes the orders in batches (order API). A batch is all or nothing on the Salesforce side, so a
 * rejected batch rejects each of its orders with the batch's reasons.
 */
export async function runCallIn(
  db: Database.Database,
  caller: OrgCaller,
  options: CallInRunOptions
): Promise<CallInSummary> {
  const prefix =
    options.prefix ?? `WEB-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
  let orders = generateOrders(db, options.orders, prefix, options.random);
  let customers: CustomerUpsert[] = [];
  const skipped: { order: WebOrder; reason: string }[] = [];
  if (options.upsertCustomers !== false) {
    const numbers = [...new Set(orders.map((o) => o.customerNumber))].sort();
    const names = new Map(
      (
        db
          .prepare(
            `SELECT customer_number, name FROM customers WHERE customer_number IN (${numbers.map(() => '?').join(',')})`
          )
          .all(...numbers) as { customer_number: string; name: string }[]
      ).map((r) => [r.customer_number, r.name])
    );
    customers = await upsertCustomers(
      caller,
      numbers.map((n) => ({ customerNumber: n, name: names.get(n) ?? n }))
    );
    const failed = new Map(customers.filter((c) => !c.success).map((c) => [c.customerNumber, c]));
    orders = orders.filter((order) => {
      const failure = failed.get(order.customerNumber);
      if (failure === undefined) return true;
      skipped.push({
        order,
        reason: `customer ${order.customerNumber} not upserted: ${failure.errors.join('; ')}`
      });
      return false;
    });
  }

  const batches: BatchOutcome[] = [];
  const total = Math.ceil(orders.length / options.batchSize);
  for (let start = 0; start < orders.length; start += options.batchSize) {
    const outcome = await sendBatch(caller, orders.slice(start, start + options.batchSize));
    batches.push(outcome);
    options.onBatch?.(outcome, batches.length, total);
  }

  const rejected = batches
    .filter((b) => b.response === undefined)
    .flatMap((b) => b.orders.map((o) => ({ externalNumber: o.externalNumber, reasons: b.errors })));
  const created = sum(batches.map((b) => b.response?.created ?? 0));
  const existing = sum(batches.map((b) => b.response?.existing ?? 0));
  return {
    sent: options.orders,
    batches,
    customers,
    skipped,
    created,
    existing,
    replayedBatches: batches.filter((b) => b.replayed).length,
    rejected,
    ok: rejected.length === 0 && skipped.length === 0
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The summary as a person reads it: what was sent, what became of it, and why anything failed. */
export function formatSummary(summary: CallInSummary, target: string): string {
  const lines: string[] = [`Remote Call-In → ${target}`];
  if (summary.customers.length > 0) {
    const ok = summary.customers.filter((c) => c.success);
    lines.push(
      `customers (Composite upsert, allOrNone=false): ${ok.length} upserted ` +
        `(${ok.filter((c) => c.created).length} created), ${summary.customers.length - ok.length} failed`
    );
  }
  summary.batches.forEach((b, i) => {
    const what = b.response
      ? `${b.response.created} created, ${b.response.existing} existing${b.replayed ? ' (replayed)' : ''}`
      : `rejected: ${b.errors.length} problem(s)`;
    lines.push(
      `batch ${i + 1}/${summary.batches.length} (${b.orders.length} orders, key ${b.key}): ` +
        `${b.status ?? 'no answer'} after ${b.attempts} attempt(s) — ${what}`
    );
  });
  lines.push(
    `sent ${summary.sent} orders: ${summary.created} created, ${summary.existing} existing, ` +
      `${summary.replayedBatches} batch(es) replayed, ${summary.rejected.length} rejected, ` +
      `${summary.skipped.length} skipped`
  );
  const reasons = new Map<string, number>();
  for (const batch of summary.batches.filter((b) => b.response === undefined)) {
    for (const e of batch.errors) {
      const text = e.path === '' ? e.message : `${e.path}: ${e.message}`;
      reasons.set(text, (reasons.get(text) ?? 0) + 1);
    }
  }
  for (const s of summary.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  if (reasons.size > 0) {
    lines.push('reasons:');
    for (const [text, count] of [...reasons].slice(0, 20)) {
      lines.push(`  - ${text}${count > 1 ? ` (×${count})` : ''}`);
    }
    if (reasons.size > 20) lines.push(`  … and ${reasons.size - 20} more`);
  }
  lines.push(summary.ok ? 'result: OK' : 'result: FAILED');
  return lines.join('\n');
}
