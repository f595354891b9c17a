/** The receiver refused or failed: BullMQ retries the job with backoff. */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
}

/** POSTs one JSON report; any non-2xx answer or network error throws. */
export async function deliverWebhook(url: string, body: unknown, timeoutMs: number): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new WebhookDeliveryError(`webhook answered ${response.status}`);
}
