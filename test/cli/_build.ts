/**
 * The CLI transpiled once (TypeScript → CommonJS with esbuild, no type check: jsii and eslint check types) into
 * `.cli-build/<hash of the sources>/`, from its entry points and what they reach, to run as the bin is
 * (`node <build>/cli/main.js ...`). Parallel test files (and the benchmark) share one build (a lock
 * directory), and a build is reused while the sources are the same. The build holds only modules the
 * CLI reaches: if a CLI module started to import the construct library (cdk8s), the generated classes
 * would be missing here and the CLI tests would fail.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { SALT, transpileTypeScript } from '../_transform';

export const ROOT = path.join(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const ENTRIES = ['cli/main.ts', 'cli/synth-hook.ts', 'cli/_schemas.ts'];

/** The source files the CLI reaches from its entry points (static imports and `require('./x')` of relative paths). */
function closure(): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) {
      return;
    }
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|require\(|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const base = path.resolve(path.dirname(file), m[1]);
      const target = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
      if (target) {
        visit(target);
      }
    }
  };
  ENTRIES.forEach((e) => visit(path.join(SRC, e)));
  return [...seen].sort();
}

let built: string | undefined;

/** The directory of the transpiled CLI (`<dir>/cli/main.js`), built if needed. */
export function cliBuild(): string {
  if (built) {
    return built;
  }
  const files = closure();
  const hash = createHash('sha1').update(fs.readFileSync(__filename)).update(SALT); // and how they are transpiled
  for (const f of files) {
    hash.update(f).update(fs.readFileSync(f));
  }
  const dir = path.join(ROOT, '.cli-build', hash.digest('hex').slice(0, 16));
  const done = path.join(dir, '.done');
  const lock = `${dir}.lock`;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  for (let waited = 0; !fs.existsSync(done); waited++) {
    try {
      fs.mkdirSync(lock);
    } catch {
      if (waited > 600) {
        throw new Error(`timed out waiting for ${lock} (remove it if no test runs)`);
      }
      spawnSync('sleep', ['0.1']);
      continue;
    }
    try {
      transpile(files, dir);
      fs.writeFileSync(done, files.join('\n'));
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
  // Builds of other sources are stale: keep the directory small.
  for (const other of fs.readdirSync(path.dirname(dir))) {
    const full = path.join(path.dirname(dir), other);
    if (full !== dir && !other.endsWith('.lock') && fs.statSync(full).mtimeMs < Date.now() - 3600_000) {
      fs.rmSync(full, { recursive: true, force: true });
    }
  }
  built = dir;
  return dir;
}

function transpile(files: string[], dir: string): void {
  // The tests' own transform (esbuild, test/_transform.js): ~0.1 s for the CLI where TypeScript's transpileModule
  // took ~2.5 s (loading TypeScript itself, on every fresh checkout, before any CLI test ran).
  for (const file of files) {
    const out = transpileTypeScript(fs.readFileSync(file, 'utf8'), file).code;
    const target = path.join(dir, path.relative(SRC, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.endsWith(path.join('cli', 'main.ts')) ? out : out.replace(/^#!.*\n/, ''));
  }
}
