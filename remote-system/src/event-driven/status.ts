import type Database from 'better-sqlite3';
import { CheckpointStore } from '../salesforce/pubsub';
import { readKnob } from './consumers';
import { CONSUMER_NAMES, type ConsumerName } from './contract';
import type { ConsumerStatus, StatusResponse } from './schemas';

/**
 * Each consumer's position, lag and dead letters, from the database (the subscribers may run in another process).
 * Replay ids are opaque, so lag is measured against the consumer that is furthest ahead: events it has handled that
 * this one has not (`eventsBehind`, from the per-consumer ledgers) and the commit-time distance between their last
 * handled changes (`lagMs`).
 */
export function readStatus(db: Database.Database, topic: string): StatusResponse {
  const checkpoints = new CheckpointStore(db);
  const count = (sql: string, ...params: unknown[]): number =>
    db
      .prepare(sql)
      .pluck()
      .get(...params) as number;
  const rows = CONSUMER_NAMES.map((name: ConsumerName) => {
    const checkpoint = checkpoints.get(name);
    const position = db
      .prepare(
        'SELECT last_commit_timestamp AS at, last_change_type AS changeType FROM event_driven_positions WHERE consumer = ?'
      )
      .get(name) as { at: number; changeType: string } | undefined;
    return {
      name,
      handled: count('SELECT count(*) FROM pubsub_processed_events WHERE consumer = ?', name),
      checkpoint,
      position,
      knob: readKnob(db, name) ?? ('none' as const),
      deadLettersOpen: count(
        "SELECT count(*) FROM pubsub_dead_letters WHERE consumer = ? AND status = 'open'",
        name
      ),
      resyncOpen: count(
        "SELECT count(*) FROM event_driven_resync_requests WHERE consumer = ? AND status = 'open'",
        name
      )
    };
  });
  const leaderHandled = Math.max(0, ...rows.map((row) => row.handled));
  const leaderAt = Math.max(0, ...rows.map((row) => row.position?.at ?? 0));
  const consumers: ConsumerStatus[] = rows.map((row) => ({
    name: row.name,
    checkpoint: row.checkpoint
      ? { replayId: row.checkpoint.replayId, updatedAt: row.checkpoint.updatedAt }
      : null,
    eventsReceived: row.checkpoint?.eventsReceived ?? 0,
    eventsHandled: row.handled,
    duplicatesIgnored: row.checkpoint?.duplicatesIgnored ?? 0,
    lastChange: row.position
      ? { changeType: row.position.changeType, commitTimestamp: row.position.at }
      : null,
    eventsBehind: leaderHandled - row.handled,
    lagMs: row.position ? leaderAt - row.position.at : null,
    deadLettersOpen: row.deadLettersOpen,
    resyncRequestsOpen: row.resyncOpen,
    knob: row.knob
  }));
  return { topic, consumers };
}
