/** The errors of @agentwire/publisher, in one place. */

/** The edge refused a batch for a reason a retry cannot fix (400, 401, 413). */
export class PublishRejectedError extends Error {
  override readonly name = 'PublishRejectedError';
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`ingest refused with HTTP ${status}: ${JSON.stringify(body)}`);
  }
}

/** A RunWriter was written to after its run ended (`end()` or `error()`). */
export class RunClosedError extends Error {
  override readonly name = 'RunClosedError';
  constructor(readonly runId: string) {
    super(`run ${runId} has ended: nothing more can be written to it`);
  }
}
