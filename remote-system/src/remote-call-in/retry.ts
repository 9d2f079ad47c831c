/**
 * When a call to the org may be repeated, and how long to wait first. Safe to repeat here means: the request
 * changes nothing twice (the order POST carries an Idempotency-Key that stays the same across its retries; the
 * Composite upsert matches on an external id), and the failure says nothing about the request itself.
 *
 * | what happened | retried? |
 * | --- | --- |
 * | network error, timeout | yes: the request may or may not have arrived; the key makes that harmless |
 * | 5xx | yes |
 * | 429 | yes, not before `Retry-After` |
 * | 401 | once, right away, after `SalesforceAuth.refresh` (and only where the auth mode can refresh) |
 * | any other 4xx | never: the same request would fail the same way |
 *
 * Waits grow exponentially with full jitter (a random time between 0 and `base * 2^(attempt-1)`, capped), so
 * many clients failing together do not come back together; attempts are bounded.
 */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Whether a status is worth another attempt (401 is handled apart, by a token refresh). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * The wait before attempt `attempt + 1`, or undefined when the server asks for longer than the policy allows
 * (the caller then stops and reports the server's answer). `retryAfter` is the header's raw value.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfter: string | null,
  random: () => number = Math.random,
  now: number = Date.now()
): number | undefined {
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return asked <= policy.maxDelayMs ? asked : undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as milliseconds: delay-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or bad. */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now()
): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
