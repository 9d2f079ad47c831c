import path from 'node:path';
import avro from 'avsc';
import type Database from 'better-sqlite3';
import { openDatabase, seedDatabase } from '../../src/db';
import { ConfigError } from '../../src/config';
import { loadUiUpdateConfig } from '../../src/ui-update/config';
import { outboxCounts, outboxRows } from '../../src/ui-update/outbox';
import { UiUpdateService } from '../../src/ui-update/service';
import { ShipmentSimulator } from '../../src/ui-update/simulator';
import { SMALL_SEED, tempDir } from '../support';
import { readContract, startShipmentEvents, type ShipmentEventsFixture } from './support';

/** A deterministic random source (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ShipmentSimulator', () => {
  let db: Database.Database;
  let cleanup: () => void;

  beforeEach(() => {
    const temp = tempDir('ui-update-sim-');
    cleanup = temp.cleanup;
    db = openDatabase(path.join(temp.dir, 'erp.sqlite'));
    seedDatabase(db, SMALL_SEED);
  });
  afterEach(() => {
    db.close();
    cleanup();
  });

  it('moves shipments one status further and writes each event to the outbox in the same transaction', () => {
    const simulator = new ShipmentSimulator({ db, random: seeded(1) });
    const statuses = readContract().event.statusValues;
    const changes = simulator.step(25);
    expect(changes).toHaveLength(25);
    for (const change of changes) {
      const row = db
        .prepare('SELECT status, customer_number FROM shipments WHERE shipment_number = ?')
        .get(change.shipmentNumber) as { status: string; customer_number: string };
      expect(row).toEqual({ status: change.status, customer_number: change.customerNumber });
      expect(statuses).toContain(change.status);
      expect(change.previousStatus).not.toBe(change.status);
    }
    expect(outboxCounts(db).pending).toBe(25);
    const payload = JSON.parse(
      db
        .prepare('SELECT payload_json FROM ui_update_outbox WHERE event_id = ?')
        .pluck()
        .get(changes[0]!.eventId) as string
    ) as Record<string, unknown>;
    expect(payload).toMatchObject({
      Shipment_Number__c: changes[0]!.shipmentNumber,
      ERP_Customer_Number__c: changes[0]!.customerNumber,
      Status__c: changes[0]!.status
    });
  });

  it('rolls the status change back with its event when the outbox write fails', () => {
    const simulator = new ShipmentSimulator({ db, random: seeded(2) });
    const before = db.prepare('SELECT shipment_number, status FROM shipments ORDER BY 1').all();
    db.exec(
      "CREATE TRIGGER fail_outbox BEFORE INSERT ON ui_update_outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    );
    expect(() => simulator.step(5)).toThrow(/disk full/);
    expect(db.prepare('SELECT shipment_number, status FROM shipments ORDER BY 1').all()).toEqual(
      before
    );
  });

  it('creates new shipments once none can move', () => {
    db.exec("UPDATE shipments SET status = 'Delivered'");
    const changes = new ShipmentSimulator({ db, random: seeded(3) }).step(3);
    expect(changes.map((c) => [c.status, c.previousStatus])).toEqual(
      Array(3).fill(['Label Created', null])
    );
    expect(
      db.prepare("SELECT count(*) FROM shipments WHERE status = 'Label Created'").pluck().get()
    ).toBe(3);
  });
});

describe('UiUpdateService against the local Pub/Sub API', () => {
  let fixture: ShipmentEventsFixture;
  let db: Database.Database;
  let cleanup: () => void;
  let service: UiUpdateService | undefined;
  const notes: string[] = [];
  const contract = readContract();
  const type = avro.Type.forSchema(contract.avroSchema as avro.Schema);

  const start = () => {
    service = new UiUpdateService({
      db,
      config: { ...fixture.config, maxAttempts: 2 },
      auth: () => fixture.auth,
      note: (message) => notes.push(message),
      random: seeded(4),
      tickMs: 20
    });
    return service;
  };

  beforeEach(async () => {
    fixture = await startShipmentEvents();
    const temp = tempDir('ui-update-svc-');
    cleanup = temp.cleanup;
    db = openDatabase(path.join(temp.dir, 'erp.sqlite'));
    seedDatabase(db, SMALL_SEED);
    notes.length = 0;
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
    db.close();
    cleanup();
    await fixture.close();
  });

  it('publishes each change with the contract Avro schema, and records its replay id', async () => {
    const svc = start();
    const changes = svc.step(30);
    await svc.drain();
    const stored = fixture.standIn.events(contract.event.topic);
    expect(stored.map((e) => e.id).sort()).toEqual(changes.map((c) => c.eventId).sort());
    const decoded = stored.map((e) => type.fromBuffer(e.payload) as Record<string, unknown>);
    const byId = new Map(changes.map((c) => [c.eventId, c]));
    stored.forEach((event, i) => {
      const change = byId.get(event.id)!;
      expect(decoded[i]).toMatchObject({
        Shipment_Number__c: change.shipmentNumber,
        ERP_Customer_Number__c: change.customerNumber,
        Status__c: change.status,
        Previous_Status__c: change.previousStatus,
        Status_Changed_At__c: change.changedAt
      });
    });
    expect(outboxCounts(db)).toMatchObject({ pending: 0, published: 30, rejected: 0, failed: 0 });
    const replayIds = db
      .prepare("SELECT replay_id FROM ui_update_outbox WHERE state = 'published'")
      .pluck()
      .all() as string[];
    expect(replayIds.every((id) => /^[0-9a-f]{16}$/.test(id))).toBe(true);
  });

  it('keeps a rejected event in the outbox, visible with its reason, and publishes it after a re-queue', async () => {
    fixture.standIn.rejectNextEvents(1, { code: 'COMMIT', msg: 'no space on the bus' });
    const svc = start();
    const [first] = svc.step(3);
    await svc.drain();
    expect(outboxCounts(db)).toMatchObject({ published: 2, rejected: 1 });
    const [rejected] = outboxRows(db, ['rejected', 'failed'], 10);
    expect(rejected).toMatchObject({
      eventId: first!.eventId,
      state: 'rejected',
      errorCode: 'COMMIT',
      errorMessage: 'no space on the bus'
    });
    expect(svc.status().lastError).toMatch(/COMMIT/);
    expect(notes).toContain('Shipment event rejected: COMMIT');

    expect(svc.requeue()).toBe(1);
    await svc.drain();
    expect(outboxCounts(db)).toMatchObject({ published: 3, rejected: 0, pending: 0 });
  });

  it('retries a transient failure and marks events failed only when the attempts run out', async () => {
    fixture.standIn.failNextPublishes(1);
    const svc = start();
    svc.step(4);
    await svc.drain();
    expect(outboxCounts(db)).toMatchObject({ published: 4, failed: 0 });
    expect(notes.some((note) => note.startsWith('Publish retry'))).toBe(true);

    fixture.standIn.failNextPublishes(10);
    svc.step(2);
    await svc.drain();
    expect(outboxCounts(db)).toMatchObject({ published: 4, failed: 2 });
    expect(outboxRows(db, ['failed'], 10).map((row) => row.errorCode)).toEqual([
      'UNAVAILABLE',
      'UNAVAILABLE'
    ]);
  });

  it('runs at the rate it is given and stops at 0', async () => {
    const svc = start();
    svc.start(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    svc.stop();
    await svc.drain();
    const made = svc.status().changes;
    // 200/s for ~0.3 s, ticking every 20 ms: about 60 changes (timers on a busy machine run late, never early).
    expect(made).toBeGreaterThanOrEqual(30);
    expect(made).toBeLessThanOrEqual(80);
    expect(svc.status().running).toBe(false);
    expect(outboxCounts(db).published).toBe(made);
  });
});

describe('loadUiUpdateConfig', () => {
  it('names every bad variable', () => {
    expect(() =>
      loadUiUpdateConfig({
        UI_UPDATE_TOPIC: 'Shipment',
        UI_UPDATE_BATCH_SIZE: '500',
        UI_UPDATE_MAX_REQUEST_BYTES: '5000000',
        UI_UPDATE_TRANSPORT: 'carrier-pigeon'
      })
    ).toThrow(ConfigError);
    try {
      loadUiUpdateConfig({ UI_UPDATE_TOPIC: 'Shipment', UI_UPDATE_BATCH_SIZE: '500' });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'UI_UPDATE_TOPIC must look like /event/Name__e, got "Shipment"',
        'UI_UPDATE_BATCH_SIZE must be between 1 and 200, got 500'
      ]);
    }
  });

  it('defaults to the contract topic, PublishStream and the documented limits', () => {
    const config = loadUiUpdateConfig({});
    const contract = readContract();
    expect(config).toMatchObject({
      topic: contract.event.topic,
      transport: 'stream',
      batchSize: contract.publishLimits.maxEventsPerRequest,
      maxRequestBytes: contract.publishLimits.maxBytesPerRequest,
      ratePerSecond: 1,
      autostart: false
    });
  });
});
