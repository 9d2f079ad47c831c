import { LightningElement } from 'lwc';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import status from '@salesforce/apex/BatchSyncAdminController.status';
import reprocessFailed from '@salesforce/apex/BatchSyncAdminController.reprocessFailed';
import runNow from '@salesforce/apex/BatchSyncAdminController.runNow';

/**
 * Admin card of the ERP customer sync: how many failures are open, whether a run is active, and two buttons:
 * "Reprocess failed records" (only the Accounts of open failures) and "Run full sync now". Both go through the
 * no-overlap guard in Apex, which refuses while a run is active; the card shows why.
 */
export default class BatchSyncAdmin extends LightningElement {
  openFailures = 0;
  running = false;
  busy = false;
  error;

  connectedCallback() {
    this.refresh();
  }

  get reprocessDisabled() {
    return this.busy || this.running || this.openFailures === 0;
  }

  get runDisabled() {
    return this.busy || this.running;
  }

  get statusText() {
    if (this.running) return 'A sync is running.';
    return this.openFailures === 1 ? '1 open failure.' : `${this.openFailures} open failures.`;
  }

  async refresh() {
    try {
      const result = await status();
      this.openFailures = result.openFailures;
      this.running = result.running;
      this.error = undefined;
    } catch (e) {
      this.error = messageOf(e);
    }
  }

  handleReprocess() {
    return this.start(reprocessFailed, 'Reprocessing started');
  }

  handleRunNow() {
    return this.start(runNow, 'Full sync started');
  }

  async start(action, title) {
    this.busy = true;
    try {
      const jobId = await action();
      this.dispatchEvent(
        new ShowToastEvent({ title, message: `Apex job ${jobId}`, variant: 'success' })
      );
      await this.refresh();
    } catch (e) {
      this.dispatchEvent(
        new ShowToastEvent({ title: 'Not started', message: messageOf(e), variant: 'error' })
      );
    } finally {
      this.busy = false;
    }
  }
}

function messageOf(error) {
  return error?.body?.message ?? error?.message ?? 'Unknown error';
}
