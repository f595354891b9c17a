import type { Registry } from '@agentwire/telemetry';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { guardRequest, reply, Status } from './respond.js';

/** GET /metrics: Prometheus text format. */
export function createMetricsHandler(
  registry: Registry,
): (res: HttpResponse, req: HttpRequest) => void {
  return (res) => {
    const guard = guardRequest(res);
    registry
      .metrics()
      .then((text) => reply(res, guard, Status.ok, registry.contentType, text))
      .catch(() => reply(res, guard, Status.internalError, 'text/plain', 'metrics unavailable'));
  };
}
