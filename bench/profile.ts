/**
 * One scenario at one N, for profiling (not part of `npx projen bench`):
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof -r ts-node/register/transpile-only bench/profile.ts A 2000
 *
 * Runs the scenario once at N=100 (warm-up), then once at N, and prints the time.
 */
import { buildA, buildB } from './scenarios';

const [scenario = 'A', nArg = '2000'] = process.argv.slice(2);
const build = scenario === 'B' ? buildB : buildA;
build(100).synthYaml();
const t0 = performance.now();
const yaml = build(Number(nArg)).synthYaml();
console.log(`${scenario} N=${nArg}: ${(performance.now() - t0).toFixed(0)} ms, ${yaml.length} chars`);
