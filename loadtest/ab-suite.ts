import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { numberArg, parseCli, runCli, UsageError } from './src/cli-args.js';
import type { MachineInfo } from './src/machine-info.js';
import { comparePaired, type PairedComparison } from './src/paired-stats.js';
import { writeJsonReport } from './src/report-writer.js';
import type { SuiteComparison } from './src/suite-report.js';

const USAGE = `Usage: npx tsx loadtest/ab-suite.ts --a DIR --b DIR [options]

Compares two built checkouts of agentwire (say, a worktree of the commit before a change and
this one) with the performance suite, round by round in the same session: each round runs
agentwire's suite parts in A and in B, A first in odd rounds and B first in even ones, so a
drift of the host weighs on both. Reports per measure the rounds, the means, B/A and the mean
paired difference B - A with its 95 % interval (an interval that holds 0: no difference shown).
  --a DIR         checkout A (built: npm ci && npm run build)
  --b DIR         checkout B
  --rounds N      rounds, 2..10 (default 4)
  --parts LIST    suite parts, of latency,cpu (default cpu)
  --users N       fleet users and clients (default 1000)
  --out DIR       report root: writes DIR/<timestamp>/ab-suite.json`;

const PARTS = ['latency', 'cpu'] as const;

/** One suite run's headline figures, by measure name. */
type Figures = Record<string, number>;

function figuresOf(comparison: SuiteComparison): Figures {
  const figures: Figures = {};
  if (comparison.latency) {
    figures['p50 latency ms'] = comparison.latency.agentwire.p50;
    figures['p99 latency ms'] = comparison.latency.agentwire.p99;
  }
  for (const [role, value] of Object.entries(comparison.cpu?.agentwire ?? {})) {
    figures[`CPU µs/event: ${role}`] = value;
  }
  return figures;
}

interface SuiteRun {
  figures: Figures;
  /** The suite's report (without .md/.json). */
  report: string;
  machine: MachineInfo;
}

/** Runs the suite in `dir`; resolves with its report's headline figures. */
function runSuite(dir: string, parts: string, users: number): Promise<SuiteRun> {
  const args = ['tsx', 'loadtest/perf-suite.ts', '--users', String(users), '--parts', parts];
  args.push('--systems', 'agentwire');
  // One latency phase per round, as in checkouts from before --latency-rounds:
  // this tool's own rounds are the repetition.
  if (readFileSync(join(dir, 'loadtest/perf-suite.ts'), 'utf8').includes("'latency-rounds'")) {
    args.push('--latency-rounds', '1');
  }
  return new Promise((done, fail) => {
    const child = spawn('npx', args, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', fail);
    child.on('exit', (code) => {
      const report = /^report: (.+)\.md$/m.exec(output)?.[1];
      if (code !== 0 || report === undefined) {
        fail(new Error(`the suite in ${dir} exited ${String(code)}:\n${output.slice(-2000)}`));
        return;
      }
      readFile(`${report}.json`, 'utf8').then((text) => {
        const json = JSON.parse(text) as { comparison: SuiteComparison; machine: MachineInfo };
        done({ figures: figuresOf(json.comparison), report, machine: json.machine });
      }, fail);
    });
  });
}

function row(name: string, c: PairedComparison): string {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
  const rounds = (values: number[]): string => values.map(f).join(' / ');
  return `| ${name} | ${rounds(c.a)} | ${rounds(c.b)} | ${f(c.meanA)} | ${f(c.meanB)} | ${c.ratio.toFixed(3)} | ${f(c.meanDiff)} ± ${f(c.ci95)} |`;
}

runCli(USAGE, async () => {
  const values = parseCli({
    a: { type: 'string' },
    b: { type: 'string' },
    rounds: { type: 'string' },
    parts: { type: 'string' },
    users: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (typeof values.a !== 'string' || typeof values.b !== 'string') {
    throw new UsageError('--a and --b are required');
  }
  const dirs = { A: resolve(values.a), B: resolve(values.b) };
  const rounds = numberArg(values, 'rounds', 4, { min: 2, max: 10 });
  const users = numberArg(values, 'users', 1000, { min: 2, max: 20_000 });
  const parts = typeof values.parts === 'string' ? values.parts : 'cpu';
  for (const part of parts.split(',')) {
    if (!(PARTS as readonly string[]).includes(part)) {
      throw new UsageError(`--parts: unknown part ${JSON.stringify(part)} (of ${PARTS.join(',')})`);
    }
  }
  const createdAt = new Date();
  const runs: Record<'A' | 'B', Figures[]> = { A: [], B: [] };
  const reports: string[] = [];
  let machine: MachineInfo | undefined;
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? (['A', 'B'] as const) : (['B', 'A'] as const);
    for (const side of order) {
      const run = await runSuite(dirs[side], parts, users);
      runs[side].push(run.figures);
      reports.push(run.report);
      machine ??= run.machine;
      console.log(`round ${round} ${side}: ${JSON.stringify(run.figures)} (${run.report})`);
    }
  }
  const names = Object.keys(runs.A[0] ?? {});
  const comparisons = Object.fromEntries(
    names.map((name) => [
      name,
      comparePaired(
        runs.A.map((f) => f[name] ?? Number.NaN),
        runs.B.map((f) => f[name] ?? Number.NaN),
      ),
    ]),
  );
  console.log(`\nA: ${dirs.A}\nB: ${dirs.B}\n`);
  console.log('| measure | A rounds | B rounds | A mean | B mean | B/A | B - A (95 %) |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: |');
  for (const name of names) console.log(row(name, comparisons[name] as PairedComparison));
  const path = await writeJsonReport(values.out, createdAt, 'ab-suite.json', {
    kind: 'ab-suite',
    createdAt: createdAt.toISOString(),
    command: `npx tsx loadtest/ab-suite.ts ${process.argv.slice(2).join(' ')}`,
    machine,
    settings: { a: dirs.A, b: dirs.B, rounds, parts, users },
    runs,
    reports,
    comparisons,
  });
  console.log(`\nreport: ${path}`);
  return 0;
});
