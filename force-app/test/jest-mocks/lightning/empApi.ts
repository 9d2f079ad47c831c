/**
 * Jest mock of `lightning/empApi` (mapped in jest.config.js). Unlike the sfdx-lwc-jest stub it keeps the
 * subscriptions, so a test can push a message to the component's callback (`jestMockPublish`) or raise a
 * streaming error (`jestMockError`). The exported functions are `jest.fn`s: assert on their calls; call
 * `jestMockReset()` in `afterEach` (`jest.resetAllMocks()` would drop the implementations).
 *
 * What the real module does, as far as its documentation and Streaming API say: `subscribe` resolves to an object
 * with `id`, `channel` and `replayId`; messages reach the callback as `{ channel, data: { schema, payload, event:
 * { replayId, EventUuid? } } }`; errors of the page's one CometD connection (failed handshake or connect, a refused
 * subscription) reach every `onError` listener as the Bayeux reply (`{ channel: '/meta/subscribe', subscription,
 * error: '403::…', successful: false }`). Whether the `subscribe` promise settles when the server refuses the
 * subscription is not documented: `jestMockRefuseSubscribe` plays the hardest case (the error reaches the
 * listeners and the promise never settles).
 */

export interface EmpSubscription {
  id: string;
  channel: string;
  replayId: number;
}

export type EmpMessageCallback = (message: unknown) => void;
export type EmpErrorCallback = (error: unknown) => void;

const subscriptions = new Map<
  string,
  { subscription: EmpSubscription; callback: EmpMessageCallback }
>();
const errorCallbacks: EmpErrorCallback[] = [];
const refusals = new Map<string, unknown>();
let nextId = 1;
let enabled = true;

export const subscribe = jest.fn(
  async (
    channel: string,
    replayId: number,
    callback: EmpMessageCallback
  ): Promise<EmpSubscription> => {
    if (refusals.has(channel)) {
      const error = refusals.get(channel);
      void Promise.resolve().then(() => jestMockError(error));
      return new Promise<EmpSubscription>(() => undefined);
    }
    const subscription: EmpSubscription = { id: `subscription-${nextId++}`, channel, replayId };
    subscriptions.set(subscription.id, { subscription, callback });
    return subscription;
  }
);

export const unsubscribe = jest.fn(
  async (
    subscription: EmpSubscription | undefined,
    callback?: (response: unknown) => void
  ): Promise<boolean> => {
    const removed = subscription !== undefined && subscriptions.delete(subscription.id);
    callback?.({ successful: removed, subscription: subscription?.channel });
    return removed;
  }
);

export const onError = jest.fn((callback: EmpErrorCallback): void => {
  errorCallbacks.push(callback);
});

export const setDebugFlag = jest.fn(async (_flag: boolean): Promise<void> => undefined);

export const isEmpEnabled = jest.fn(async (): Promise<boolean> => enabled);

/**
 * Delivers a message to every active subscription on `channel`.
 * @returns how many subscriptions received it
 */
export function jestMockPublish(channel: string, message: unknown): number {
  let delivered = 0;
  for (const { subscription, callback } of subscriptions.values()) {
    if (subscription.channel === channel) {
      callback(message);
      delivered += 1;
    }
  }
  return delivered;
}

/** Calls every callback registered with `onError`. */
export function jestMockError(error: unknown): void {
  for (const callback of errorCallbacks) {
    callback(error);
  }
}

/** Channels with an active subscription, in subscription order. */
export function jestMockSubscribedChannels(): string[] {
  return [...subscriptions.values()].map(({ subscription }) => subscription.channel);
}

/**
 * Makes the server refuse every later subscription to `channel` (until `jestMockReset`): `subscribe` reports
 * `error` to the `onError` listeners in a later microtask and returns a promise that never settles.
 */
export function jestMockRefuseSubscribe(channel: string, error: unknown): void {
  refusals.set(channel, error);
}

/** Makes `isEmpEnabled` resolve to the given value (true by default). */
export function jestMockSetEmpEnabled(value: boolean): void {
  enabled = value;
}

/** Forgets subscriptions and error callbacks and clears the call records of the mock functions. */
export function jestMockReset(): void {
  subscriptions.clear();
  errorCallbacks.length = 0;
  refusals.clear();
  nextId = 1;
  enabled = true;
  subscribe.mockClear();
  unsubscribe.mockClear();
  onError.mockClear();
  setDebugFlag.mockClear();
  isEmpEnabled.mockClear();
}
