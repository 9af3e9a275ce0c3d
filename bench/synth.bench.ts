/**
 * Synthesis benchmark of cdk8s-mesh-release (see BENCHMARKS.md).
 *
 *   npx projen bench      # = node --expose-gc -r ts-node/register/transpile-only bench/synth.bench.ts
 *
 * A: N MeshReleases at shift-50 -> app.synthYaml()
 * B: the same manifests written by hand with cdk8s-plus-28 + ApiObject -> app.synthYaml()
 * C: the final plain objects of A -> cdk8s' Yaml.stringify (what synthYaml ends with)
 *
 * D: `mesh-release plan` of an app against one `cdk8s synth` of it (the example, and 100 services)
 *
 * E: one chart per release (K charts of one MeshRelease each) against the same hand-written (phase `charts`)
 *
 * F: `mesh-release rollout` of the 100-service app against envtest: the driver's own work per stage (phase
 *    `rollout`, needs KUBEBUILDER_ASSETS; skipped, said so, without it)
 *
 * Environment: BENCH_QUICK=1 (few rounds, a smoke test); BENCH_PHASES=equivalence,timing,memory,require,cli,check,charts,rollout
 * (the default: all; memory needs timing); BENCH_REQUIRE_RUNS (default 21); BENCH_CLI_ROUNDS (default 5);
 * BENCH_ROLLOUT_SERVICES (default 100).
 */
import { createHash } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { compareManifests } from './equivalence';
import { runRounds, TaskStats } from './harness';
import { loadAverage, machineInfo, sourceState } from './machine';
import { measureMemory, MemoryResult } from './memory';
import { locateLib, measureRequire, RequireCost } from './require-cost';
import { CheckScaling, measureCheckScaling } from './check-scaling';
import { CliPlanResult, manyServicesApp, measureCliPlan } from './cli-plan';
import { measureRolloutOverhead, RolloutOverhead } from './rollout-overhead';
import { buildA, buildB, buildChartsA, buildChartsB, docsOf, Scenario, serializeC, synthA, synthB } from './scenarios';

const REPO = resolve(__dirname, '..');
const QUICK = process.env.BENCH_QUICK === '1';
/** Iterations sized for ~4-5 minutes on 2 cores (at N=2000 one A or B sample takes ~8-12 s there). */
const PLAN = QUICK
  ? [{ n: 100, warmup: 1, rounds: 3 }, { n: 1000, warmup: 0, rounds: 1 }, { n: 2000, warmup: 0, rounds: 1 }]
  // N=2000 runs after the N=100 and N=1000 rounds in the same process, so the code is warm; a
  // separate warm-up round there showed no systematic difference and would cost ~25 s.
  : [{ n: 100, warmup: 3, rounds: 11 }, { n: 1000, warmup: 1, rounds: 7 }, { n: 2000, warmup: 0, rounds: 3 }];
const EQUIVALENCE_N = 100;
const REQUIRE_RUNS = Number(process.env.BENCH_REQUIRE_RUNS ?? (QUICK ? 5 : 21));
const PHASES = new Set((process.env.BENCH_PHASES ?? 'equivalence,timing,memory,require,cli,check,charts,rollout').split(',').map((p) => p.trim()));
const CLI_ROUNDS = Number(process.env.BENCH_CLI_ROUNDS ?? (QUICK ? 1 : 5));
const ROLLOUT_SERVICES = Number(process.env.BENCH_ROLLOUT_SERVICES ?? 100);

const TARGETS = {
  aOverB: 1.25,
  aOverC: 3,
  scaling: 2.1,
  require: 1.15,
  /** Issue 18: `mesh-release plan` of the 100-service app at most 1.5x one `cdk8s synth` of it. */
  planOverSynth: 1.5,
  /** Per-object time at 10x the objects: ~1 when linear, ~10 when pairwise; 2 leaves room for GC and cache effects. */
  checkPerObject: 2,
  /** Issue 20: the driver's own work per stage (not waiting on the cluster or the analysis), 100 services. */
  rolloutOwnMsPerStage: 1000,
};

const log = (line = '') => console.log(line);
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const verdict = (value: number, max: number) => (value <= max ? 'PASS' : 'MISS');

function fail(message: string, details: string[] = []): never {
  console.error(`\n✖ ${message}`);
  details.forEach((d) => console.error(`    ${d}`));
  process.exit(1);
}

function equivalenceCheck(): void {
  log(`Equivalence: A vs B at N=${EQUIVALENCE_N}`);
  const a = buildA(EQUIVALENCE_N);
  const b = buildB(EQUIVALENCE_N);
  const yamlA = a.synthYaml();
  const yamlB = b.synthYaml();
  const docsA = docsOf(a);
  const docsB = docsOf(b);
  const result = compareManifests(docsA, docsB);
  if (!result.equal) {
    fail(`A and B differ at N=${EQUIVALENCE_N}: the hand-written manifests are not the library's, so the comparison would be meaningless`,
      result.differences);
  }
  const perRelease = docsA.length / EQUIVALENCE_N;
  const kinds = [...new Set(docsA.slice(0, perRelease).map((d) => d.kind))].join(', ');
  log(`  ${docsA.length} objects each (${perRelease} per release: ${kinds}); deep-equal${result.orderIgnored ? ' once sorted (order differs)' : ', same order'}`);
  log(`  YAML byte-identical: ${yamlA === yamlB ? 'yes' : 'NO (objects equal, text differs)'}`);
  if (serializeC(docsA) !== yamlA) {
    fail('C (Yaml.stringify of the plain objects) does not reproduce A\'s synthYaml() output');
  }
  log('  C reproduces A\'s YAML byte for byte');
}

interface ChartsResult {
  readonly k: number;
  readonly a: TaskStats;
  readonly b: TaskStats;
}

/** E: K charts of one release each, A against B (interleaved rounds, same YAML). */
function timeCharts(k: number, rounds: number): ChartsResult {
  log(`\nK=${k} charts of one release each: ${rounds} rounds (load ${loadAverage()})`);
  const outputs = new Map<string, string>();
  const stats = runRounds([
    { name: 'A', fn: () => buildChartsA(k).synthYaml() },
    { name: 'B', fn: () => buildChartsB(k).synthYaml() },
  ], 1, rounds, (task, output) => outputs.set(task, sha1(output)), log);
  if (outputs.get('A') !== outputs.get('B')) {
    fail(`K=${k} charts: A's YAML differs from B's`);
  }
  const [a, b] = stats;
  log(`  medians: A ${ms(a.medianWallMs)} ms, B ${ms(b.medianWallMs)} ms, A/B ${(a.medianWallMs / b.medianWallMs).toFixed(2)}`);
  return { k, a, b };
}

interface NResult {
  readonly n: number;
  readonly stats: Record<Scenario, TaskStats>;
  readonly yamlBytes: number;
  readonly yamlSha1: string;
}

function timeN(n: number, warmup: number, rounds: number, docsFile: string): NResult {
  log(`\nN=${n}: ${warmup} warm-up + ${rounds} recorded rounds (load ${loadAverage()})`);
  // C's input: the final plain objects of A, built once. They are kept as one JSON string
  // and parsed outside the timing before each C sample, so that A's and B's samples do not
  // run with C's input alive in the heap (which would slow their garbage collections).
  const { docsJson, reference } = (() => {
    const app = buildA(n);
    const yaml = app.synthYaml();
    return { docsJson: JSON.stringify(docsOf(app)), reference: { bytes: Buffer.byteLength(yaml), sha1: sha1(yaml) } };
  })();
  writeFileSync(docsFile, docsJson);
  const outputs = new Map<string, string>();
  const stats = runRounds([
    { name: 'A', fn: () => synthA(n) },
    { name: 'B', fn: () => synthB(n) },
    { name: 'C', setup: () => JSON.parse(docsJson), fn: (docs: any[]) => serializeC(docs) },
  ], warmup, rounds, (task, output) => outputs.set(task, sha1(output)), log);
  const expected = reference.sha1;
  for (const [task, hash] of outputs) {
    if (hash !== expected) {
      fail(`N=${n}: ${task}'s YAML differs from A's reference YAML`);
    }
  }
  const byName = Object.fromEntries(stats.map((s) => [s.name, s])) as Record<Scenario, TaskStats>;
  log(`  medians: A ${ms(byName.A.medianWallMs)} ms, B ${ms(byName.B.medianWallMs)} ms, C ${ms(byName.C.medianWallMs)} ms`
    + ` (YAML ${mb(reference.bytes)} MB, identical for A, B and C)`);
  return { n, stats: byName, yamlBytes: reference.bytes, yamlSha1: expected };
}

async function main(): Promise<void> {
  const started = Date.now();
  log('cdk8s-mesh-release synth benchmark');
  machineInfo().forEach((l) => log(`  ${l}`));
  const sourceAtStart = sourceState(REPO);
  log(`  source: ${sourceAtStart}`);
  if (QUICK) {
    log('  BENCH_QUICK=1: few rounds, numbers are indicative only');
  }
  log();
  if (PHASES.has('equivalence')) {
    equivalenceCheck();
  }

  const scratch = mkdtempSync(join(tmpdir(), 'mesh-release-bench-'));
  const docsFiles = new Map<number, string>();
  const results: NResult[] = [];
  const memory: MemoryResult[] = [];
  let requireCost: RequireCost | undefined;
  let libNote = '';
  const cliPlans: CliPlanResult[] = [];
  let rollout: RolloutOverhead | undefined;
  const charts: ChartsResult[] = [];
  let checkScaling: CheckScaling | undefined;
  try {
    for (const { n, warmup, rounds } of PHASES.has('timing') ? PLAN : []) {
      const docsFile = join(scratch, `docs-${n}.json`);
      docsFiles.set(n, docsFile);
      results.push(timeN(n, warmup, rounds, docsFile));
    }

    if (PHASES.has('memory') && PHASES.has('timing')) {
      log(`\nMemory: one fresh child process per scenario and N (load ${loadAverage()})`);
      for (const { n } of PLAN) {
        for (const scenario of ['A', 'B', 'C'] as Scenario[]) {
          const m = measureMemory(scenario, n, REPO, scenario === 'C' ? docsFiles.get(n) : undefined);
          const expected = results.find((r) => r.n === n)!.yamlSha1;
          if (m.yamlSha1 !== expected) {
            fail(`memory probe ${scenario} N=${n} produced different YAML than the timed runs`);
          }
          memory.push(m);
          log(`  ${scenario} N=${n}: peak heap +${mb(m.peakHeapDeltaBytes)} MB, retained +${mb(m.retainedHeapDeltaBytes)} MB, `
            + `peak RSS ${mb(m.peakRssBytes)} MB (+${mb(m.peakRssDeltaBytes)} MB over ${mb(m.baselineRssBytes)} MB before the run), ${m.gcEventsDuringRun} GCs`);
        }
      }
    }

    if (PHASES.has('require')) {
      log(`\nRequire cost: ${REQUIRE_RUNS} fresh node processes each, alternating (load ${loadAverage()})`);
      const lib = locateLib(REPO, log);
      libNote = lib.note;
      log(`  library: ${lib.indexJs} — ${lib.note}`);
      requireCost = measureRequire(lib.indexJs, REPO, REQUIRE_RUNS);
      const min = (xs: number[]) => ms(Math.min(...xs));
      log(`  require(library)       median ${ms(requireCost.libMedianMs)} ms, min ${min(requireCost.libSamples)} ms  [${requireCost.libSamples.map(ms).join(' ')}]`);
      log(`  require(cdk8s-plus-28) median ${ms(requireCost.plusMedianMs)} ms, min ${min(requireCost.plusSamples)} ms  [${requireCost.plusSamples.map(ms).join(' ')}]`);
      log(`  ratio of medians ${requireCost.ratio.toFixed(2)}, ratio of minimums ${(Math.min(...requireCost.libSamples) / Math.min(...requireCost.plusSamples)).toFixed(2)}`);
      log(`  paired (${REQUIRE_RUNS} processes requiring cdk8s-plus-28 then the library): the library adds a median ${ms(requireCost.pairedExtraMedianMs)} ms, ratio ${requireCost.pairedRatio.toFixed(2)}`);
    }

    if (PHASES.has('check')) {
      log(`\nSafetyCheck engine, canary of many services, 10% -> 50% (load ${loadAverage()})`);
      checkScaling = measureCheckScaling(QUICK ? 3 : 7, log);
    }
    if (PHASES.has('charts')) {
      for (const k of [10, 100]) {
        charts.push(timeCharts(k, QUICK ? 1 : 3));
      }
    }
    if (PHASES.has('cli')) {
      log(`\nmesh-release plan vs one cdk8s synth: ${CLI_ROUNDS} interleaved rounds per app (load ${loadAverage()})`);
      cliPlans.push(measureCliPlan(REPO, join(REPO, 'examples', 'helloworld'), 'examples/helloworld', CLI_ROUNDS, true, log));
      cliPlans.push(measureCliPlan(REPO, manyServicesApp(REPO, 100), '100 services', CLI_ROUNDS, false, log));
    }
    if (PHASES.has('rollout')) {
      log(`\nmesh-release rollout of ${ROLLOUT_SERVICES} services against envtest: the driver's own work per stage (load ${loadAverage()})`);
      rollout = await measureRolloutOverhead(REPO, ROLLOUT_SERVICES, log);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  // ---- summary -------------------------------------------------------------------------
  const at = (n: number) => results.find((r) => r.n === n)!;
  if (results.length) {
    log('\n## Results (medians)\n');
    log('| N | A ms | B ms | C ms | A/B | A/C | A/B (CPU) | A/C (CPU) | YAML MB |');
    log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      const { A, B, C } = r.stats;
      log(`| ${r.n} | ${ms(A.medianWallMs)} | ${ms(B.medianWallMs)} | ${ms(C.medianWallMs)} | `
        + `${(A.medianWallMs / B.medianWallMs).toFixed(2)} | ${(A.medianWallMs / C.medianWallMs).toFixed(2)} | `
        + `${(A.medianCpuMs / B.medianCpuMs).toFixed(2)} | ${(A.medianCpuMs / C.medianCpuMs).toFixed(2)} | ${mb(r.yamlBytes)} |`);
    }
  }
  if (memory.length) {
    log('\n| N | scenario | peak heap Δ MB | retained heap Δ MB | peak RSS MB | peak RSS Δ MB |');
    log('|---|---|---:|---:|---:|---:|');
    for (const m of memory) {
      log(`| ${m.n} | ${m.scenario} | ${mb(m.peakHeapDeltaBytes)} | ${mb(m.retainedHeapDeltaBytes)} | ${mb(m.peakRssBytes)} | ${mb(m.peakRssDeltaBytes)} |`);
    }
  }

  if (cliPlans.length) {
    log('\n| app | stages | cdk8s synth s | plan s | plan / synth | plan --isolate s | isolate / synth |');
    log('|---|---:|---:|---:|---:|---:|---:|');
    for (const c of cliPlans) {
      log(`| ${c.app} | ${c.stages} | ${(c.synthMs / 1000).toFixed(1)} | ${(c.planMs / 1000).toFixed(1)} | ${(c.planMs / c.synthMs).toFixed(2)} | `
        + `${c.isolateMs === undefined ? '-' : (c.isolateMs / 1000).toFixed(1)} | ${c.isolateMs === undefined ? '-' : (c.isolateMs / c.synthMs).toFixed(2)} |`);
    }
  }

  log('\n## Targets (wall-clock medians; in brackets the same ratio on CPU-time medians, or the paired require estimate)\n');
  const lines: string[] = [];
  const both = (wall: number, cpu: number, max: number) =>
    `${wall.toFixed(2)} (≤ ${max}) ${verdict(wall, max)}   [CPU time: ${cpu.toFixed(2)} ${verdict(cpu, max)}]`;
  // The spread of the ratio within a round (both scenarios measured seconds apart): when it
  // straddles the target, the verdict is within the noise of this machine.
  const spread = (x: TaskStats, y: TaskStats) => {
    const ratios = x.samples.map((s, i) => s.wallMs / y.samples[i].wallMs);
    return `   [per round: ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}]`;
  };
  for (const r of results) {
    const { A, B, C } = r.stats;
    lines.push(`N=${r.n}: A/B = ${both(A.medianWallMs / B.medianWallMs, A.medianCpuMs / B.medianCpuMs, TARGETS.aOverB)}${spread(A, B)}`);
    lines.push(`N=${r.n}: A/C = ${both(A.medianWallMs / C.medianWallMs, A.medianCpuMs / C.medianCpuMs, TARGETS.aOverC)}${spread(A, C)}`);
  }
  if (results.some((r) => r.n === 1000) && results.some((r) => r.n === 2000)) {
    const scale = (s: Scenario, cpu = false) => {
      const pick = (r: NResult) => (cpu ? r.stats[s].medianCpuMs : r.stats[s].medianWallMs);
      return pick(at(2000)) / pick(at(1000));
    };
    lines.push(`time_A(2000)/time_A(1000) = ${both(scale('A'), scale('A', true), TARGETS.scaling)}`
      + `   [for reference, wall/CPU: B ${scale('B').toFixed(2)}/${scale('B', true).toFixed(2)}, C ${scale('C').toFixed(2)}/${scale('C', true).toFixed(2)}]`);
  }
  if (requireCost) {
    lines.push(`require(library)/require(cdk8s-plus-28) = ${requireCost.ratio.toFixed(2)} (≤ ${TARGETS.require}) ${verdict(requireCost.ratio, TARGETS.require)}`
      + `   [paired: ${requireCost.pairedRatio.toFixed(2)} ${verdict(requireCost.pairedRatio, TARGETS.require)}]`
      + `   [${ms(requireCost.libMedianMs)} ms vs ${ms(requireCost.plusMedianMs)} ms; ${libNote}]`);
  }
  if (checkScaling) {
    lines.push(`check, time per object at ${checkScaling.objects[1]} / at ${checkScaling.objects[0]} objects per side = ${checkScaling.perObjectRatio.toFixed(2)} `
      + `(≤ ${TARGETS.checkPerObject}: linear) ${verdict(checkScaling.perObjectRatio, TARGETS.checkPerObject)}`
      + `   [${checkScaling.medianMs.map((m) => `${m.toFixed(0)} ms`).join(' vs ')}]`);
  }
  for (const c of charts) {
    lines.push(`${c.k} charts of one release each: A/B = ${(c.a.medianWallMs / c.b.medianWallMs).toFixed(2)} (no target: cdk8s runs every `
      + `validation once per chart, so each release's synth-time check renders it ${c.k + 1} times)   [${ms(c.a.medianWallMs)} ms vs ${ms(c.b.medianWallMs)} ms]`);
  }
  for (const c of cliPlans) {
    lines.push(`${c.app}: plan/synth = ${(c.planMs / c.synthMs).toFixed(2)} (≤ ${TARGETS.planOverSynth}) ${verdict(c.planMs / c.synthMs, TARGETS.planOverSynth)}`
      + `   [${(c.planMs / 1000).toFixed(1)} s vs ${(c.synthMs / 1000).toFixed(1)} s, ${c.stages} stages]`);
  }
  if (rollout) {
    lines.push(`rollout of ${rollout.services} services: the driver's own work per stage, max ${rollout.maxOwnMs} ms `
      + `(≤ ${TARGETS.rolloutOwnMsPerStage} ms) ${verdict(rollout.maxOwnMs, TARGETS.rolloutOwnMsPerStage)}, median ${rollout.medianOwnMs} ms; `
      + `ratio max / target ${(rollout.maxOwnMs / TARGETS.rolloutOwnMsPerStage).toFixed(2)}   [${rollout.stages.length} stages, `
      + `${rollout.stages.reduce((t, s) => t + s.seconds, 0).toFixed(0)} s in stages, ${rollout.totalSeconds.toFixed(0)} s in all; `
      + `load ${rollout.loadBefore} before, ${rollout.loadAfter} after]`);
  }
  lines.forEach((l) => log(`- ${l}`));
  const sourceAtEnd = sourceState(REPO);
  if (sourceAtEnd !== sourceAtStart) {
    log(`\n⚠ the source changed during the run: ${sourceAtStart} -> ${sourceAtEnd} (memory probes and the require phase load src/ later than the timing rounds)`);
  }
  log(`\nload average at the end: ${loadAverage()}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
