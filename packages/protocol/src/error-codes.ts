/** Stable codes carried by `error` frames and HTTP error bodies. */
export const ErrorCode = {
  BadRequest: 'bad_request',
  BadFrame: 'bad_frame',
  UnknownType: 'unknown_type',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  TooLarge: 'too_large',
  RateLimited: 'rate_limited',
  LimitReached: 'limit_reached',
  Unavailable: 'unavailable',
  NotFound: 'not_found',
  Internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
