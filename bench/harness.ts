/**
 * A small timing harness: scenarios run in interleaved rounds (A B C, B C A, C A B, ...) so
 * that load from other processes and heap state hit every scenario alike; `global.gc()`
 * runs before every sample so no sample pays for the garbage of the previous one (its own
 * garbage collections are included). Wall-clock and process CPU time are both recorded.
 */

export interface Sample {
  /** Wall-clock milliseconds. */
  readonly wallMs: number;
  /** User + system CPU milliseconds of the whole process (includes V8's GC helper threads). */
  readonly cpuMs: number;
}

export interface TaskStats {
  readonly name: string;
  readonly samples: Sample[];
  readonly medianWallMs: number;
  readonly medianCpuMs: number;
  readonly minWallMs: number;
  readonly maxWallMs: number;
}

export interface Task {
  readonly name: string;
  /** Prepares the input of one sample, outside the timing (e.g. parses C's plain objects). */
  readonly setup?: () => any;
  /** Runs once and returns its output (kept, so the work cannot be optimized away). */
  readonly fn: (input: any) => string;
}

export function gc(): void {
  const collect = (global as any).gc as (() => void) | undefined;
  if (!collect) {
    throw new Error('run node with --expose-gc (npx projen bench does)');
  }
  collect();
  collect();
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

let sink = 0;

function sample(task: Task): { sample: Sample; output: string } {
  const input = task.setup?.();
  gc();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const output = task.fn(input);
  const t1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  sink += output.length;
  return { sample: { wallMs: Number(t1 - t0) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 }, output };
}

/**
 * `warmupRounds` unrecorded rounds, then `rounds` recorded ones; each round runs every task
 * once, in an order rotated by one each round. `onOutput` sees every task's output of the
 * first recorded round (for the equivalence checks).
 */
export function runRounds(tasks: Task[], warmupRounds: number, rounds: number,
  onOutput?: (task: string, output: string) => void, log?: (line: string) => void): TaskStats[] {
  const samples = new Map<string, Sample[]>(tasks.map((t) => [t.name, []]));
  for (let round = 0; round < warmupRounds + rounds; round++) {
    const recorded = round >= warmupRounds;
    const order = tasks.map((_, i) => tasks[(i + round) % tasks.length]);
    const line: string[] = [];
    for (const task of order) {
      const { sample: s, output } = sample(task);
      if (recorded) {
        samples.get(task.name)!.push(s);
        if (round === warmupRounds) {
          onOutput?.(task.name, output);
        }
      }
      line.push(`${task.name} ${s.wallMs.toFixed(0)}ms`);
    }
    log?.(`  ${recorded ? 'round' : 'warm-up'} ${recorded ? round - warmupRounds + 1 : round + 1}: ${line.join(', ')}`);
  }
  if (sink < 0) {
    console.log(sink);
  }
  return tasks.map((t) => {
    const s = samples.get(t.name)!;
    const walls = s.map((x) => x.wallMs);
    return {
      name: t.name,
      samples: s,
      medianWallMs: median(walls),
      medianCpuMs: median(s.map((x) => x.cpuMs)),
      minWallMs: Math.min(...walls),
      maxWallMs: Math.max(...walls),
    };
  });
}
