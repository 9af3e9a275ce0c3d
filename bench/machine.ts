import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import { cpus, loadavg, totalmem } from 'os';

/** What the numbers were measured on. */
export function machineInfo(): string[] {
  const cpuModel = (() => {
    try {
      return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
    } catch {
      return cpus()[0]?.model;
    }
  })();
  const nproc = (() => {
    try {
      return execFileSync('nproc', { encoding: 'utf8' }).trim();
    } catch {
      return String(cpus().length);
    }
  })();
  const free = (() => {
    try {
      return execFileSync('free', ['-h'], { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Mem:'))?.replace(/\s+/g, ' ');
    } catch {
      return `${(totalmem() / 2 ** 30).toFixed(1)}Gi total`;
    }
  })();
  const pkg = (name: string) => {
    try {
      return require(`${name}/package.json`).version;
    } catch {
      return '?';
    }
  };
  return [
    `node ${process.version} (${process.platform}/${process.arch}), nproc ${nproc}, CPU ${cpuModel}`,
    `free -h: ${free}`,
    `cdk8s ${pkg('cdk8s')}, cdk8s-plus-28 ${pkg('cdk8s-plus-28')}, yaml (bundled in cdk8s) ${require('cdk8s/node_modules/yaml/package.json').version}`,
    `load average now: ${loadAverage()}`,
  ];
}

/** The commit measured, and whether src/ has uncommitted changes (other people may edit the checkout meanwhile). */
export function sourceState(repoRoot: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    return `git ${head}${dirty ? ` + uncommitted changes in src/ (${dirty.split('\n').length} paths)` : ', src/ clean'}`;
  } catch {
    return 'git state unknown';
  }
}

export function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}
