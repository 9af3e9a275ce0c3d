/**
 * How `SafetyCheck`'s engine scales (issue 11: `check` in linear time): the transition of a canary of
 * n services (9 objects each) from 10% to 50%, at ~2,000 and ~20,000 objects per side. Interleaved
 * rounds, gc before each sample, medians. Linear rules cost about the same per object at both sizes
 * (a ratio near 1); rules comparing objects pairwise would make it ~10.
 */
import { checkManifests } from '../src/routing/_registry';
import { readOptions } from '../src/safety/_engine';
import { canaryOfServices } from '../test/_many-services';

export interface CheckScaling {
  readonly objects: number[];
  readonly medianMs: number[];
  /** (ms per object at the large size) / (ms per object at the small size). */
  readonly perObjectRatio: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function measureCheckScaling(rounds: number, log: (line: string) => void): CheckScaling {
  const sizes = [222, 2222];
  const inputs = sizes.map((n) => [canaryOfServices(n, 10), canaryOfServices(n, 50)]);
  const samples: number[][] = sizes.map(() => []);
  const once = (i: number) => {
    (global as any).gc?.();
    const [before, after] = inputs[i];
    const start = process.hrtime.bigint();
    const violations = checkManifests(after, before, readOptions());
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (violations.length > 0) {
      throw new Error(`the canary of ${sizes[i]} services should be safe: ${JSON.stringify(violations[0])}`);
    }
    return ms;
  };
  sizes.forEach((_, i) => once(i)); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const i of round % 2 ? [1, 0] : [0, 1]) {
      samples[i].push(once(i));
    }
  }
  const objects = inputs.map(([before]) => before.length);
  const medianMs = samples.map(median);
  const perObjectRatio = (medianMs[1] / objects[1]) / (medianMs[0] / objects[0]);
  log(`  ${objects.map((n, i) => `${n} objects per side: ${medianMs[i].toFixed(0)} ms`).join(', ')}; per object, large/small = ${perObjectRatio.toFixed(2)}`);
  return { objects, medianMs, perObjectRatio };
}
