/**
 * `mesh-release plan` against one `cdk8s synth` of the same app (issue 11: plan ≤ 2x one synth), for
 * the bundled example (2 releases, 9 + 4 stages) and a generated app of 100 services (one canary plan
 * of 9 stages each). Each round runs, in turn (the order rotates):
 *   synth    `cdk8s synth --no-check-upgrade` of the app (the cdk8s CLI, which runs the app once);
 *   plan     `mesh-release plan --app <app>` (all stages in one app process: discovery + every stage);
 *   isolate  `mesh-release plan --app <app> --isolate` (one app process per stage, the former design).
 * The CLI is the transpiled build the CLI tests use (test/cli/_build.ts). Wall-clock medians.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cliBuild } from '../test/cli/_build';
import { loadAverage } from './machine';

export interface CliPlanResult {
  readonly app: string;
  readonly stages: number;
  readonly synthMs: number;
  readonly planMs: number;
  readonly isolateMs?: number;
  readonly samples: { [task: string]: number[] };
}

type Task = 'synth' | 'plan' | 'isolate';

/** A cdk8s app of `n` services, each a MeshRelease of the canary plan at RELEASE_STAGE, in `bench/.apps/`. */
export function manyServicesApp(repo: string, n: number): string {
  const dir = path.join(repo, 'bench', '.apps', `services-${n}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.ts'), `import { App, Chart } from 'cdk8s';
import { MeshRelease, ReleasePlan } from 'cdk8s-mesh-release';

const app = new App();
const chart = new Chart(app, 'services', { namespace: 'shop' });
const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
const stage = plan.stage(process.env.RELEASE_STAGE ?? 'shift-10');
for (let i = 0; i < ${n}; i++) {
  new MeshRelease(chart, \`svc-\${i}\`, {
    app: \`svc-\${i}\`,
    port: 8080,
    versions: [{ version: 'v1', image: 'example/svc:1.0.0' }, { version: 'v2', image: 'example/svc:2.0.0' }],
    stage,
  });
}
app.synth();
`);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0', strict: true, rootDir: '../../..',
      esModuleInterop: true, skipLibCheck: true, types: ['node'], baseUrl: '.', paths: { 'cdk8s-mesh-release': ['../../../src/index.ts'] },
    },
    include: ['main.ts'],
  }, undefined, 2));
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'app: node -r ts-node/register/transpile-only -r tsconfig-paths/register main.ts\n');
  return dir;
}

function timeTask(task: Task, repo: string, app: string, scratch: string): number {
  const cdk8s = path.join(repo, 'node_modules', '.bin', 'cdk8s');
  const main = path.join(cliBuild(), 'cli', 'main.js');
  const out = path.join(scratch, task);
  fs.rmSync(out, { recursive: true, force: true });
  const [command, args] = task === 'synth'
    ? [cdk8s, ['synth', '--no-check-upgrade', '--output', out]]
    : [process.execPath, [main, 'plan', '--app', app, '--out', out, ...(task === 'isolate' ? ['--isolate'] : [])]];
  const env = { ...process.env, CDK8S_CHECK_UPGRADE: 'false' };
  delete env.RELEASE_STAGE;
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: app, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${task} of ${app} failed (${result.status}):\n${result.stderr}\n${result.stdout}`.slice(0, 4000));
  }
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Interleaved rounds of synth / plan (/ isolate) on one app. */
export function measureCliPlan(repo: string, app: string, label: string, rounds: number, withIsolate: boolean, log: (line: string) => void): CliPlanResult {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-release-bench-cli-'));
  const tasks: Task[] = withIsolate ? ['synth', 'plan', 'isolate'] : ['synth', 'plan'];
  const samples: { [task: string]: number[] } = Object.fromEntries(tasks.map((t) => [t, []]));
  try {
    // Warm-up: file caches, the CLI build, ts-node's first compile.
    tasks.forEach((t) => timeTask(t, repo, app, scratch));
    for (let round = 0; round < rounds; round++) {
      const order = tasks.map((_, i) => tasks[(i + round) % tasks.length]);
      for (const task of order) {
        samples[task].push(timeTask(task, repo, app, scratch));
      }
      log(`  ${label} round ${round + 1}/${rounds}: ${order.map((t) => `${t} ${(samples[t][samples[t].length - 1] / 1000).toFixed(1)} s`).join(', ')} (load ${loadAverage()})`);
    }
    const stages = fs.readdirSync(path.join(scratch, 'plan')).filter((d) => /^\d\d-/.test(d)).length;
    return {
      app: label,
      stages,
      synthMs: median(samples.synth),
      planMs: median(samples.plan),
      isolateMs: withIsolate ? median(samples.isolate) : undefined,
      samples,
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
