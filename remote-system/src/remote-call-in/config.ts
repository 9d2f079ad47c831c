import { EnvReader, type Env } from '../config';

/**
 * Settings of the Remote Call-In client (`.env.example`, section "Remote Call-In"). Where the org is comes from the
 * shared `SF_*` settings (`src/config.ts`); these only shape how the ERP calls it.
 */
export interface CallInConfig {
  /** Most attempts per request, the first included (1 = never retry). */
  readonly maxAttempts: number;
  /** Milliseconds before one attempt is abandoned (and, being safe to repeat, retried). */
  readonly timeoutMs: number;
  /** First backoff step; attempt n waits a random time up to `baseDelayMs * 2^(n-1)` (full jitter). */
  readonly baseDelayMs: number;
  /** Ceiling of any wait, `Retry-After` included: a server asking for longer ends the retries. */
  readonly maxDelayMs: number;
  /** Orders per request (the API accepts at most 200). */
  readonly batchSize: number;
}

/** Reads `CALL_IN_*` with the shared `EnvReader`; throws a `ConfigError` naming every bad variable. */
export function loadRemoteCallInConfig(env: Env = process.env): CallInConfig {
  const reader = new EnvReader(env);
  const config: CallInConfig = {
    maxAttempts: reader.integer('CALL_IN_MAX_ATTEMPTS', 5, 1, 10),
    timeoutMs: reader.integer('CALL_IN_TIMEOUT_MS', 30_000, 100, 120_000),
    baseDelayMs: reader.integer('CALL_IN_BASE_DELAY_MS', 500, 1, 60_000),
    maxDelayMs: reader.integer('CALL_IN_MAX_DELAY_MS', 30_000, 1, 300_000),
    batchSize: reader.integer('CALL_IN_BATCH_SIZE', 200, 1, 200)
  };
  reader.throwIfInvalid();
  return config;
}
