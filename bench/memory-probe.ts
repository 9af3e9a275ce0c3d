/**
 * Child process of the benchmark: measures the memory of ONE scenario at one N in a fresh
 * process (so the peak RSS is this scenario's, not the benchmark's history).
 *
 *   node --expose-gc --trace-gc -r ts-node/register/transpile-only bench/memory-probe.ts <A|B|C> <N> <out.json> [docs.json]
 *
 * Writes JSON to <out.json>; V8's --trace-gc lines go to stdout, where the parent reads the
 * heap size before every collection that happened during the run (see memory.ts). The run is
 * delimited by explicit gc() calls, which --trace-gc reports with the reason "testing".
 */
import { createHash } from 'crypto';
import { readFileSync, writeFileSync } from 'fs';
import { buildA, buildB, serializeC } from './scenarios';

const [scenario, nArg, outFile, docsFile] = process.argv.slice(2);
const n = Number(nArg);
const collect = (global as any).gc as () => void;

let docs: any[] | undefined;
if (scenario === 'C') {
  docs = JSON.parse(readFileSync(docsFile, 'utf8'));
}

// Warm-up at a small N: every module is loaded and compiled before the baseline.
const run = (count: number): { keep: unknown; yaml: string } => {
  if (scenario === 'A' || scenario === 'B') {
    const app = (scenario === 'A' ? buildA : buildB)(count);
    return { keep: app, yaml: app.synthYaml() };
  }
  return { keep: undefined, yaml: serializeC(count === n ? docs! : docs!.slice(0, 9 * count)) };
};
run(Math.min(n, 10));

collect();
collect(); // the 2nd explicit gc is the "start" marker
const before = process.memoryUsage();
const result = run(n);
const after = process.memoryUsage(); // live objects + garbage not yet collected
collect(); // the "end" marker; the output (App tree + YAML string) is still referenced
const retained = process.memoryUsage();
const maxRssBytes = process.resourceUsage().maxRSS * 1024;

writeFileSync(outFile, JSON.stringify({
  scenario,
  n,
  before,
  after,
  retained,
  maxRssBytes,
  yamlSha1: createHash('sha1').update(result.yaml).digest('hex'),
  yamlBytes: Buffer.byteLength(result.yaml),
  kept: result.keep !== undefined,
}));
