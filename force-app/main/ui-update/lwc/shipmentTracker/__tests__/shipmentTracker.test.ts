import { createElement } from 'lwc';
import ShipmentTracker from 'c/shipmentTracker';
import {
  isEmpEnabled,
  jestMockError,
  jestMockPublish,
  jestMockRefuseSubscribe,
  jestMockReset,
  jestMockSetEmpEnabled,
  jestMockSubscribedChannels,
  subscribe,
  unsubscribe
} from 'lightning/empApi';
import { getRecord, notifyRecordUpdateAvailable } from 'lightning/uiRecordApi';
import { flushPromises } from '../../../../../test/jest-utils/async';
import contract from '../../../staticresources/UiUpdateContract.json';

const ACCOUNT_ID = '001000000000001AAA';
const SHIPMENTS = contract.event.topic;
const ACCOUNT_CHANGES = contract.changeEvents.channel;
const CUSTOMER = contract.examples.inTransit.ERP_Customer_Number__c;

type Payload = Record<string, unknown>;

/** A shipment event as empApi delivers it, built from the contract's example message. */
function shipmentMessage(n: number, overrides: Payload = {}, eventOverrides: Payload = {}) {
  const example = contract.examples.empApiMessage;
  return {
    ...example,
    data: {
      ...example.data,
      payload: {
        ...example.data.payload,
        Shipment_Number__c: `SHP-${String(n).padStart(10, '0')}`,
        Status_Changed_At__c: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
        ...overrides
      },
      event: { replayId: 1000 + n, EventUuid: `uuid-${n}`, ...eventOverrides }
    }
  };
}

function accountChange(recordIds: string[], changeType = 'UPDATE') {
  const example = contract.examples.accountChangeMessage;
  return {
    ...example,
    data: {
      ...example.data,
      payload: {
        ...example.data.payload,
        ChangeEventHeader: { ...example.data.payload.ChangeEventHeader, recordIds, changeType }
      }
    }
  };
}

/** Animation frames are run by the test, so it sees exactly when the component renders. */
let frames: FrameRequestCallback[] = [];
function runFrames(): number {
  const due = frames;
  frames = [];
  due.forEach((callback) => callback(performance.now()));
  return due.length;
}

async function render(customerNumber: string | null = CUSTOMER): Promise<HTMLElement> {
  const element = createElement('c-shipment-tracker', { is: ShipmentTracker });
  Object.assign(element, { recordId: ACCOUNT_ID });
  document.body.appendChild(element);
  await flushPromises();
  (getRecord as unknown as { emit: (value: unknown) => void }).emit({
    id: ACCOUNT_ID,
    fields: { ERP_Customer_Number__c: { value: customerNumber } }
  });
  await flushPromises();
  return element;
}

function byId(element: HTMLElement, id: string): HTMLElement | null {
  return element.shadowRoot!.querySelector<HTMLElement>(`[data-id="${id}"]`);
}

function rows(element: HTMLElement): string[] {
  return [...element.shadowRoot!.querySelectorAll<HTMLElement>('[data-id="shipment-row"]')].map(
    (row) =>
      `${row.dataset.shipment}:${row.querySelector('[data-id="shipment-status"]')!.textContent}`
  );
}

function state(element: HTMLElement): string {
  return byId(element, 'connection-state')!.textContent!.replace(/\s+/g, ' ').trim();
}

describe('c-shipment-tracker', () => {
  beforeEach(() => {
    frames = [];
    // jsdom has no animation frames: the test plays the browser's part and runs them when it chooses.
    Object.assign(window, {
      requestAnimationFrame: jest.fn((callback: FrameRequestCallback) => {
        frames.push(callback);
        return frames.length;
      }),
      cancelAnimationFrame: jest.fn()
    });
  });

  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jestMockReset();
    (notifyRecordUpdateAvailable as jest.Mock).mockClear();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('subscribes once to the shipment event and the Account change channel, from the tip, and shows Live', async () => {
    const element = await render();
    expect(isEmpEnabled).toHaveBeenCalledTimes(1);
    expect(
      (subscribe as jest.Mock).mock.calls.map(([channel, replayId]) => [channel, replayId])
    ).toEqual([
      [SHIPMENTS, -1],
      [ACCOUNT_CHANGES, -1]
    ]);
    expect(jestMockSubscribedChannels()).toEqual([SHIPMENTS, ACCOUNT_CHANGES]);
    expect(state(element)).toBe('Live');
    expect(byId(element, 'empty')).not.toBeNull();
  });

  it("shows a message for this account's customer, newest first, and announces it politely", async () => {
    const element = await render();
    jestMockPublish(SHIPMENTS, shipmentMessage(1));
    jestMockPublish(SHIPMENTS, shipmentMessage(2, { Status__c: 'Delivered' }));
    expect(runFrames()).toBe(1);
    await flushPromises();
    expect(rows(element)).toEqual(['SHP-0000000002:Delivered', 'SHP-0000000001:In Transit']);
    const live = byId(element, 'announcement')!;
    expect(live.getAttribute('aria-live')).toBe('polite');
    expect(live.textContent).toBe('2 shipment updates. Latest: SHP-0000000002 is now Delivered.');
    expect(element.shadowRoot!.querySelector('ul')!.getAttribute('aria-label')).toBe(
      'Shipment status changes, newest first'
    );
  });

  it("does not show another account's shipment", async () => {
    const element = await render();
    jestMockPublish(SHIPMENTS, shipmentMessage(1, { ERP_Customer_Number__c: 'C-000999' }));
    runFrames();
    await flushPromises();
    expect(rows(element)).toEqual([]);
    expect(byId(element, 'empty')).not.toBeNull();
  });

  it('keeps events that arrive before the account has loaded, then filters them', async () => {
    const element = createElement('c-shipment-tracker', { is: ShipmentTracker });
    Object.assign(element, { recordId: ACCOUNT_ID });
    document.body.appendChild(element);
    await flushPromises();
    jestMockPublish(SHIPMENTS, shipmentMessage(1));
    jestMockPublish(SHIPMENTS, shipmentMessage(2, { ERP_Customer_Number__c: 'C-000999' }));
    runFrames();
    await flushPromises();
    expect(rows(element)).toEqual([]);
    (getRecord as unknown as { emit: (value: unknown) => void }).emit({
      id: ACCOUNT_ID,
      fields: { ERP_Customer_Number__c: { value: CUSTOMER } }
    });
    await flushPromises();
    runFrames();
    await flushPromises();
    expect(rows(element)).toEqual(['SHP-0000000001:In Transit']);
  });

  it('keeps the latest change per shipment and drops redeliveries', async () => {
    const element = await render();
    jestMockPublish(SHIPMENTS, shipmentMessage(5, { Status__c: 'Delivered' }));
    // An older change of the same shipment arriving late must not win.
    jestMockPublish(
      SHIPMENTS,
      shipmentMessage(
        5,
        { Status__c: 'In Transit', Status_Changed_At__c: '2025-12-31T00:00:00.000Z' },
        { EventUuid: 'old' }
      )
    );
    runFrames();
    await flushPromises();
    expect(rows(element)).toEqual(['SHP-0000000005:Delivered']);
    // The same event again (at-least-once delivery) changes nothing and is not announced again.
    const before = byId(element, 'announcement')!.textContent;
    jestMockPublish(SHIPMENTS, shipmentMessage(5, { Status__c: 'Delivered' }));
    runFrames();
    await flushPromises();
    expect(rows(element)).toEqual(['SHP-0000000005:Delivered']);
    expect(byId(element, 'announcement')!.textContent).toBe(before);
  });

  it('renders a burst of 1,000 messages once, in one frame, and keeps the list bounded', async () => {
    const element = await render();
    Object.assign(element, { maxRows: 20 });
    const list = element.shadowRoot!.querySelector('.slds-p-horizontal_medium')!;
    let renders = 0;
    const observer = new MutationObserver(() => {
      renders += 1;
    });
    observer.observe(list, { childList: true, subtree: true, characterData: true });
    const refreshes = jest.fn();
    element.addEventListener('lightning__refresh', refreshes);

    // CometD hands messages over one by one, across many tasks: ten chunks of 100 with turns in between.
    for (let chunk = 0; chunk < 10; chunk++) {
      for (let i = 0; i < 100; i++) {
        const n = chunk * 100 + i + 1;
        jestMockPublish(
          SHIPMENTS,
          shipmentMessage(n, { Status__c: n % 2 ? 'In Transit' : 'Delivered' })
        );
      }
      await flushPromises();
    }
    expect(renders).toBe(0);
    expect(rows(element)).toEqual([]);
    expect(window.requestAnimationFrame).toHaveBeenCalledTimes(1);

    expect(runFrames()).toBe(1);
    await flushPromises();
    observer.disconnect();
    expect(renders).toBe(1);
    const shown = rows(element);
    expect(shown).toHaveLength(20);
    expect(shown[0]).toBe('SHP-0000001000:Delivered');
    expect(shown[19]).toBe('SHP-0000000981:In Transit');
    expect(byId(element, 'announcement')!.textContent).toBe(
      '1000 shipment updates. Latest: SHP-0000001000 is now Delivered.'
    );
    // One refresh of the page's standard components for the whole burst.
    expect(refreshes).toHaveBeenCalledTimes(1);
    expect(notifyRecordUpdateAvailable).toHaveBeenCalledTimes(1);
    expect(frames).toHaveLength(0);
  });

  it("refreshes the page's standard components when this Account changes, not for another one", async () => {
    const element = await render();
    const refreshes = jest.fn();
    element.addEventListener('lightning__refresh', refreshes);
    jestMockPublish(ACCOUNT_CHANGES, accountChange(['001000000000999AAA']));
    runFrames();
    await flushPromises();
    expect(refreshes).not.toHaveBeenCalled();

    // Change events may carry the 15-character id.
    jestMockPublish(ACCOUNT_CHANGES, accountChange([ACCOUNT_ID.substring(0, 15)]));
    runFrames();
    await flushPromises();
    expect(refreshes).toHaveBeenCalledTimes(1);
    expect(notifyRecordUpdateAvailable).toHaveBeenCalledWith([{ recordId: ACCOUNT_ID }]);
  });

  it('resubscribes with backoff after a streaming error, without ever holding two subscriptions', async () => {
    jest.useFakeTimers({ doNotFake: ['requestAnimationFrame', 'cancelAnimationFrame'] });
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const element = await render();
    (subscribe as jest.Mock).mockClear();

    jestMockError({ channel: '/meta/connect', error: '403::Unknown client', successful: false });
    jestMockError({ channel: '/meta/connect', error: '403::Unknown client', successful: false });
    await flushPromises();
    expect(unsubscribe).toHaveBeenCalledTimes(2);
    expect(jestMockSubscribedChannels()).toEqual([]);
    expect(state(element)).toBe('Reconnecting in 1 s (attempt 1 of 8)');

    jest.advanceTimersByTime(499);
    await flushPromises();
    expect(subscribe).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    await flushPromises(8);
    expect((subscribe as jest.Mock).mock.calls.map(([channel]) => channel)).toEqual([
      SHIPMENTS,
      ACCOUNT_CHANGES
    ]);
    expect(jestMockSubscribedChannels()).toEqual([SHIPMENTS, ACCOUNT_CHANGES]);
    expect(state(element)).toBe('Live');

    // Messages flow on the new subscription.
    jestMockPublish(SHIPMENTS, shipmentMessage(7));
    runFrames();
    await flushPromises();
    expect(rows(element)).toEqual(['SHP-0000000007:In Transit']);
  });

  it('ignores errors about channels it does not own; an Account channel error only turns Account refreshes off', async () => {
    const element = await render();
    (subscribe as jest.Mock).mockClear();
    jestMockError({ subscription: '/event/Someone_Else__e', error: '403::denied' });
    jestMockError({ subscription: ACCOUNT_CHANGES, error: '403::Insufficient permissions' });
    await flushPromises();
    expect(subscribe).not.toHaveBeenCalled();
    expect(state(element)).toBe('Live');
    expect(byId(element, 'account-changes-off')).not.toBeNull();
    expect(jestMockSubscribedChannels()).toContain(SHIPMENTS);
  });

  it('stays live on shipments when the Account channel is refused at subscribe time', async () => {
    (subscribe as jest.Mock)
      .mockImplementationOnce(async (channel: string, replayId: number) => ({
        id: 's1',
        channel,
        replayId
      }))
      .mockImplementationOnce(async () => {
        throw new Error('403::Insufficient permissions: View All on Account');
      });
    const element = await render();
    expect(state(element)).toBe('Live');
    expect(byId(element, 'account-changes-off')).not.toBeNull();
  });

  it('a refused Account subscription whose call never answers turns Account refreshes off and blocks no reconnect', async () => {
    jest.useFakeTimers({ doNotFake: ['requestAnimationFrame', 'cancelAnimationFrame'] });
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const refusal = {
      channel: '/meta/subscribe',
      subscription: ACCOUNT_CHANGES,
      error: '403::Insufficient permissions',
      successful: false
    };
    jestMockRefuseSubscribe(ACCOUNT_CHANGES, refusal);
    const element = await render();
    await flushPromises(8);
    expect(state(element)).toBe('Live');
    expect(byId(element, 'account-changes-off')).not.toBeNull();
    expect(jestMockSubscribedChannels()).toEqual([SHIPMENTS]);

    // The connection drops: the component resubscribes after its backoff instead of waiting for the old call.
    (subscribe as jest.Mock).mockClear();
    jestMockError({ channel: '/meta/connect', error: '403::Unknown client', successful: false });
    await flushPromises();
    expect(state(element)).toBe('Reconnecting in 1 s (attempt 1 of 8)');
    jest.advanceTimersByTime(500);
    await flushPromises(8);
    expect((subscribe as jest.Mock).mock.calls.map(([channel]) => channel)).toEqual([
      SHIPMENTS,
      ACCOUNT_CHANGES
    ]);
    expect(jestMockSubscribedChannels()).toEqual([SHIPMENTS]);
    expect(state(element)).toBe('Live');
  });

  it('stops waiting for a subscribe call that never answers and tries again', async () => {
    jest.useFakeTimers({ doNotFake: ['requestAnimationFrame', 'cancelAnimationFrame'] });
    jest.spyOn(Math, 'random').mockReturnValue(0);
    (subscribe as jest.Mock).mockImplementationOnce(() => new Promise(() => undefined));
    const element = await render();
    expect(state(element)).toBe('Connecting');

    jest.advanceTimersByTime(14_999);
    await flushPromises(8);
    expect(state(element)).toBe('Connecting');
    jest.advanceTimersByTime(1);
    await flushPromises(8);
    expect(state(element)).toBe('Reconnecting in 1 s (attempt 1 of 8)');

    jest.advanceTimersByTime(500);
    await flushPromises(8);
    expect(state(element)).toBe('Live');
    expect(jestMockSubscribedChannels()).toEqual([SHIPMENTS, ACCOUNT_CHANGES]);
  });

  it('goes offline after the last retry, and Reconnect starts again', async () => {
    jest.useFakeTimers({ doNotFake: ['requestAnimationFrame', 'cancelAnimationFrame'] });
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const element = await render();
    (subscribe as jest.Mock).mockImplementation(async () => {
      throw new Error('handshake failed');
    });
    jestMockError({ channel: '/meta/handshake', error: '503::down' });
    for (let attempt = 1; attempt <= 8; attempt++) {
      await flushPromises();
      jest.advanceTimersByTime(30_000);
      await flushPromises(8);
    }
    expect(subscribe).toHaveBeenCalledTimes(2 + 8);
    expect(state(element)).toBe('Offline');
    expect(byId(element, 'offline')).not.toBeNull();

    (subscribe as jest.Mock).mockImplementation(async (channel: string, replayId: number) => ({
      id: `again-${channel}`,
      channel,
      replayId
    }));
    (byId(element, 'reconnect') as HTMLElement).click();
    await flushPromises(8);
    expect(state(element)).toBe('Live');
  });

  it('unsubscribes every channel when removed from the page, and gives back a subscription that resolves late', async () => {
    const element = await render();
    document.body.removeChild(element);
    await flushPromises();
    expect(unsubscribe).toHaveBeenCalledTimes(2);
    expect(jestMockSubscribedChannels()).toEqual([]);

    jestMockReset();
    let resolveLate!: (value: unknown) => void;
    (subscribe as jest.Mock).mockImplementationOnce(
      (channel: string, replayId: number) =>
        new Promise((resolve) => {
          resolveLate = () => resolve({ id: 'late', channel, replayId });
        })
    );
    const second = createElement('c-shipment-tracker', { is: ShipmentTracker });
    Object.assign(second, { recordId: ACCOUNT_ID });
    document.body.appendChild(second);
    await flushPromises();
    document.body.removeChild(second);
    resolveLate(undefined);
    await flushPromises();
    expect(unsubscribe).toHaveBeenCalledWith(
      expect.objectContaining({ id: 'late' }),
      expect.any(Function)
    );
  });

  it('says live updates are unavailable and subscribes to nothing when isEmpEnabled is false', async () => {
    jestMockSetEmpEnabled(false);
    const element = await render();
    expect(subscribe).not.toHaveBeenCalled();
    expect(state(element)).toBe('Live updates not available');
    expect(byId(element, 'unavailable')).not.toBeNull();
    expect(byId(element, 'empty')).toBeNull();
  });

  it('says so when the account has no ERP customer number', async () => {
    const element = await render(null);
    jestMockPublish(SHIPMENTS, shipmentMessage(1));
    runFrames();
    await flushPromises();
    expect(rows(element)).toEqual([]);
    expect(byId(element, 'no-customer')).not.toBeNull();
  });
});
