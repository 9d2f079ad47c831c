import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CheckpointStore } from '../../src/salesforce/pubsub';
import { closedWon, startPubSubFixture, TOPIC, type PubSubFixture } from './support';

/**
 * A crash between writing the invoice and writing the checkpoint: a real subscriber process is SIGKILLed while the
 * invoice of event 25 is written but its batch (and the checkpoint) is not committed. After a restart the batch is
 * delivered again from the last committed checkpoint, and every Opportunity has exactly one invoice.
 */

const CHILD = path.join(__dirname, 'crash-child.ts');
const CONSUMER = 'fire-and-forget-invoicing';

interface ChildMessage {
  kind: string;
  applied?: number;
  written?: number;
}

function startChild(fixture: PubSubFixture, extraEnv: Record<string, string> = {}) {
  const messages: ChildMessage[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      PATH: process.env.PATH,
      SF_PUBSUB_ENDPOINT: fixture.standIn.endpoint,
      SF_PUBSUB_CA_FILE: fixture.caFile,
      FIRE_AND_FORGET_BATCH_SIZE: '10',
      FIRE_AND_FORGET_START_FROM: 'EARLIEST',
      FIRE_AND_FORGET_WRITEBACK: 'false',
      CHILD_DATABASE_PATH: fixture.dbPath,
      CHILD_TOKEN: 'child-token',
      NODE_NO_WARNINGS: '1',
      ...extraEnv
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('message', (message: ChildMessage) => {
    messages.push(message);
    for (const listener of [...listeners]) listener();
  });
  const waitFor = (predicate: (m: ChildMessage) => boolean, timeoutMs = 20_000) =>
    new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no matching message; got ${JSON.stringify(messages)}; stderr ${stderr}`));
      }, timeoutMs);
      const check = () => {
        const found = messages.find(predicate);
        if (!found) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(found);
      };
      listeners.add(check);
      check();
    });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code))
  );
  return { child, waitFor, exited };
}

describe('fire-and-forget: crash between the invoice and the checkpoint', () => {
  let fixture: PubSubFixture;

  beforeAll(async () => {
    fixture = await startPubSubFixture();
    fixture.standIn.acceptToken('child-token');
  });

  afterAll(async () => {
    await fixture.close();
  });

  it('leaves exactly one invoice per Opportunity after the killed subscriber restarts', async () => {
    const published = fixture.standIn.publish(
      TOPIC,
      Array.from({ length: 50 }, (_, i) => closedWon(i + 1))
    );
    const first = startChild(fixture, { CRASH_AT: 'corr-25' });
    const written = await first.waitFor((m) => m.kind === 'invoice-written');
    expect(written.written).toBe(1);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    // What survived the crash: batches 1-2 (events 1-20) and their checkpoint; nothing of batch 3.
    const invoices = () =>
      fixture.db
        .prepare(
          "SELECT salesforce_opportunity_id FROM invoices WHERE invoice_number LIKE 'INV-F%'"
        )
        .pluck()
        .all() as string[];
    expect(invoices()).toHaveLength(20);
    expect(new CheckpointStore(fixture.db).get(CONSUMER)?.replayId).toBe(
      published[19]!.replayId.toString('hex')
    );

    const second = startChild(fixture);
    await second.waitFor((m) => m.kind === 'batch' && m.applied === 30);
    second.child.send({ kind: 'stop' });
    expect(await second.exited).toBe(0);

    const after = invoices();
    expect(after).toHaveLength(50);
    expect(new Set(after).size).toBe(50);
    expect(after).toContain(closedWon(25).Opportunity_Id__c);
    expect(new CheckpointStore(fixture.db).get(CONSUMER)?.replayId).toBe(
      published[49]!.replayId.toString('hex')
    );
  }, 60_000);
});
