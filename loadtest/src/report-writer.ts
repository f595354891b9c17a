import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/**
 * Writes `result` as `<root>/<timestamp>/<fileName>` (root: `out` when given,
 * else loadtest/reports) and returns the file's path.
 */
export async function writeJsonReport(
  out: string | boolean | undefined,
  createdAt: Date,
  fileName: string,
  result: unknown,
): Promise<string> {
  const root =
    typeof out === 'string' ? out : fileURLToPath(new URL('../reports', import.meta.url));
  const dir = join(root, reportDirName(createdAt));
  await mkdir(dir, { recursive: true });
  const path = join(dir, fileName);
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
