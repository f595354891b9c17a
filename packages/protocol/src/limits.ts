/** Bounds fixed by the wire contract. */
export const Limits = {
  /** Allowed characters and length of a user id (JWT `sub`). */
  userIdPattern: /^[A-Za-z0-9._:@-]{1,128}$/,
  maxEventIdLength: 128,
  maxNameLength: 64,
  maxRunIdLength: 128,
  maxThreadIdLength: 128,
  maxPublishIdLength: 128,
  maxBatchEvents: 1000,
  defaultMaxPayload: 65536,
  defaultMaxEventBytes: 65536,
  /** Deepest JSON nesting accepted in `data`; deeper input is rejected as malformed. */
  maxJsonDepth: 32,
} as const;

export const DEFAULT_CRITICAL_EVENTS: readonly string[] = [
  'agent_started',
  'agent_thinking',
  'tool_executing',
  'tool_completed',
  'agent_completed',
  'agent_error',
];
