import { runSubscriberCli } from '../salesforce/pubsub/subscriber-cli';
import { loadEventDrivenConfig } from './config';
import { startEventDrivenSubscribers } from './runner';
import { readStatus } from './status';

/**
 * `npm run event-driven:subscribe`: runs the configured consumers (`EVENT_DRIVEN_CONSUMERS`, default all three)
 * against the org in the `SF_*` settings (or a local stand-in through `SF_PUBSUB_ENDPOINT` + `SF_PUBSUB_CA_FILE`),
 * printing batches, retries, dead letters and reconnects, and each consumer's position every 10 seconds.
 */
runSubscriberCli(
  (app) => loadEventDrivenConfig(app.env),
  ({ auth, db, print }, config) => {
    print(
      `subscribing ${config.consumers.join(', ')} to ${config.topic} at ${config.pubsub.endpoint}`
    );
    const running = startEventDrivenSubscribers({
      config,
      db,
      auth,
      onNotify: (consumer, n) => {
        if (n.kind !== 'keepalive') print(`[${consumer}] [${n.kind}] ${n.message}`);
      }
    });
    const totals = () => {
      for (const c of readStatus(db, config.topic).consumers) {
        print(
          `${c.name.padEnd(20)} handled ${c.eventsHandled} | behind ${c.eventsBehind} | dead letters ${c.deadLettersOpen} | re-syncs ${c.resyncRequestsOpen} | knob ${c.knob}`
        );
      }
    };
    return { running, totals };
  }
);
