import { runSubscriberCli } from '../salesforce/pubsub/subscriber-cli';
import { loadFireAndForgetConfig } from './config';
import { startInvoiceSubscriber } from './runner';
import { readStatus } from './status';

/**
 * `npm run subscribe`: runs the Fire and Forget subscriber against the org in the `SF_*` settings (or a local
 * stand-in through `SF_PUBSUB_ENDPOINT` + `SF_PUBSUB_CA_FILE`), printing each batch, dead letter, reconnect and
 * write-back, and the totals every 10 seconds and on Ctrl+C.
 */
runSubscriberCli(
  () => loadFireAndForgetConfig(),
  ({ auth, db, print }, config) => {
    print(`subscribing ${config.consumerName} to ${config.topic} at ${config.pubsub.endpoint}`);
    const running = startInvoiceSubscriber({
      config,
      db,
      auth,
      onNotify: (n) => {
        if (n.kind !== 'keepalive') print(`[${n.kind}] ${n.message}`);
      },
      onWriteBack: (r) => print(`[write-back] ${r.succeeded}/${r.sent} Opportunities updated`)
    });
    const totals = () => {
      const s = readStatus(db, config.consumerName, config.topic);
      print(
        `events received ${s.eventsReceived} | invoices created ${s.invoicesCreated} | duplicates ignored ` +
          `${s.duplicatesIgnored} (+${s.alreadyInvoiced} already invoiced) | dead letters open ${s.deadLetters.open} | ` +
          `write-back pending ${s.writeBack.pending} failed ${s.writeBack.failed}`
      );
    };
    return { running, totals };
  }
);
