/**
 * Cost of `require()`-ing the jsii-compiled library vs `require('cdk8s-plus-28')` alone, each
 * in fresh node processes, interleaved, medians.
 *
 * The library is required from `<repo>/lib/index.js` when that output is up to date with
 * src/ (every module reachable from src/index.ts has a lib/*.js at least as new as its .ts).
 * Otherwise — lib/ missing or stale — it is compiled with jsii into a scratch directory under
 * the OS temp dir (a copy of package.json, tsconfig.json and src/, with node_modules linked),
 * so the shared checkout's lib/ and .jsii are never written. tsconfig's `include` is narrowed
 * to src/index.ts (and what it imports), so files being written in src/ that the package does
 * not export yet cannot break the build.
 */
import { execFileSync, spawnSync } from 'child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, relative, resolve } from 'path';
import { median } from './harness';

export interface LibLocation {
  readonly indexJs: string;
  /** How the library was obtained, for the report. */
  readonly note: string;
}

/** src/index.ts and every relative import it reaches. */
function moduleClosure(srcDir: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) {
      return;
    }
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import|require\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), m[1]);
      visit(existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts'));
    }
  };
  visit(join(srcDir, 'index.ts'));
  return [...seen];
}

function staleModules(repoRoot: string): string[] {
  const srcDir = join(repoRoot, 'src');
  return moduleClosure(srcDir).filter((ts) => {
    const js = join(repoRoot, 'lib', relative(srcDir, ts)).replace(/\.ts$/, '.js');
    return !existsSync(js) || statSync(js).mtimeMs < statSync(ts).mtimeMs;
  }).map((ts) => relative(repoRoot, ts));
}

export function locateLib(repoRoot: string, log: (line: string) => void): LibLocation {
  const repoLib = join(repoRoot, 'lib', 'index.js');
  const stale = staleModules(repoRoot);
  if (existsSync(repoLib) && stale.length === 0) {
    return { indexJs: repoLib, note: 'lib/ (up to date with src/)' };
  }
  const why = existsSync(repoLib) ? `lib/ is stale (${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', ...' : ''} newer or missing)` : 'lib/ is missing';
  const scratch = join(tmpdir(), 'cdk8s-mesh-release-bench', 'lib-build');
  log(`  ${why}: compiling with jsii into ${scratch} (the checkout's lib/ is not touched)`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  for (const file of ['package.json', 'README.md', 'LICENSE']) {
    if (existsSync(join(repoRoot, file))) {
      copyFileSync(join(repoRoot, file), join(scratch, file));
    }
  }
  const tsconfig = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8'));
  tsconfig.include = ['src/index.ts'];
  writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify(tsconfig, undefined, 2));
  cpSync(join(repoRoot, 'src'), join(scratch, 'src'), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  const started = Date.now();
  try {
    execFileSync(join(repoRoot, 'node_modules', '.bin', 'jsii'), ['--silence-warnings=reserved-word'], { cwd: scratch, stdio: 'pipe' });
  } catch (e: any) {
    throw new Error(`jsii failed in ${scratch}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  return {
    indexJs: join(scratch, 'lib', 'index.js'),
    note: `${why}; compiled with jsii (${((Date.now() - started) / 1000).toFixed(1)}s) into a scratch dir`,
  };
}

export interface RequireCost {
  readonly libMedianMs: number;
  readonly plusMedianMs: number;
  readonly libSamples: number[];
  readonly plusSamples: number[];
  /** Median of require(library) over median of require(cdk8s-plus-28), each in its own fresh processes. */
  readonly ratio: number;
  /**
   * The same ratio measured pairwise, less sensitive to load from other processes: in one fresh
   * process, require(cdk8s-plus-28) takes P ms, then require(library) takes E ms more (it only
   * adds its own modules: everything else is cached); the estimate is the median of (P + E) / P.
   */
  readonly pairedRatio: number;
  readonly pairedExtraMedianMs: number;
}

function requireOnce(modulePath: string, cwd: string): number {
  const script = 'const t=process.hrtime.bigint();require(process.argv[1]);'
    + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const child = spawnSync(process.execPath, ['-e', script, modulePath], { cwd, encoding: 'utf8' });
  if (child.status !== 0) {
    throw new Error(`require(${modulePath}) failed:\n${child.stderr}`);
  }
  return Number(child.stdout);
}

function requirePaired(plus: string, lib: string, cwd: string): { plus: number; extra: number } {
  const script = 'const h=()=>process.hrtime.bigint();const t0=h();require(process.argv[1]);const t1=h();require(process.argv[2]);const t2=h();'
    + 'process.stdout.write(JSON.stringify({plus:Number(t1-t0)/1e6,extra:Number(t2-t1)/1e6}))';
  const child = spawnSync(process.execPath, ['-e', script, plus, lib], { cwd, encoding: 'utf8' });
  if (child.status !== 0) {
    throw new Error(`paired require failed:\n${child.stderr}`);
  }
  return JSON.parse(child.stdout);
}

/** `runs` fresh processes per module (after one unrecorded warm-up each, for the OS file cache), alternating. */
export function measureRequire(libIndexJs: string, repoRoot: string, runs: number): RequireCost {
  const plus = require.resolve('cdk8s-plus-28', { paths: [repoRoot] });
  requireOnce(libIndexJs, repoRoot);
  requireOnce(plus, repoRoot);
  const libSamples: number[] = [];
  const plusSamples: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      libSamples.push(requireOnce(libIndexJs, repoRoot));
      plusSamples.push(requireOnce(plus, repoRoot));
    } else {
      plusSamples.push(requireOnce(plus, repoRoot));
      libSamples.push(requireOnce(libIndexJs, repoRoot));
    }
  }
  const paired = Array.from({ length: runs }, () => requirePaired(plus, libIndexJs, repoRoot));
  const libMedianMs = median(libSamples);
  const plusMedianMs = median(plusSamples);
  return {
    libMedianMs,
    plusMedianMs,
    libSamples,
    plusSamples,
    ratio: libMedianMs / plusMedianMs,
    pairedRatio: median(paired.map((p) => (p.plus + p.extra) / p.plus)),
    pairedExtraMedianMs: median(paired.map((p) => p.extra)),
  };
}
