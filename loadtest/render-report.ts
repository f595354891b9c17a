import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseCli, runCli, UsageError } from './src/cli-args.js';
import { writeReportTo } from './src/report-writer.js';
import type { RunReport } from './src/run-report.js';

const USAGE = `Usage: npx tsx loadtest/render-report.ts --dir <report dir>

Renders report.md and the SVG plots again from a report.json (after the
renderer changed, say). Measures nothing.`;

runCli(USAGE, async () => {
  const values = parseCli({ dir: { type: 'string' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (typeof values.dir !== 'string') throw new UsageError('--dir is required');
  const dir = resolve(values.dir);
  // report.json writes unmeasured numbers as null; the renderers treat them as not finite.
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as RunReport;
  if (report.kind !== 'agentwire-loadtest')
    throw new UsageError(`${dir}/report.json is not a run report`);
  await writeReportTo(dir, report);
  console.log(`rendered ${dir}`);
  return 0;
});
