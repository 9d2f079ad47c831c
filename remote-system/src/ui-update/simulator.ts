import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { shipmentEventPayload, type ShipmentChange, type ShipmentStatus } from './contract';

/** Where a shipment can go from each status, with the chance of each move (the rest of the time it goes to the first). */
const NEXT: Readonly<Record<ShipmentStatus, readonly { to: ShipmentStatus; p: number }[]>> = {
  'Label Created': [{ to: 'In Transit', p: 1 }],
  'In Transit': [
    { to: 'Out for Delivery', p: 0.93 },
    { to: 'Exception', p: 0.07 }
  ],
  'Out for Delivery': [
    { to: 'Delivered', p: 0.95 },
    { to: 'Exception', p: 0.05 }
  ],
  Exception: [
    { to: 'In Transit', p: 0.7 },
    { to: 'Returned', p: 0.3 }
  ],
  Delivered: [],
  Returned: []
};
const MOVABLE: readonly ShipmentStatus[] = [
  'Label Created',
  'In Transit',
  'Out for Delivery',
  'Exception'
];

export interface SimulatorOptions {
  readonly db: Database.Database;
  /** Randomness source (tests pass a seeded one). */
  readonly random?: () => number;
  readonly now?: () => number;
}

interface ShipmentRow {
  rowid: number;
  shipment_number: string;
  customer_number: string;
  status: ShipmentStatus | null;
  carrier: string | null;
  destination_city: string | null;
}

/**
 * Moves ERP shipments through their statuses. Each change updates `shipments` and writes its event to the
 * `ui_update_outbox` **in the same transaction**, so a change is never committed without its event (nor an event
 * sent for a change that rolled back); {@link OutboxPublisher} sends the events. When no shipment can move any more,
 * a new one is created (`Label Created`) for a random customer.
 */
export class ShipmentSimulator {
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly pickFrom: Database.Statement;
  private readonly maxRowid: Database.Statement;
  private readonly update: Database.Statement;
  private readonly enqueue: Database.Statement;
  private readonly customers: Database.Statement;
  private readonly insertShipment: Database.Statement;
  private readonly stepTx: (count: number) => ShipmentChange[];

  constructor(private readonly options: SimulatorOptions) {
    const { db } = options;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    const movable = MOVABLE.map((status) => `'${status.replace(/'/g, "''")}'`).join(', ');
    this.pickFrom = db.prepare(
      `SELECT rowid, shipment_number, customer_number, status, carrier, destination_city FROM shipments
       WHERE rowid >= ? AND status IN (${movable}) ORDER BY rowid LIMIT ?`
    );
    this.maxRowid = db.prepare('SELECT coalesce(max(rowid), 0) FROM shipments').pluck();
    this.update = db.prepare(
      `UPDATE shipments SET status = ?, delivered_at = CASE WHEN ? = 'Delivered' THEN ? ELSE delivered_at END
       WHERE shipment_number = ?`
    );
    this.enqueue = db.prepare(
      `INSERT INTO ui_update_outbox (event_id, shipment_number, customer_number, status, previous_status,
         payload_json, state, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`
    );
    this.customers = db.prepare(
      'SELECT customer_number FROM customers ORDER BY customer_number LIMIT 1 OFFSET ?'
    );
    this.insertShipment = db.prepare(
      `INSERT INTO shipments (shipment_number, customer_number, carrier, service_level, status, destination_city,
         destination_country, shipped_at, package_count, is_insured)
       VALUES (?, ?, 'DHL', 'Standard', 'Label Created', 'Lyon', 'FR', ?, 1, 0)`
    );
    this.stepTx = db.transaction((count: number) => this.stepInTransaction(count));
  }

  /** Moves `count` shipments one status further (creating shipments when none can move); returns the changes. */
  step(count: number): ShipmentChange[] {
    if (!Number.isInteger(count) || count < 1) return [];
    return this.stepTx(count);
  }

  private stepInTransaction(count: number): ShipmentChange[] {
    const max = this.maxRowid.get() as number;
    const start = Math.floor(this.random() * max) + 1;
    let rows = this.pickFrom.all(start, count) as ShipmentRow[];
    if (rows.length < count) {
      const seen = new Set(rows.map((row) => row.rowid));
      const more = (this.pickFrom.all(1, count) as ShipmentRow[]).filter(
        (row) => !seen.has(row.rowid)
      );
      rows = rows.concat(more.slice(0, count - rows.length));
    }
    const changes: ShipmentChange[] = [];
    const at = this.now();
    const iso = new Date(at).toISOString();
    for (const row of rows) {
      const previous = row.status as ShipmentStatus;
      const status = this.next(previous);
      this.update.run(status, status, iso, row.shipment_number);
      changes.push(this.record(row, status, previous, at, iso));
    }
    for (let i = rows.length; i < count; i++) changes.push(this.createShipment(at, iso));
    return changes;
  }

  private next(from: ShipmentStatus): ShipmentStatus {
    const options = NEXT[from];
    let draw = this.random();
    for (const option of options) {
      if (draw < option.p) return option.to;
      draw -= option.p;
    }
    return options[0]!.to;
  }

  private createShipment(at: number, iso: string): ShipmentChange {
    const total = this.options.db.prepare('SELECT count(*) FROM customers').pluck().get() as number;
    if (total === 0) throw new Error('no customers in the ERP database: run npm run seed first');
    const customer = this.customers.pluck().get(Math.floor(this.random() * total)) as string;
    const shipmentNumber = `SHP-SIM-${randomUUID().slice(0, 13)}`;
    this.insertShipment.run(shipmentNumber, customer, iso);
    return this.record(
      {
        rowid: 0,
        shipment_number: shipmentNumber,
        customer_number: customer,
        status: null,
        carrier: 'DHL',
        destination_city: 'Lyon'
      },
      'Label Created',
      null,
      at,
      iso
    );
  }

  private record(
    row: ShipmentRow,
    status: ShipmentStatus,
    previous: ShipmentStatus | null,
    at: number,
    iso: string
  ): ShipmentChange {
    const change: ShipmentChange = {
      eventId: randomUUID(),
      shipmentNumber: row.shipment_number,
      customerNumber: row.customer_number,
      status,
      previousStatus: previous,
      carrier: row.carrier,
      destinationCity: row.destination_city,
      changedAt: at,
      correlationId: randomUUID()
    };
    this.enqueue.run(
      change.eventId,
      change.shipmentNumber,
      change.customerNumber,
      status,
      previous,
      JSON.stringify(shipmentEventPayload(change)),
      iso,
      iso
    );
    return change;
  }
}
