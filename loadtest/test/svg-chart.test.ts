import { describe, expect, it } from 'vitest';
import { barChartSvg, escapeXml, formatNumber, lineChartSvg, niceTicks } from '../src/svg-chart.js';
import { allElements, parseXml, type XmlElement } from './xml-tree.js';

function seriesGroups(svg: string): XmlElement[] {
  return allElements(parseXml(svg)).filter((el) => el.name === 'g' && el.attrs.class === 'series');
}

describe('lineChartSvg', () => {
  const svg = lineChartSvg({
    title: 'CPU <per> process & more',
    xLabel: 'seconds',
    yLabel: 'CPU %',
    series: [
      {
        name: 'edge-0',
        points: [
          [0, 10],
          [1, 50],
          [2, 30],
        ],
      },
      {
        name: 'buffer "0"',
        points: [
          [0, 5],
          [1, 7],
        ],
      },
    ],
    markers: [{ x: 1, label: 'fleet 200/s' }],
  });

  it('is well-formed XML with an svg root in the SVG namespace', () => {
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  });

  it('has one series group per series, named, with one polyline point per data point', () => {
    const groups = seriesGroups(svg);
    expect(groups.map((g) => g.attrs['data-series'])).toEqual(['edge-0', 'buffer &quot;0&quot;']);
    const pointCounts = groups.map((g) => {
      const polyline = g.children.find((child) => child.name === 'polyline');
      return polyline?.attrs.points?.trim().split(/\s+/).length;
    });
    expect(pointCounts).toEqual([3, 2]);
  });

  it('escapes the title and draws the phase marker and a legend entry per series', () => {
    const root = parseXml(svg);
    const title = root.children.find((child) => child.name === 'title');
    expect(title?.text).toBe('CPU &lt;per&gt; process &amp; more');
    const elements = allElements(root);
    expect(elements.filter((el) => el.attrs.class === 'marker')).toHaveLength(1);
    const legend = elements.find((el) => el.attrs.class === 'legend');
    expect(legend?.children.filter((child) => child.name === 'text').map((t) => t.text)).toEqual([
      'edge-0',
      'buffer &quot;0&quot;',
    ]);
  });

  it('draws higher values higher up (SVG y grows downwards)', () => {
    const polyline = seriesGroups(svg)[0]?.children.find((child) => child.name === 'polyline');
    const ys = (polyline?.attrs.points ?? '').split(' ').map((pair) => Number(pair.split(',')[1]));
    expect(ys[1]).toBeLessThan(ys[0] as number); // 50 above 10
    expect(ys[2]).toBeLessThan(ys[0] as number); // 30 above 10
    expect(ys[2]).toBeGreaterThan(ys[1] as number); // 30 below 50
  });

  it('skips non-finite points and says "no data" when nothing is left', () => {
    const empty = lineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: 's', points: [[0, Number.NaN]] }],
    });
    const root = parseXml(empty);
    expect(allElements(root).some((el) => el.name === 'text' && el.text === 'no data')).toBe(true);
    expect(seriesGroups(empty)).toHaveLength(0);
  });
});

describe('barChartSvg', () => {
  const svg = barChartSvg({
    title: 'Latency percentiles',
    xLabel: 'percentile',
    yLabel: 'ms',
    categories: ['p50', 'p90', 'p99'],
    series: [
      { name: '200/s', values: [2, 5, 9] },
      { name: '1000/s', values: [3, 8, Number.NaN] },
    ],
  });

  it('is well-formed XML with one rect per finite value in each series group', () => {
    const groups = seriesGroups(svg);
    expect(groups.map((g) => g.attrs['data-series'])).toEqual(['200/s', '1000/s']);
    expect(groups.map((g) => g.children.filter((child) => child.name === 'rect').length)).toEqual([
      3, 2,
    ]);
  });

  it('makes bar heights proportional to the values', () => {
    const rects = seriesGroups(svg)[0]?.children.filter((child) => child.name === 'rect') ?? [];
    const heights = rects.map((rect) => Number(rect.attrs.height));
    expect((heights[2] as number) / (heights[0] as number)).toBeCloseTo(9 / 2, 1);
    expect(rects[1]?.children.find((child) => child.name === 'title')?.text).toBe('200/s p90: 5');
  });
});

describe('helpers', () => {
  it('niceTicks covers the range with 1-2-5 steps', () => {
    expect(niceTicks(0, 97, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
    const flat = niceTicks(5, 5, 5);
    expect(flat[0]).toBeLessThanOrEqual(5);
    expect(flat[flat.length - 1]).toBeGreaterThan(5);
  });

  it('escapeXml escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;',
    );
  });

  it('formatNumber abbreviates large values', () => {
    expect(formatNumber(12_500)).toBe('12.5k');
    expect(formatNumber(2_000_000)).toBe('2M');
    expect(formatNumber(0.25)).toBe('0.25');
    expect(formatNumber(950)).toBe('950');
  });
});
