/**
 * Memory of one scenario at one N, measured in a fresh child process (memory-probe.ts).
 *
 * - peak heap: the largest V8 heap "used" size seen during the run — the size before each
 *   garbage collection that happened during the run (from --trace-gc), or the size right after
 *   the run if larger — minus the heap used before the run.
 * - retained heap: heap used after a full gc, with the output (App tree + YAML string) still
 *   referenced, minus the heap used before the run.
 * - peak RSS: the child's maximum resident set size (getrusage), and its growth over the RSS
 *   before the run (the baseline holds node, ts-node/TypeScript, cdk8s, cdk8s-plus and the library).
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Scenario } from './scenarios';

export interface MemoryResult {
  readonly scenario: Scenario;
  readonly n: number;
  readonly peakHeapDeltaBytes: number;
  readonly retainedHeapDeltaBytes: number;
  readonly peakRssBytes: number;
  readonly peakRssDeltaBytes: number;
  readonly baselineRssBytes: number;
  readonly gcEventsDuringRun: number;
  readonly yamlSha1: string;
  readonly yamlBytes: number;
}

const MB = 1024 * 1024;

/** `[pid:0x..]  123 ms: Scavenge 3.8 (5.0) -> 3.4 (5.0) MB, ...` → 3.8 MB (size of objects before the gc). */
const GC_LINE = /: (Scavenge|Mark-Compact|Mark-Compact \(reduce\)|Minor Mark-Compact|Mark-Sweep)[^0-9]*([0-9.]+) \(([0-9.]+)\) -> ([0-9.]+) \(([0-9.]+)\) MB/;

export function measureMemory(scenario: Scenario, n: number, repoRoot: string, docsFile?: string): MemoryResult {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-release-bench-mem-'));
  const out = join(dir, 'out.json');
  try {
    const child = spawnSync(process.execPath, [
      '--expose-gc', '--trace-gc', '-r', 'ts-node/register/transpile-only',
      join(repoRoot, 'bench', 'memory-probe.ts'), scenario, String(n), out, ...(docsFile ? [docsFile] : []),
    ], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 256 * MB });
    if (child.status !== 0) {
      throw new Error(`memory probe ${scenario} N=${n} failed (exit ${child.status}):\n${child.stderr}`);
    }
    const probe = JSON.parse(readFileSync(out, 'utf8'));
    const lines = child.stdout.split('\n').filter((l) => GC_LINE.test(l));
    const markers = lines.map((l, i) => (/ testing[;,]/.test(l) ? i : -1)).filter((i) => i >= 0);
    if (markers.length < 2) {
      throw new Error(`memory probe ${scenario} N=${n}: expected explicit gc markers in --trace-gc output`);
    }
    const during = lines.slice(markers[markers.length - 2] + 1, markers[markers.length - 1]);
    const beforeSizes = during.map((l) => Number(GC_LINE.exec(l)![2]) * MB);
    const peakHeap = Math.max(probe.after.heapUsed, ...beforeSizes);
    return {
      scenario,
      n,
      peakHeapDeltaBytes: peakHeap - probe.before.heapUsed,
      retainedHeapDeltaBytes: probe.retained.heapUsed - probe.before.heapUsed,
      peakRssBytes: probe.maxRssBytes,
      peakRssDeltaBytes: probe.maxRssBytes - probe.before.rss,
      baselineRssBytes: probe.before.rss,
      gcEventsDuringRun: during.length,
      yamlSha1: probe.yamlSha1,
      yamlBytes: probe.yamlBytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
