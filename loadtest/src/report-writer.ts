import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reportCharts } from './report-charts.js';
import { reportMarkdown } from './report-markdown.js';
import type { RunReport } from './run-report.js';

/** A directory name that sorts by time: 2025-11-26T10-15-03Z. */
export function reportDirName(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

/** Writes report.json (unmeasured numbers appear as null), report.md and every SVG into `<root>/<timestamp>/`; returns that directory. */
export async function writeReport(root: string, report: RunReport): Promise<string> {
  const dir = join(root, reportDirName(new Date(report.createdAt)));
  await writeReportTo(dir, report);
  return dir;
}

/** Writes the report files into `dir` (created when missing). */
export async function writeReportTo(dir: string, report: RunReport): Promise<void> {
  await mkdir(dir, { recursive: true });
  const charts = reportCharts(report);
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, 'report.md'), reportMarkdown(report, charts));
  await Promise.all(charts.map((chart) => writeFile(join(dir, chart.file), chart.svg)));
}
