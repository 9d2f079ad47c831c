/**
 * The asynchronous helpers every LWC Jest test of the kit uses, written once.
 *
 * `flushPromises` lets promise callbacks that are already queued run, and with them the re-render they cause:
 * an LWC re-renders in a microtask after a tracked field changes, and an imperative Apex call resolves over a
 * few chained promises. `deferred` gives a test a promise it settles itself, to look at a component while its
 * call is still pending (a spinner, a disabled button) and then finish the call.
 */

/** Default number of microtask turns: enough for an Apex promise chain and the re-render it triggers. */
export const FLUSH_ROUNDS = 4;

/** Waits for `rounds` microtask turns (no timers, so it works with real and fake timers alike). */
export async function flushPromises(rounds: number = FLUSH_ROUNDS): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await Promise.resolve();
  }
}

/** A promise and the functions that settle it, for a call the test finishes when it chooses. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/** A new pending {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
