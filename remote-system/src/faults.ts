import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, sendError, type FieldProblem } from './http/errors';
import type { FaultProfile, FaultSettings, TrafficRecorder } from './pattern-module';

/**
 * Fault injection shared by every pattern: the console's per-pattern knobs, overridden per request by headers so a
 * demo or a test can provoke one outcome without touching the shared settings.
 *
 * | header               | effect                                                                 |
 * |----------------------|------------------------------------------------------------------------|
 * | `X-Fault-Latency-Ms` | wait this long before answering (0–130000)                              |
 * | `X-Fault-Status`     | answer with this error status (400–599), every time                     |
 * | `X-Fault-Error-Rate` | fraction 0–1 of requests answered with the error status                 |
 * | `X-Fault-Hang`       | `true`: no answer until the caller gives up (or 130 s, then a 504)      |
 */
export const FAULT_HEADERS = {
  latencyMs: 'x-fault-latency-ms',
  status: 'x-fault-status',
  errorRate: 'x-fault-error-rate',
  hang: 'x-fault-hang'
} as const;

/** Longest latency or hang: just past Salesforce's 120 s callout ceiling, so the org always gives up first. */
export const MAX_FAULT_WAIT_MS = 130_000;

export const DEFAULT_FAULT_PROFILE: FaultProfile = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 503,
  hang: false
});

/** Checks a (partial) profile; returns the problems, empty when valid. */
export function faultProfileProblems(profile: Partial<FaultProfile>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const { latencyMs, errorRate, errorStatus, hang } = profile;
  if (
    latencyMs !== undefined &&
    (!Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > MAX_FAULT_WAIT_MS)
  ) {
    problems.push({
      field: 'latencyMs',
      reason: `must be a whole number from 0 to ${MAX_FAULT_WAIT_MS}`
    });
  }
  if (
    errorRate !== undefined &&
    !(Number.isFinite(errorRate) && errorRate >= 0 && errorRate <= 1)
  ) {
    problems.push({ field: 'errorRate', reason: 'must be a number from 0 to 1' });
  }
  if (
    errorStatus !== undefined &&
    (!Number.isInteger(errorStatus) || errorStatus < 400 || errorStatus > 599)
  ) {
    problems.push({ field: 'errorStatus', reason: 'must be a whole number from 400 to 599' });
  }
  if (hang !== undefined && typeof hang !== 'boolean') {
    problems.push({ field: 'hang', reason: 'must be true or false' });
  }
  return problems;
}

/** In-memory fault knobs per pattern (reset on restart: they are a demo tool, not configuration). */
export class InMemoryFaultSettings implements FaultSettings {
  private readonly profiles = new Map<string, FaultProfile>();
  private readonly waiting = new Set<AbortController>();
  private readonly listeners = new Set<(pattern: string, profile: FaultProfile) => void>();

  get(pattern: string): FaultProfile {
    return this.profiles.get(pattern) ?? DEFAULT_FAULT_PROFILE;
  }

  /** Merges `profile` into the pattern's knobs; throws a RangeError naming the bad fields. */
  set(pattern: string, profile: Partial<FaultProfile>): FaultProfile {
    const problems = faultProfileProblems(profile);
    if (problems.length > 0) {
      throw new RangeError(problems.map((p) => `${p.field} ${p.reason}`).join('; '));
    }
    const defined = Object.fromEntries(
      Object.entries(profile).filter(([, value]) => value !== undefined)
    ) as Partial<FaultProfile>;
    const next = Object.freeze({ ...this.get(pattern), ...defined });
    this.profiles.set(pattern, next);
    for (const listener of this.listeners) listener(pattern, next);
    return next;
  }

  /** Every pattern whose knobs differ from the defaults. */
  entries(): [string, FaultProfile][] {
    return [...this.profiles.entries()];
  }

  onChange(listener: (pattern: string, profile: FaultProfile) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tracks a pending latency/hang so shutdown can release it instead of waiting up to 130 s. */
  track(controller: AbortController): () => void {
    this.waiting.add(controller);
    return () => this.waiting.delete(controller);
  }

  /** Ends every pending wait (called when the server closes). */
  releaseAll(): void {
    for (const controller of this.waiting) controller.abort();
    this.waiting.clear();
  }
}

export interface FaultPlan {
  readonly latencyMs: number;
  readonly hang: boolean;
  /** Status to answer with instead of the real reply, or null to answer normally. */
  readonly errorStatus: number | null;
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Combines the console profile and the request's fault headers into one plan (or the header problems). */
export function planFaults(
  profile: FaultProfile,
  request: FastifyRequest,
  random: () => number = Math.random
): { ok: true; plan: FaultPlan } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  let { latencyMs, errorRate, errorStatus, hang } = profile;

  const latency = headerValue(request, FAULT_HEADERS.latencyMs);
  if (latency !== undefined) {
    const value = /^\d+$/.test(latency.trim()) ? Number(latency) : NaN;
    if (Number.isInteger(value) && value <= MAX_FAULT_WAIT_MS) latencyMs = value;
    else
      problems.push({
        field: `header.${FAULT_HEADERS.latencyMs}`,
        reason: `must be a whole number from 0 to ${MAX_FAULT_WAIT_MS}`
      });
  }
  const status = headerValue(request, FAULT_HEADERS.status);
  if (status !== undefined) {
    const value = /^\d{3}$/.test(status.trim()) ? Number(status) : NaN;
    if (value >= 400 && value <= 599) {
      errorStatus = value;
      errorRate = 1;
    } else {
      problems.push({
        field: `header.${FAULT_HEADERS.status}`,
        reason: 'must be a whole number from 400 to 599'
      });
    }
  }
  const rate = headerValue(request, FAULT_HEADERS.errorRate);
  if (rate !== undefined) {
    const value = rate.trim() === '' ? NaN : Number(rate);
    if (Number.isFinite(value) && value >= 0 && value <= 1) errorRate = value;
    else
      problems.push({
        field: `header.${FAULT_HEADERS.errorRate}`,
        reason: 'must be a number from 0 to 1'
      });
  }
  const hangHeader = headerValue(request, FAULT_HEADERS.hang)?.trim().toLowerCase();
  if (hangHeader !== undefined) {
    if (hangHeader === 'true' || hangHeader === '1') hang = true;
    else if (hangHeader === 'false' || hangHeader === '0') hang = false;
    else problems.push({ field: `header.${FAULT_HEADERS.hang}`, reason: 'must be true or false' });
  }
  if (problems.length > 0) return { ok: false, problems };
  const failing = errorRate > 0 && random() < errorRate;
  return { ok: true, plan: { latencyMs, hang, errorStatus: failing ? errorStatus : null } };
}

/** A profile that injects nothing (what {@link planFaults} turns into a plan that does nothing). */
function isQuiet(profile: FaultProfile): boolean {
  return profile.latencyMs === 0 && profile.errorRate === 0 && !profile.hang;
}

function hasFaultHeader(request: FastifyRequest): boolean {
  const headers = request.headers;
  return (
    headers[FAULT_HEADERS.latencyMs] !== undefined ||
    headers[FAULT_HEADERS.status] !== undefined ||
    headers[FAULT_HEADERS.errorRate] !== undefined ||
    headers[FAULT_HEADERS.hang] !== undefined
  );
}

/** Waits `ms` or until `signal` aborts; resolves true when the full time elapsed. */
export function waitFor(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface ApplyFaultsOptions {
  /** The console knobs (`deps.faults`); without them only the request's fault headers apply. */
  readonly faults?: FaultSettings;
  /** Where injected faults are noted for the console's live view (`deps.traffic`). */
  readonly traffic?: TrafficRecorder;
  readonly random?: () => number;
  readonly maxHangMs?: number;
}

/**
 * Applies the console knobs and the request's fault headers for `pattern`. Returns true when the reply has been
 * dealt with (an injected error sent, bad fault headers answered with 400, or the caller hung up). Patterns call it
 * through their dependencies, which bind the pattern name, the server's knobs and its traffic log:
 *
 * ```ts
 * if (await deps.applyFaults(request, reply)) return reply;
 * ```
 *
 * A pending latency or hang is registered with `faults.track` (when the settings offer it) so that closing the
 * server ends it at once instead of waiting up to 130 s.
 */
export async function applyFaults(
  pattern: string,
  request: FastifyRequest,
  reply: FastifyReply,
  options: ApplyFaultsOptions = {}
): Promise<boolean> {
  const settings = options.faults;
  const traffic = options.traffic;
  const profile = settings?.get(pattern) ?? DEFAULT_FAULT_PROFILE;
  // The usual case, on every request of every pattern: no knob turned and no fault header, so nothing to plan.
  if (isQuiet(profile) && !hasFaultHeader(request)) return false;
  const result = planFaults(profile, request, options.random);
  if (!result.ok) {
    sendError(
      request,
      reply,
      400,
      ERROR_CODES.VALIDATION_FAILED,
      'Invalid fault headers.',
      result.problems
    );
    return true;
  }
  const { plan } = result;
  if (!plan.hang && plan.latencyMs === 0 && plan.errorStatus === null) return false;

  const gone = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) gone.abort();
  };
  reply.raw.once('close', onClose);
  const untrack = settings?.track?.(gone) ?? (() => undefined);
  try {
    if (plan.hang) {
      const maxHangMs = options.maxHangMs ?? MAX_FAULT_WAIT_MS;
      traffic?.note(pattern, 'Hanging until the caller gives up', { url: request.url });
      await waitFor(maxHangMs, gone.signal);
      if (reply.raw.destroyed) {
        reply.hijack();
        return true;
      }
      sendError(
        request,
        reply,
        504,
        ERROR_CODES.INJECTED_FAULT,
        `Injected hang: no answer for ${maxHangMs} ms.`
      );
      return true;
    }
    if (plan.latencyMs > 0 && !(await waitFor(plan.latencyMs, gone.signal))) {
      if (reply.raw.destroyed) {
        reply.hijack();
        return true;
      }
    }
    if (plan.errorStatus !== null) {
      traffic?.note(pattern, `Injected HTTP ${plan.errorStatus}`, { url: request.url });
      sendError(
        request,
        reply,
        plan.errorStatus,
        ERROR_CODES.INJECTED_FAULT,
        `Injected fault: HTTP ${plan.errorStatus}.`
      );
      return true;
    }
    return false;
  } finally {
    untrack();
    reply.raw.removeListener('close', onClose);
  }
}
