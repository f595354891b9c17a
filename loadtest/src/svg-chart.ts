/**
 * Self-contained SVG charts for the reports (no plotting dependency): a line
 * chart for time series and a grouped bar chart for distributions and
 * percentiles. Every series is one `<g class="series" data-series="...">`, so
 * a test (or a reader of the file) can find each one.
 */

export interface LineSeries {
  name: string;
  /** [x, y] pairs; drawn in the given order. */
  points: ReadonlyArray<readonly [number, number]>;
}

/** A labelled vertical line, e.g. where a load phase starts. */
export interface ChartMarker {
  x: number;
  label: string;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  markers?: readonly ChartMarker[];
  width?: number;
  height?: number;
}

export interface BarSeries {
  name: string;
  /** One value per category. */
  values: readonly number[];
}

export interface BarChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  width?: number;
  height?: number;
}

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
];
const MARGIN = { left: 72, right: 24, top: 40, bottom: 56 };
// The legend sits under the plot in columns, so long series names never clip.
const LEGEND_COLUMN_WIDTH = 270;
const LEGEND_ROW_HEIGHT = 18;
const DEFAULT_WIDTH = 860;
const DEFAULT_HEIGHT = 400;
const Y_TICKS = 5;
const X_TICKS = 8;
const MAX_CATEGORY_LABELS = 16;
const MAX_POINT_MARKS = 60;

interface Frame {
  width: number;
  height: number;
  legendTop: number;
  legendColumns: number;
  plotLeft: number;
  plotTop: number;
  plotWidth: number;
  plotHeight: number;
}

/** A line chart of one or more series sharing both axes. */
export function lineChartSvg(spec: LineChartSpec): string {
  const frame = makeFrame(spec.width, spec.height, spec.series.length);
  const all = spec.series.flatMap((series) => series.points).filter(([x, y]) => isFinitePair(x, y));
  const parts = header(frame, spec.title);
  if (all.length === 0) {
    parts.push(noData(frame));
    return finish(parts);
  }
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), X_TICKS);
  const yTicks = niceTicks(Math.min(0, ...ys), Math.max(...ys), Y_TICKS);
  const xScale = scale(xTicks, frame.plotLeft, frame.plotLeft + frame.plotWidth);
  const yScale = scale(yTicks, frame.plotTop + frame.plotHeight, frame.plotTop);

  parts.push(grid(frame, yTicks, yScale));
  parts.push(xAxisNumeric(frame, xTicks, xScale, spec.xLabel));
  parts.push(yAxis(frame, yTicks, yScale, spec.yLabel));
  for (const marker of spec.markers ?? []) {
    const x = fmt(xScale(marker.x));
    parts.push(
      `<g class="marker"><line x1="${x}" y1="${frame.plotTop}" x2="${x}" y2="${frame.plotTop + frame.plotHeight}" stroke="#999" stroke-dasharray="4 3"/>` +
        `<text x="${fmt(xScale(marker.x) + 3)}" y="${frame.plotTop + 12}" fill="#555" font-size="10">${escapeXml(marker.label)}</text></g>`,
    );
  }
  spec.series.forEach((series, index) => {
    const color = colorOf(index);
    const points = series.points.filter(([x, y]) => isFinitePair(x, y));
    const coords = points.map(([x, y]) => `${fmt(xScale(x))},${fmt(yScale(y))}`);
    const dots =
      points.length <= MAX_POINT_MARKS
        ? points
            .map(
              ([x, y]) =>
                `<circle cx="${fmt(xScale(x))}" cy="${fmt(yScale(y))}" r="2" fill="${color}"/>`,
            )
            .join('')
        : '';
    parts.push(
      `<g class="series" data-series="${escapeXml(series.name)}">` +
        `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${coords.join(' ')}"/>${dots}</g>`,
    );
  });
  parts.push(
    legend(
      frame,
      spec.series.map((series) => series.name),
    ),
  );
  return finish(parts);
}

/** Grouped bars: one group per category, one bar per series, y axis from zero. */
export function barChartSvg(spec: BarChartSpec): string {
  const frame = makeFrame(spec.width, spec.height, spec.series.length);
  const parts = header(frame, spec.title);
  const values = spec.series.flatMap((series) => series.values).filter(Number.isFinite);
  if (spec.categories.length === 0 || values.length === 0) {
    parts.push(noData(frame));
    return finish(parts);
  }
  const yTicks = niceTicks(Math.min(0, ...values), Math.max(...values), Y_TICKS);
  const yScale = scale(yTicks, frame.plotTop + frame.plotHeight, frame.plotTop);
  const groupWidth = frame.plotWidth / spec.categories.length;
  const barWidth = (groupWidth * 0.8) / Math.max(1, spec.series.length);
  const zeroY = yScale(0);

  parts.push(grid(frame, yTicks, yScale));
  parts.push(yAxis(frame, yTicks, yScale, spec.yLabel));
  const labelEvery = Math.ceil(spec.categories.length / MAX_CATEGORY_LABELS);
  const labels = spec.categories
    .map((category, i) => {
      if (i % labelEvery !== 0) return '';
      const x = frame.plotLeft + groupWidth * (i + 0.5);
      return `<text x="${fmt(x)}" y="${frame.plotTop + frame.plotHeight + 16}" text-anchor="middle" font-size="10">${escapeXml(category)}</text>`;
    })
    .join('');
  parts.push(
    `<g class="x-axis">${axisLine(frame)}${labels}` +
      `<text x="${fmt(frame.plotLeft + frame.plotWidth / 2)}" y="${frame.plotTop + frame.plotHeight + 38}" text-anchor="middle">${escapeXml(spec.xLabel)}</text></g>`,
  );
  spec.series.forEach((series, s) => {
    const color = colorOf(s);
    const bars = spec.categories
      .map((category, i) => {
        const value = series.values[i];
        if (value === undefined || !Number.isFinite(value)) return '';
        const x = frame.plotLeft + groupWidth * i + groupWidth * 0.1 + barWidth * s;
        const y = yScale(value);
        const top = Math.min(y, zeroY);
        const height = Math.abs(zeroY - y);
        return (
          `<rect x="${fmt(x)}" y="${fmt(top)}" width="${fmt(barWidth)}" height="${fmt(height)}" fill="${color}">` +
          `<title>${escapeXml(`${series.name} ${category}: ${formatNumber(value)}`)}</title></rect>`
        );
      })
      .join('');
    parts.push(`<g class="series" data-series="${escapeXml(series.name)}">${bars}</g>`);
  });
  parts.push(
    legend(
      frame,
      spec.series.map((series) => series.name),
    ),
  );
  return finish(parts);
}

/** Round tick values (1, 2 or 5 times a power of ten) covering [min, max]. */
export function niceTicks(min: number, max: number, count: number): number[] {
  let low = min;
  let high = max;
  if (low === high) {
    // A flat series still needs an axis: widen around the value.
    const pad = low === 0 ? 1 : Math.abs(low) * 0.5;
    low -= low === 0 ? 0 : pad;
    high += pad;
  }
  const rawStep = (high - low) / Math.max(1, count);
  const magnitude = Math.pow(10, Math.floor(Math.log10(rawStep)));
  const normalized = rawStep / magnitude;
  const step = (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
  const first = Math.floor(low / step) * step;
  const last = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  for (let value = first; value <= last + step / 2; value += step) ticks.push(roundTo(value, step));
  return ticks;
}

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Compact number for axis labels: 12k, 1.5M, 0.25. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function trim(value: number): string {
  return String(Number(value.toFixed(2)));
}

function makeFrame(width = DEFAULT_WIDTH, height = DEFAULT_HEIGHT, seriesCount = 0): Frame {
  const legendColumns = Math.max(1, Math.floor((width - MARGIN.left) / LEGEND_COLUMN_WIDTH));
  const legendRows = Math.ceil(seriesCount / legendColumns);
  return {
    width,
    height: height + legendRows * LEGEND_ROW_HEIGHT + (legendRows > 0 ? 6 : 0),
    legendTop: height + 4,
    legendColumns,
    plotLeft: MARGIN.left,
    plotTop: MARGIN.top,
    plotWidth: width - MARGIN.left - MARGIN.right,
    plotHeight: height - MARGIN.top - MARGIN.bottom,
  };
}

function header(frame: Frame, title: string): string[] {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${frame.width}" height="${frame.height}" fill="#ffffff"/>`,
    `<text x="${frame.plotLeft}" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

function finish(parts: string[]): string {
  return `${parts.join('\n')}\n</svg>\n`;
}

function noData(frame: Frame): string {
  return `<text x="${fmt(frame.plotLeft + frame.plotWidth / 2)}" y="${fmt(frame.plotTop + frame.plotHeight / 2)}" text-anchor="middle" fill="#777">no data</text>`;
}

function grid(frame: Frame, yTicks: number[], yScale: (v: number) => number): string {
  const lines = yTicks
    .map((tick) => {
      const y = fmt(yScale(tick));
      return `<line x1="${frame.plotLeft}" y1="${y}" x2="${frame.plotLeft + frame.plotWidth}" y2="${y}" stroke="#e5e5e5"/>`;
    })
    .join('');
  return `<g class="grid">${lines}</g>`;
}

function axisLine(frame: Frame): string {
  const bottom = frame.plotTop + frame.plotHeight;
  return (
    `<line x1="${frame.plotLeft}" y1="${bottom}" x2="${frame.plotLeft + frame.plotWidth}" y2="${bottom}" stroke="#333"/>` +
    `<line x1="${frame.plotLeft}" y1="${frame.plotTop}" x2="${frame.plotLeft}" y2="${bottom}" stroke="#333"/>`
  );
}

function xAxisNumeric(
  frame: Frame,
  ticks: number[],
  xScale: (v: number) => number,
  label: string,
): string {
  const bottom = frame.plotTop + frame.plotHeight;
  const marks = ticks
    .map((tick) => {
      const x = fmt(xScale(tick));
      return `<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 4}" stroke="#333"/><text x="${x}" y="${bottom + 16}" text-anchor="middle" font-size="10">${formatNumber(tick)}</text>`;
    })
    .join('');
  return (
    `<g class="x-axis">${axisLine(frame)}${marks}` +
    `<text x="${fmt(frame.plotLeft + frame.plotWidth / 2)}" y="${frame.plotTop + frame.plotHeight + 38}" text-anchor="middle">${escapeXml(label)}</text></g>`
  );
}

function yAxis(
  frame: Frame,
  ticks: number[],
  yScale: (v: number) => number,
  label: string,
): string {
  const marks = ticks
    .map((tick) => {
      const y = fmt(yScale(tick));
      return `<text x="${frame.plotLeft - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="10">${formatNumber(tick)}</text>`;
    })
    .join('');
  const midY = fmt(frame.plotTop + frame.plotHeight / 2);
  return `<g class="y-axis">${marks}<text x="16" y="${midY}" text-anchor="middle" transform="rotate(-90 16 ${midY})">${escapeXml(label)}</text></g>`;
}

function legend(frame: Frame, names: readonly string[]): string {
  const entries = names
    .map((name, i) => {
      const x = frame.plotLeft + (i % frame.legendColumns) * LEGEND_COLUMN_WIDTH;
      const y = frame.legendTop + 10 + Math.floor(i / frame.legendColumns) * LEGEND_ROW_HEIGHT;
      return `<rect x="${x}" y="${y - 8}" width="12" height="12" fill="${colorOf(i)}"/><text x="${x + 18}" y="${y + 2}" font-size="11">${escapeXml(name)}</text>`;
    })
    .join('');
  return `<g class="legend">${entries}</g>`;
}

function scale(ticks: number[], from: number, to: number): (value: number) => number {
  const low = ticks[0] ?? 0;
  const high = ticks[ticks.length - 1] ?? 1;
  const span = high - low || 1;
  return (value) => from + ((value - low) / span) * (to - from);
}

function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

function isFinitePair(x: number, y: number): boolean {
  return Number.isFinite(x) && Number.isFinite(y);
}

function fmt(value: number): string {
  return value.toFixed(1);
}

function roundTo(value: number, step: number): number {
  // Repeated float addition drifts (0.30000000000000004); round to the step's precision.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(decimals));
}
