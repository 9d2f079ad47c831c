import type { IncomingHttpHeaders } from 'node:http';
import type { FaultProfile } from '../pattern-module';

/**
 * Fault injection for the request-and-reply endpoints: the console's per-pattern profile (`FaultSettings`), overridden
 * per request by headers so a demo or a test can provoke one outcome without touching the shared knobs:
 *
 * | header               | effect                                                       |
 * |----------------------|--------------------------------------------------------------|
 * | `X-Fault-Latency-Ms` | wait this long before answering (0–130000)                    |
 * | `X-Fault-Status`     | answer with this error status (400–599) on every request      |
 * | `X-Fault-Error-Rate` | fraction 0–1 of requests answered with the error status       |
 * | `X-Fault-Hang`       | `true`: never answer until the client gives up                 |
 *
 * Kept behind these two small functions so the module can switch to the server's shared `applyFaults` helper
 * without touching the routes.
 */

export const FAULT_HEADERS = {
  latencyMs: 'x-fault-latency-ms',
  status: 'x-fault-status',
  errorRate: 'x-fault-error-rate',
  hang: 'x-fault-hang'
} as const;

/** Longest added latency or hang: just past the Continuation's 120 s ceiling, so Salesforce always gives up first. */
export const MAX_FAULT_WAIT_MS = 130_000;

export interface FaultPlan {
  latencyMs: number;
  hang: boolean;
  /** Status to answer with instead of the real reply, or null to answer normally. */
  errorStatus: number | null;
}

export interface FieldError {
  field: string;
  message: string;
}

export type FaultPlanResult =
  { ok: true; plan: FaultPlan } | { ok: false; fieldErrors: FieldError[] };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Combines the console profile with the request's fault headers into one plan. `random` is injectable so tests can
 * pin the error-rate draw.
 */
export function planFaults(
  profile: FaultProfile,
  headers: IncomingHttpHeaders,
  random: () => number = Math.random
): FaultPlanResult {
  const fieldErrors: FieldError[] = [];
  let latencyMs = profile.latencyMs;
  let errorStatus = profile.errorStatus;
  let errorRate = profile.errorRate;
  let hang = profile.hang;

  const latencyHeader = header(headers, FAULT_HEADERS.latencyMs);
  if (latencyHeader !== undefined) {
    const value = Number(latencyHeader);
    if (!Number.isInteger(value) || value < 0 || value > MAX_FAULT_WAIT_MS) {
      fieldErrors.push({
        field: `headers.${FAULT_HEADERS.latencyMs}`,
        message: `must be an integer from 0 to ${MAX_FAULT_WAIT_MS}`
      });
    } else {
      latencyMs = value;
    }
  }
  const statusHeader = header(headers, FAULT_HEADERS.status);
  if (statusHeader !== undefined) {
    const value = Number(statusHeader);
    if (!Number.isInteger(value) || value < 400 || value > 599) {
      fieldErrors.push({
        field: `headers.${FAULT_HEADERS.status}`,
        message: 'must be an integer from 400 to 599'
      });
    } else {
      errorStatus = value;
      errorRate = 1;
    }
  }
  const rateHeader = header(headers, FAULT_HEADERS.errorRate);
  if (rateHeader !== undefined) {
    const value = Number(rateHeader);
    if (rateHeader.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
      fieldErrors.push({
        field: `headers.${FAULT_HEADERS.errorRate}`,
        message: 'must be a number from 0 to 1'
      });
    } else {
      errorRate = value;
    }
  }
  const hangHeader = header(headers, FAULT_HEADERS.hang);
  if (hangHeader !== undefined) {
    if (hangHeader !== 'true' && hangHeader !== 'false') {
      fieldErrors.push({
        field: `headers.${FAULT_HEADERS.hang}`,
        message: 'must be true or false'
      });
    } else {
      hang = hangHeader === 'true';
    }
  }
  if (fieldErrors.length > 0) {
    return { ok: false, fieldErrors };
  }
  const failing = errorRate > 0 && random() < errorRate;
  return { ok: true, plan: { latencyMs, hang, errorStatus: failing ? errorStatus : null } };
}

/**
 * Waits `ms`, or until `signal` aborts (the client went away), whichever comes first. Resolves true when the full
 * time elapsed.
 */
export function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) {
    return Promise.resolve(!signal.aborted);
  }
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
