import { LightningElement, api, wire } from 'lwc';
import { subscribe, unsubscribe, onError, isEmpEnabled } from 'lightning/empApi';
import { getRecord, getFieldValue, notifyRecordUpdateAvailable } from 'lightning/uiRecordApi';
import { RefreshEvent } from 'lightning/refresh';
import CUSTOMER_NUMBER_FIELD from '@salesforce/schema/Account.ERP_Customer_Number__c';

/** The ERP's shipment events (Shipment_Status_Changed__e) and the Account's Change Data Capture channel. */
const SHIPMENT_CHANNEL = '/event/Shipment_Status_Changed__e';
const ACCOUNT_CHANNEL = '/data/AccountChangeEvent';
/** -1: only events published from now on (the list shows live changes, not history). */
const REPLAY_FROM_TIP = -1;

const DEFAULT_MAX_ROWS = 20;
/** Messages kept while waiting for a frame (a background tab gets none): the newest win. */
const MAX_PENDING = 2000;
/** Event ids remembered to drop redeliveries (the stream is at-least-once). */
const MAX_SEEN = 1000;
/** Resubscribe after a streaming error: 1 s, 2 s, 4 s … capped at 30 s, with jitter, at most 8 tries. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const MAX_RETRIES = 8;
/**
 * Longest wait for a subscribe call. empApi reports a refused subscription (no access to the channel) through
 * `onError`; whether the promise `subscribe` returned settles then is not documented, so the component stops
 * waiting at that error or after this time, whichever comes first, and never stays stuck on a pending call.
 */
const SUBSCRIBE_TIMEOUT_MS = 15000;
/**
 * At most one refresh of the page's standard components per 5 s: refreshing a related list of external objects is
 * one OData callout per list, so a burst of shipment events must not turn into a burst of callouts.
 */
const REFRESH_INTERVAL_MS = 5000;

const STATUS_CLASSES = {
  Delivered: 'slds-badge slds-theme_success',
  Exception: 'slds-badge slds-theme_error',
  Returned: 'slds-badge slds-theme_warning'
};

/**
 * Live shipment tracker for the Account record page (UI Update Based on Data Changes).
 *
 * Subscribes through `lightning/empApi` to the ERP's `Shipment_Status_Changed__e` events and to the Account's
 * change events. Messages are queued and applied once per animation frame, so a burst of a thousand events renders
 * once, not a thousand times; the list is keyed by shipment number, newest first, bounded to `maxRows`, and keeps per
 * shipment the change with the latest time (events can arrive out of order or twice). An Account change made by
 * someone else, or a shipment change, tells the page's standard components to refresh (`lightning/refresh`), at
 * most once per 5 s.
 *
 * The connection is visible (Live / Connecting / Reconnecting / Offline) and announced in a polite live region. If
 * streaming is not available (`isEmpEnabled()` false) the component says so and subscribes to nothing. A streaming
 * error resubscribes with exponential backoff and jitter, up to 8 times, then offers a Reconnect button. The
 * component never holds two subscriptions to one channel and unsubscribes when it leaves the page: each browser tab
 * is one CometD client against the org's allocation.
 */
export default class ShipmentTracker extends LightningElement {
  @api recordId;

  _maxRows = DEFAULT_MAX_ROWS;
  @api
  get maxRows() {
    return this._maxRows;
  }
  set maxRows(value) {
    const number = Number(value);
    this._maxRows =
      Number.isInteger(number) && number >= 1 && number <= 100 ? number : DEFAULT_MAX_ROWS;
  }

  rows = [];
  /** 'connecting' | 'live' | 'reconnecting' | 'offline' | 'unavailable' */
  connectionState = 'connecting';
  accountChangesAvailable = true;
  announcement = '';
  retryAttempt = 0;
  retryDelaySeconds = 0;
  customerNumber;
  recordError;

  connected = false;
  subscriptions = {};
  /** Channel → function that ends the wait of its pending subscribe call with an error. */
  pendingSubscribes = {};
  subscribing;
  errorListenerRegistered = false;
  pending = [];
  seen = new Set();
  frame;
  retryTimer;
  refreshTimer;
  lastRefreshAt = 0;

  @wire(getRecord, { recordId: '$recordId', fields: [CUSTOMER_NUMBER_FIELD] })
  wiredAccount({ data, error }) {
    if (data) {
      const value = getFieldValue(data, CUSTOMER_NUMBER_FIELD);
      if (value !== this.customerNumber) {
        // Another customer number means other shipments: what was shown belongs to the old one.
        this.rows = [];
      }
      this.customerNumber = value || null;
      this.recordError = undefined;
      this.scheduleFlush();
    } else if (error) {
      this.recordError = 'The account could not be read, so its shipments cannot be matched.';
    }
  }

  connectedCallback() {
    this.connected = true;
    this.start();
  }

  disconnectedCallback() {
    this.connected = false;
    this.clearTimers();
    this.unsubscribeAll();
  }

  async start() {
    this.connectionState = 'connecting';
    let enabled = false;
    try {
      enabled = await isEmpEnabled();
    } catch {
      enabled = false;
    }
    if (!this.connected) {
      return;
    }
    if (!enabled) {
      this.connectionState = 'unavailable';
      return;
    }
    if (!this.errorListenerRegistered) {
      // onError has no way to unregister: register once per component and ignore errors once disconnected.
      this.errorListenerRegistered = true;
      onError((error) => this.handleStreamingError(error));
    }
    await this.subscribeAll();
  }

  /** Subscribes to each channel without a subscription; concurrent calls share one run (never subscribe twice). */
  subscribeAll() {
    if (!this.subscribing) {
      this.subscribing = this.doSubscribe().finally(() => {
        this.subscribing = undefined;
      });
    }
    return this.subscribing;
  }

  async doSubscribe() {
    try {
      await this.subscribeTo(SHIPMENT_CHANNEL, (message) => this.enqueue('shipment', message));
    } catch {
      this.scheduleRetry();
      return;
    }
    if (!this.connected) {
      return;
    }
    this.connectionState = 'live';
    this.retryAttempt = 0;
    try {
      await this.subscribeTo(ACCOUNT_CHANNEL, (message) => this.enqueue('account', message));
      this.accountChangesAvailable = true;
    } catch {
      // Typically the user lacks View All on Account (Ui_Update_Account_Changes): shipments stay live.
      this.accountChangesAvailable = false;
    }
  }

  async subscribeTo(channel, callback) {
    if (this.subscriptions[channel] || !this.connected) {
      return;
    }
    const subscription = await this.awaitSubscription(
      channel,
      subscribe(channel, REPLAY_FROM_TIP, callback)
    );
    if (!subscription) {
      throw new Error(`No subscription to ${channel}`);
    }
    if (!this.connected || this.subscriptions[channel]) {
      // Disconnected (or subscribed elsewhere) while the subscribe call was pending: give this one back.
      unsubscribe(subscription, () => {});
      return;
    }
    this.subscriptions[channel] = subscription;
  }

  /**
   * The answer to one subscribe call, or an error: the call's own rejection, a streaming error naming the channel
   * (`failPendingSubscribe`), or no answer within SUBSCRIBE_TIMEOUT_MS. A subscription that arrives after the wait
   * ended is given back at once.
   */
  awaitSubscription(channel, request) {
    return new Promise((resolve, reject) => {
      let done = false;
      let timer;
      let fail;
      const finish = (settle, value) => {
        if (done) {
          return;
        }
        done = true;
        clearTimeout(timer);
        if (this.pendingSubscribes[channel] === fail) {
          delete this.pendingSubscribes[channel];
        }
        settle(value);
      };
      fail = (error) => finish(reject, error);
      this.pendingSubscribes[channel] = fail;
      // eslint-disable-next-line @lwc/lwc/no-async-operation
      timer = setTimeout(
        () => fail(new Error(`No answer to the subscription to ${channel}`)),
        SUBSCRIBE_TIMEOUT_MS
      );
      Promise.resolve(request).then((subscription) => {
        if (done) {
          if (subscription) {
            unsubscribe(subscription, () => {});
          }
          return;
        }
        finish(resolve, subscription);
      }, fail);
    });
  }

  /** Ends the wait of a pending subscribe call on `channel` with `error`; false when none is pending. */
  failPendingSubscribe(channel, error) {
    const fail = channel ? this.pendingSubscribes[channel] : undefined;
    if (!fail) {
      return false;
    }
    fail(error);
    return true;
  }

  unsubscribeAll() {
    const subscriptions = Object.values(this.subscriptions);
    this.subscriptions = {};
    for (const subscription of subscriptions) {
      unsubscribe(subscription, () => {});
    }
  }

  /**
   * empApi reports errors of the page's one shared CometD connection to every listener. An error naming the
   * Account channel only costs the Account refreshes; an error naming another component's channel is not ours;
   * anything else (a failed handshake or connect, "403::Unknown client") may have dropped our subscriptions, so
   * they are given back and made again after a backoff.
   */
  handleStreamingError(error) {
    if (!this.connected || this.connectionState === 'unavailable') {
      return;
    }
    const channel = error && typeof error === 'object' ? error.subscription : undefined;
    if (this.failPendingSubscribe(channel, error)) {
      // The refusal of a subscribe call still in progress: the call's caller handles it.
      return;
    }
    if (channel === ACCOUNT_CHANNEL) {
      this.accountChangesAvailable = false;
      delete this.subscriptions[ACCOUNT_CHANNEL];
      return;
    }
    if (channel && channel !== SHIPMENT_CHANNEL) {
      return;
    }
    if (this.retryTimer) {
      return;
    }
    this.unsubscribeAll();
    this.scheduleRetry();
  }

  scheduleRetry() {
    if (!this.connected || this.retryTimer) {
      return;
    }
    if (this.retryAttempt >= MAX_RETRIES) {
      this.connectionState = 'offline';
      return;
    }
    this.retryAttempt += 1;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.retryAttempt - 1));
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.retryDelaySeconds = Math.ceil(delay / 1000);
    this.connectionState = 'reconnecting';
    // eslint-disable-next-line @lwc/lwc/no-async-operation
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.subscribeAll();
    }, delay);
  }

  handleReconnect() {
    this.clearRetryTimer();
    this.retryAttempt = 0;
    this.unsubscribeAll();
    this.connectionState = 'connecting';
    this.subscribeAll();
  }

  enqueue(kind, message) {
    if (!this.connected) {
      return;
    }
    this.pending.push({ kind, message });
    if (this.pending.length > MAX_PENDING) {
      this.pending.splice(0, this.pending.length - MAX_PENDING);
    }
    this.scheduleFlush();
  }

  scheduleFlush() {
    if (this.frame !== undefined || this.pending.length === 0) {
      return;
    }
    // eslint-disable-next-line @lwc/lwc/no-async-operation
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      this.flush();
    });
  }

  /** Applies every queued message in one pass: one assignment of `rows`, so one render per frame. */
  flush() {
    const items = this.pending;
    this.pending = [];
    const waiting = [];
    const byKey = new Map(this.rows.map((row) => [row.key, row]));
    let updates = 0;
    let last;
    let refresh = false;
    for (const item of items) {
      if (item.kind === 'account') {
        refresh = this.isChangeOfThisAccount(item.message) || refresh;
        continue;
      }
      const row = toRow(item.message);
      if (!row) {
        continue;
      }
      if (this.customerNumber === undefined) {
        // The account has not loaded yet: keep the event until it has.
        waiting.push(item);
        continue;
      }
      if (row.customerNumber !== this.customerNumber || this.seen.has(row.eventId)) {
        continue;
      }
      this.remember(row.eventId);
      const shown = byKey.get(row.key);
      if (shown && shown.changedAtMs > row.changedAtMs) {
        continue;
      }
      byKey.set(row.key, row);
      updates += 1;
      last = row;
    }
    this.pending = waiting.concat(this.pending);
    if (updates > 0) {
      this.rows = [...byKey.values()]
        .sort((a, b) => b.changedAtMs - a.changedAtMs)
        .slice(0, this._maxRows);
      this.announcement =
        updates === 1
          ? `Shipment ${last.shipmentNumber} is now ${last.status}.`
          : `${updates} shipment updates. Latest: ${last.shipmentNumber} is now ${last.status}.`;
      refresh = true;
    }
    if (refresh) {
      this.requestRefresh();
    }
  }

  isChangeOfThisAccount(message) {
    const header =
      message && message.data && message.data.payload && message.data.payload.ChangeEventHeader;
    if (!header) {
      return false;
    }
    const recordIds = Array.isArray(header.recordIds) ? header.recordIds : [];
    // Gap and overflow events carry no field values and may name no record: re-read to be safe.
    const gap = typeof header.changeType === 'string' && header.changeType.startsWith('GAP_');
    return gap || recordIds.some((id) => sameId(id, this.recordId));
  }

  remember(eventId) {
    if (!eventId) {
      return;
    }
    this.seen.add(eventId);
    if (this.seen.size > MAX_SEEN) {
      this.seen.delete(this.seen.values().next().value);
    }
  }

  /** Tells the page's standard components (and LDS) that the record changed, at most once per interval. */
  requestRefresh() {
    const wait = this.lastRefreshAt + REFRESH_INTERVAL_MS - Date.now();
    if (wait > 0) {
      if (!this.refreshTimer) {
        // eslint-disable-next-line @lwc/lwc/no-async-operation
        this.refreshTimer = setTimeout(() => {
          this.refreshTimer = undefined;
          this.refreshNow();
        }, wait);
      }
      return;
    }
    this.refreshNow();
  }

  refreshNow() {
    if (!this.connected) {
      return;
    }
    this.lastRefreshAt = Date.now();
    if (this.recordId) {
      notifyRecordUpdateAvailable([{ recordId: this.recordId }]).catch(() => {});
    }
    this.dispatchEvent(new RefreshEvent());
  }

  clearRetryTimer() {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  clearTimers() {
    this.clearRetryTimer();
    for (const channel of Object.keys(this.pendingSubscribes)) {
      this.failPendingSubscribe(channel, new Error('Disconnected'));
    }
    if (this.refreshTimer) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
    }
    if (this.frame !== undefined) {
      cancelAnimationFrame(this.frame);
      this.frame = undefined;
    }
    this.pending = [];
  }

  get isLive() {
    return this.connectionState === 'live';
  }

  get isOffline() {
    return this.connectionState === 'offline';
  }

  get isUnavailable() {
    return this.connectionState === 'unavailable';
  }

  get connectionLabel() {
    switch (this.connectionState) {
      case 'live':
        return 'Live';
      case 'reconnecting':
        return `Reconnecting in ${this.retryDelaySeconds} s (attempt ${this.retryAttempt} of ${MAX_RETRIES})`;
      case 'offline':
        return 'Offline';
      case 'unavailable':
        return 'Live updates not available';
      default:
        return 'Connecting';
    }
  }

  get connectionClass() {
    const theme = {
      live: 'slds-theme_success',
      reconnecting: 'slds-theme_warning',
      offline: 'slds-theme_error',
      unavailable: 'slds-theme_shade'
    }[this.connectionState];
    return `slds-badge ${theme || ''}`.trim();
  }

  get connectionIcon() {
    return this.connectionState === 'live' ? 'utility:success' : 'utility:offline';
  }

  get hasRows() {
    return this.rows.length > 0;
  }

  get noCustomerNumber() {
    return this.customerNumber === null;
  }

  get showEmpty() {
    return !this.hasRows && !this.noCustomerNumber && !this.isUnavailable;
  }

  get showAccountChangesNote() {
    return this.isLive && !this.accountChangesAvailable;
  }
}

/** A list row from an empApi message, or undefined when the message is not a usable shipment event. */
function toRow(message) {
  const data = message && message.data;
  const payload = data && data.payload;
  if (
    !payload ||
    typeof payload.Shipment_Number__c !== 'string' ||
    typeof payload.Status__c !== 'string'
  ) {
    return undefined;
  }
  const changedAtMs = toMillis(payload.Status_Changed_At__c) ?? toMillis(payload.CreatedDate) ?? 0;
  const event = data.event || {};
  return {
    key: payload.Shipment_Number__c,
    eventId:
      event.EventUuid || (event.replayId !== undefined ? `replay-${event.replayId}` : undefined),
    shipmentNumber: payload.Shipment_Number__c,
    customerNumber: payload.ERP_Customer_Number__c,
    status: payload.Status__c,
    previousStatus: payload.Previous_Status__c || '',
    carrier: payload.Carrier__c || '',
    destinationCity: payload.Destination_City__c || '',
    changedAt: changedAtMs ? new Date(changedAtMs).toISOString() : '',
    changedAtMs,
    statusClass: STATUS_CLASSES[payload.Status__c] || 'slds-badge',
    hasPrevious: Boolean(payload.Previous_Status__c)
  };
}

/** DateTime fields arrive as ISO strings over CometD (epoch milliseconds are accepted too). */
function toMillis(value) {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value;
  }
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/** Record ids compare on their first 15 characters (change events may carry either form). */
function sameId(a, b) {
  return (
    typeof a === 'string' && typeof b === 'string' && a.substring(0, 15) === b.substring(0, 15)
  );
}
