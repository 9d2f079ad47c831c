/**
 * The console's traffic log: a fixed ring buffer (oldest events overwritten, order kept across the wrap), ids that
 * keep counting, ISO timestamps made on read from the time of recording, and subscribers that see each event once.
 */
import { TrafficLog } from '../src/traffic';

function request(n: number) {
  return {
    kind: 'request' as const,
    pattern: 'data-virtualization',
    method: 'GET',
    path: `/r/${n}`,
    status: 200,
    durationMs: 1,
    correlationId: `c-${n}`
  };
}

describe('TrafficLog', () => {
  it('keeps the latest `capacity` events, oldest first, across many wraps', () => {
    const log = new TrafficLog(3);
    expect(log.recent()).toEqual([]);
    log.record(request(1));
    log.record(request(2));
    expect(log.recent().map((e) => e.id)).toEqual([1, 2]);
    for (let n = 3; n <= 11; n++) log.record(request(n));
    expect(log.recent().map((e) => e.id)).toEqual([9, 10, 11]);
    expect(log.recent().map((e) => (e.kind === 'request' ? e.path : ''))).toEqual([
      '/r/9',
      '/r/10',
      '/r/11'
    ]);
    expect(log.recent(9).map((e) => e.id)).toEqual([10, 11]);
    expect(log.recent(11)).toEqual([]);
  });

  it('stamps the time of recording, not of reading, as an ISO timestamp; reads return the same object', () => {
    jest.useFakeTimers({ now: Date.parse('2026-01-02T03:04:05.678Z') });
    try {
      const log = new TrafficLog(2);
      log.note('system', 'hello', { a: 1 });
      jest.setSystemTime(Date.parse('2026-01-02T09:00:00.000Z'));
      const [first] = log.recent();
      expect(first).toEqual({
        kind: 'note',
        pattern: 'system',
        message: 'hello',
        details: { a: 1 },
        id: 1,
        at: '2026-01-02T03:04:05.678Z'
      });
      expect(log.recent()[0]).toBe(first);
    } finally {
      jest.useRealTimers();
    }
  });

  it('publishes each event to subscribers at once, survives a throwing one, and stops after unsubscribe', () => {
    const log = new TrafficLog(2);
    const seen: number[] = [];
    const stop = log.subscribe((e) => seen.push(e.id));
    log.subscribe(() => {
      throw new Error('broken subscriber');
    });
    log.record(request(1));
    expect(seen).toEqual([1]);
    expect(log.recent()[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    stop();
    log.record(request(2));
    expect(seen).toEqual([1]);
    expect(log.subscriberCount).toBe(1);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new TrafficLog(0)).toThrow(RangeError);
    expect(() => new TrafficLog(1.5)).toThrow(RangeError);
  });
});
