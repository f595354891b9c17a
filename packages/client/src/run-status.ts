import { RUN_STALLED_EVENT, type EventFrame, type RunStatus } from '@agentwire/protocol';

/**
 * A run's status after one of its events (protocol.md section 9): a critical
 * event named in `endEvents` ends it, the service's critical `run_stalled`
 * marks a live run stalled, and any other event makes a new, unknown or
 * stalled run running. Only a snapshot takes a run out of `ended`: appends
 * after the end do not reopen it.
 */
export function statusAfterEvent(
  status: RunStatus | undefined,
  event: Pick<EventFrame, 'name' | 'critical'>,
  endEvents: ReadonlySet<string>,
): RunStatus {
  if (event.critical && endEvents.has(event.name)) return 'ended';
  if (status === 'ended') return 'ended';
  if (event.critical && event.name === RUN_STALLED_EVENT) return 'stalled';
  return 'running';
}
