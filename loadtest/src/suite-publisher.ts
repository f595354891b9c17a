/**
 * A POST of up to 200 events every millisecond. Up to 64 in flight, so a
 * slow answer does not cap the rate (8 in flight of 200 events at 350 ms
 * would cap it near 4,600/s).
 */
export const SUITE_PUBLISHER = {
  publisherTickMs: 1,
  publisherMaxBatch: 200,
  publisherMaxInFlight: 64,
} as const;
