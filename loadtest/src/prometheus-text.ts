/**
 * Sum of every sample of metric `name` in Prometheus text exposition format,
 * over all label sets (`name` or `name{...}`). NaN when the metric is absent.
 * Enough for counters and gauges; histogram series have suffixed names.
 */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#') || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue; // a longer name with the same prefix
    const afterLabels = rest[0] === '{' ? rest.slice(rest.lastIndexOf('}') + 1) : rest;
    const value = Number(afterLabels.trim().split(/\s+/)[0]);
    if (Number.isNaN(value)) continue;
    sum += value;
    found = true;
  }
  return found ? sum : Number.NaN;
}
