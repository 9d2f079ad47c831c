import { isRetryableStatus, parseRetryAfter, retryDelayMs } from '../../src/remote-call-in/retry';
import { loadRemoteCallInConfig } from '../../src/remote-call-in/config';

describe('retry rules', () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('retries 429 and 5xx only', () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 409, 413, 415].some(isRetryableStatus)).toBe(false);
  });

  it('grows the ceiling exponentially, with full jitter, capped', () => {
    expect(retryDelayMs(policy, 1, null, () => 0.999)).toBe(99);
    expect(retryDelayMs(policy, 3, null, () => 0.999)).toBe(399);
    expect(retryDelayMs(policy, 9, null, () => 0.999)).toBe(999);
    expect(retryDelayMs(policy, 3, null, () => 0)).toBe(0);
  });

  it('honours Retry-After in seconds or as a date, and refuses one beyond the ceiling', () => {
    const now = Date.parse('2026-11-01T00:00:00Z');
    expect(retryDelayMs(policy, 1, '1', Math.random, now)).toBe(1_000);
    expect(parseRetryAfter('Sun, 01 Nov 2026 00:00:02 GMT', now)).toBe(2_000);
    expect(retryDelayMs(policy, 1, '2', Math.random, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('reads CALL_IN_* with defaults and names a bad one', () => {
    expect(loadRemoteCallInConfig({})).toEqual({
      maxAttempts: 5,
      timeoutMs: 30_000,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      batchSize: 200
    });
    expect(() => loadRemoteCallInConfig({ CALL_IN_BATCH_SIZE: '201' })).toThrow(
      /CALL_IN_BATCH_SIZE/
    );
  });
});
