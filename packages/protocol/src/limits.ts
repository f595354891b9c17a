/** Bounds fixed by the wire contract. */
export const Limits = {
  /** Allowed characters and length of a user id (JWT `sub`). */
  userIdPattern: /^[A-Za-z0-9._:@-]{1,128}$/,
  maxEventIdLength: 128,
  maxNameLength: 64,
  maxRunIdLength: 128,
  maxThreadIdLength: 128,
  /** Name of a run's text stream (protocol.md section 9). */
  streamNamePattern: /^[A-Za-z0-9._:-]{1,64}$/,
  defaultStreamName: 'main',
  maxPublishIdLength: 128,
  /** Longest token accepted (hello frame, Authorization header, ?token=). */
  maxTokenLength: 8192,
  maxBatchEvents: 1000,
  defaultMaxPayload: 65536,
  defaultMaxEventBytes: 65536,
  /** Deepest JSON nesting accepted in `data`; deeper input is rejected as malformed. */
  maxJsonDepth: 32,
} as const;

/** Critical events that end a run (RUN_END_EVENTS). */
export const DEFAULT_RUN_END_EVENTS: readonly string[] = ['agent_completed', 'agent_error'];

/** The critical event the service sends for a run with no event for RUN_STALL_MS. */
export const RUN_STALLED_EVENT = 'run_stalled';

export const DEFAULT_CRITICAL_EVENTS: readonly string[] = [
  'agent_started',
  'agent_thinking',
  'tool_executing',
  'tool_completed',
  'agent_completed',
  'agent_error',
];
