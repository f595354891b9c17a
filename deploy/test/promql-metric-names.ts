const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/**
 * The metric names a PromQL expression reads. A small scanner, enough for
 * dashboard queries: it drops strings, label matchers, range selectors and
 * grouping clauses, then keeps every identifier that is not a function call
 * or a keyword.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:$])[A-Za-z_:][\w:]*(\s*\()?/g)) {
    const [whole, call] = match;
    const name = whole.replace(/\s*\($/, '');
    if (call !== undefined || KEYWORDS.has(name)) continue;
    names.add(name);
  }
  return [...names];
}

/** A histogram's series (`x_bucket`, `x_sum`, `x_count`) belong to the metric `x`. */
export function baseMetricName(series: string, known: ReadonlySet<string>): string {
  const base = series.replace(/_(?:bucket|sum|count)$/, '');
  return base !== series && known.has(base) ? base : series;
}
