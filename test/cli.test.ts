/**
 * End-to-end tests of the `mesh-release` CLI: the library is built with tsc (as the package's `lib/`), and each
 * test runs the built bin as a process (`node <build>/cli/main.js ...`), checking stdout, stderr and the exit code.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
/** Where the library is built for these tests (inside the repository, so node_modules resolve). */
const BUILD = path.join(ROOT, '.cli-build');

beforeAll(() => {
  fs.rmSync(BUILD, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', BUILD,
    '--declaration', 'false', '--inlineSourceMap', 'false', '--inlineSources', 'false'], { cwd: ROOT, encoding: 'utf8' });
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(fs.readFileSync(path.join(BUILD, 'cli', 'main.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
}, 120_000);

afterAll(() => fs.rmSync(BUILD, { recursive: true, force: true }));
const FIXTURES = path.join(__dirname, 'fixtures', 'cli');
const EXAMPLE = path.join('examples', 'helloworld');
/** Synthesizing the example runs `npx ts-node main.ts` once per stage (a few seconds each). */
const SYNTH_TIMEOUT = 600_000;
const STAGES = ['stable', 'add-subset', 'deploy', 'shift-10', 'shift-50', 'shift-100', 'unroute', 'remove-subset', 'retire'];

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(...args: string[]): Run {
  const env = { ...process.env };
  delete env.RELEASE_STAGE;
  const result = spawnSync(process.execPath, [path.join(BUILD, 'cli', 'main.js'), ...args], {
    cwd: ROOT, env, encoding: 'utf8', timeout: SYNTH_TIMEOUT,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-release-test-'));
  tmpDirs.push(dir);
  return dir;
}

/**
 * A fake cdk8s app (plain node, fast) writing one release as JSON (valid YAML) to $CDK8S_OUTDIR:
 * `stages` maps a stage name to [deployed versions, subsets, weights].
 */
function fakeApp(stages: { [stage: string]: [string[], string[], { [version: string]: number }] }, options: { ignoreStage?: boolean } = {}): string {
  const dir = tmpDir();
  const script = `
const fs = require('fs');
const stages = ${JSON.stringify(stages)};
const names = Object.keys(stages);
const stage = ${options.ignoreStage ? 'names[0]' : 'process.env.RELEASE_STAGE || names[0]'};
if (!stages[stage]) { console.error('unknown stage ' + stage); process.exit(1); }
const [deployed, subsets, weights] = stages[stage];
const ns = 'shop';
const host = 'web.shop.svc.cluster.local';
const objects = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' } } },
  ...deployed.map((v) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web-' + v, namespace: ns },
    spec: { template: { metadata: { labels: { app: 'web', version: v } }, spec: { containers: [] } } } })),
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: ns },
    spec: { host, subsets: subsets.map((v) => ({ name: v, labels: { version: v } })) } },
  { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService',
    metadata: { name: 'web', namespace: ns, annotations: { 'mesh-release.io/stage': stage, 'mesh-release.io/plan-stages': names.join(',') } },
    spec: { hosts: [host], http: [{ route: Object.entries(weights).map(([v, w]) => ({ destination: { host, subset: v }, weight: w })) }] } },
];
fs.writeFileSync(process.env.CDK8S_OUTDIR + '/web.k8s.yaml', objects.map((o) => JSON.stringify(o)).join('\\n---\\n'));
`;
  fs.writeFileSync(path.join(dir, 'app.js'), script);
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'app: node app.js\n');
  return dir;
}

describe('--help', () => {
  test.each([[[]], [['plan']], [['check']], [['runbook']]])('mesh-release %j --help exits 0 with usage', (command: string[]) => {
    const run = cli(...command, '--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Usage: mesh-release${command.length ? ` ${command[0]}` : ''}`);
    expect(run.stdout).toContain('Exit codes:');
  }, 30_000);

  test('plan --help documents how the release is chosen', () => {
    const run = cli('plan', '--help');
    expect(run.stdout).toContain('--release <name>');
    expect(run.stdout).toMatch(/RELEASE_STAGE/);
    expect(run.stdout).toContain('<out>/<NN>-<stage>');
  }, 30_000);

  test('no command, an unknown command or option: usage error, exit 2', () => {
    expect(cli().status).toBe(2);
    const unknown = cli('deploy');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'deploy'");
    const missing = cli('plan');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("required option '--app <dir>' not specified");
  }, 30_000);
});

describe('plan on examples/helloworld', () => {
  let out: string;
  let run: Run;
  beforeAll(() => {
    out = tmpDir();
    run = cli('plan', '--app', EXAMPLE, '--out', out);
  }, SYNTH_TIMEOUT);

  test('exits 0 and picks helloworld, the release RELEASE_STAGE drives (ratings is fixed at pin-v3)', () => {
    expect(run.stderr).not.toContain('error');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Release plan of helloworld in namespace shop');
    expect(run.stderr).toContain('probing RELEASE_STAGE=stable');
  });

  test('writes one directory of YAML per stage, 01-stable ... 09-retire', () => {
    expect(fs.readdirSync(out).sort()).toEqual(STAGES.map((s, i) => `0${i + 1}-${s}`));
    STAGES.forEach((stage, i) => {
      const files = fs.readdirSync(path.join(out, `0${i + 1}-${stage}`));
      expect(files.filter((f) => f.endsWith('.yaml'))).not.toHaveLength(0);
      const yaml = fs.readFileSync(path.join(out, `0${i + 1}-${stage}`, files[0]), 'utf8');
      expect(yaml).toContain(`mesh-release.io/stage: ${stage}`);
    });
    expect(run.stdout).toContain(`9 stages written to ${out}${path.sep} (01-stable … 09-retire)`);
  });

  test('prints one row per stage with deployments, subsets, weight bars and an OK verdict', () => {
    const rows = run.stdout.split('\n').filter((line) => /^0[1-9] {2}/.test(line));
    expect(rows).toHaveLength(9);
    rows.forEach((row, i) => {
      expect(row).toMatch(new RegExp(`^0${i + 1} {2}${STAGES[i]} .* OK$`));
    });
    expect(run.stdout).toMatch(/catch-all route weights +safety/);
    expect(rows[0]).toMatch(/stable +v1 +v1 +v1 ██████████ 100/);
    expect(rows[2]).toMatch(/deploy +v1, v2 +v1, v2 +v1 ██████████ 100/);
    expect(rows[3]).toContain('v1 █████████░  90  v2 █░░░░░░░░░  10');
    expect(rows[5]).toContain('v1 ░░░░░░░░░░   0  v2 ██████████ 100');
    expect(rows[8]).toMatch(/retire +v2 +v2 +v2 ██████████ 100/);
    expect(run.stdout).toContain('OK: every stage is safe to apply after the one before it.');
  });

  test('check accepts consecutive stages and rejects skipping the deploy stage', () => {
    const ok = cli('check', path.join(out, '03-deploy'), path.join(out, '04-shift-10'));
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^OK: no violations \(\d+ objects checked\)/);
    const skipped = cli('check', path.join(out, '02-add-subset'), path.join(out, '04-shift-10'));
    expect(skipped.status).toBe(1);
    expect(skipped.stdout).toContain('VirtualService/helloworld http[0]  [destination-ready]');
    expect(skipped.stdout).toContain('  fix: deploy the version in a stage of its own');
  }, 30_000);
});

describe('runbook on examples/helloworld', () => {
  let dir: string;
  let run: Run;
  let runbook: string;
  beforeAll(() => {
    dir = tmpDir();
    run = cli('runbook', '--app', EXAMPLE, '--release', 'helloworld', '--out', path.join(dir, 'stages'), '--file', path.join(dir, 'RUNBOOK.md'));
    runbook = fs.existsSync(path.join(dir, 'RUNBOOK.md')) ? fs.readFileSync(path.join(dir, 'RUNBOOK.md'), 'utf8') : '';
  }, SYNTH_TIMEOUT);

  test('exits 0 and prints the path written', () => {
    expect(run.stderr).not.toContain('error');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Runbook written to ${path.join(dir, 'RUNBOOK.md')}`);
  });

  test('has the kubectl apply command of every stage, relative to the runbook', () => {
    STAGES.forEach((stage, i) => expect(runbook).toContain(`kubectl apply -f stages/0${i + 1}-${stage}/\n`));
  });

  test('waits for new Deployments with their progress deadline + 60 s, in their namespace', () => {
    const deploy = section(runbook, 'deploy');
    expect(deploy).toContain('kubectl rollout status deployment/helloworld-v2 -n shop --timeout=180s');
    expect(deploy).not.toContain('deployment/helloworld-v1');
    expect(section(runbook, 'stable')).toContain('kubectl rollout status deployment/helloworld-v1 -n shop --timeout=180s');
    expect(section(runbook, 'retire')).toContain('kubectl wait --for=delete pod -n shop -l app=helloworld,version=v1');
  });

  test('waits for Envoy config propagation only where Istio routing changes', () => {
    expect(section(runbook, 'shift-10')).toContain('istioctl proxy-status');
    expect(section(runbook, 'add-subset')).toContain('istioctl proxy-status');
    expect(section(runbook, 'deploy')).not.toContain('istioctl proxy-status');
    expect(runbook).toContain('`STALE`');
  });

  test('has a roll-back line per stage', () => {
    expect(section(runbook, 'stable')).toContain('Roll back: nothing to roll back (first stage).');
    expect(section(runbook, 'shift-10')).toContain('Roll back: `kubectl apply -f stages/03-deploy/` (stage 3, deploy).');
    expect(section(runbook, 'deploy')).toContain('Left in place: Deployment/helloworld-v2');
    expect(section(runbook, 'retire')).toContain('kubectl rollout status deployment/helloworld-v1 -n shop');
    expect(runbook).not.toContain('unsafe');
  });

  test('charts the weights per version over the stages in a mermaid block', () => {
    expect(runbook).toContain('```mermaid\nxychart-beta\n');
    expect(runbook).toContain('x-axis ["stable", "add-subset", "deploy", "shift-10", "shift-50", "shift-100", "unroute", "remove-subset", "retire"]');
    expect(runbook).toContain('line [100, 100, 100, 90, 50, 0, 0, 0, 0]');
    expect(runbook).toContain('line [0, 0, 0, 10, 50, 100, 100, 100, 100]');
  });
});

/** The runbook section of a stage, from its heading to the next one. */
function section(runbook: string, stage: string): string {
  const start = runbook.search(new RegExp(`^## \\d+\\. ${stage}$`, 'm'));
  expect(start).toBeGreaterThanOrEqual(0);
  const next = runbook.slice(start + 1).search(/^## /m);
  return next < 0 ? runbook.slice(start) : runbook.slice(start, start + 1 + next);
}

describe('plan errors and unsafe plans (fake apps)', () => {
  const safe: Parameters<typeof fakeApp>[0] = {
    'stable': [['v1'], ['v1'], { v1: 100 }],
    'add-subset': [['v1'], ['v1', 'v2'], { v1: 100 }],
  };

  test('a missing app directory or cdk8s.yaml: exit 2 with one line', () => {
    const missing = cli('plan', '--app', 'no/such/dir');
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe('mesh-release: error: app directory not found: no/such/dir');
    const notAnApp = cli('plan', '--app', FIXTURES);
    expect(notAnApp.status).toBe(2);
    expect(notAnApp.stderr).toContain('not a cdk8s app: test/fixtures/cli/cdk8s.yaml does not exist');
  }, 30_000);

  test('an app failing to synthesize: exit 2, its stderr shown', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'fail.js'), "console.error('boom: unknown stage'); process.exit(3);\n");
    fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'app: node fail.js\n');
    const run = cli('plan', '--app', dir);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('failed to synthesize');
    expect(run.stderr).toContain('exited with 3');
    expect(run.stderr).toContain('boom: unknown stage');
  }, 30_000);

  test('a stage the app does not know: exit 2, the app\'s error shown', () => {
    const dir = fakeApp(safe);
    const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join('src', 'cli', 'main.ts'), 'plan', '--app', dir], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, RELEASE_STAGE: 'nope' },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('with RELEASE_STAGE=nope from the environment failed to synthesize');
    expect(run.stderr).toContain('unknown stage nope');
  }, 30_000);

  test('an unknown --release lists the releases', () => {
    const run = cli('plan', '--app', fakeApp(safe), '--release', 'api');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown release 'api'; the app's releases are: web (namespace shop, stages stable, add-subset)");
  }, 30_000);

  test('an app that ignores RELEASE_STAGE: exit 2', () => {
    const run = cli('plan', '--app', fakeApp(safe, { ignoreStage: true }));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("with RELEASE_STAGE=add-subset the app synthesized release web at stage 'stable'");
  }, 30_000);

  test('an unsafe transition: exit 1, UNSAFE (n) and the violations under the table; runbook refuses', () => {
    const dir = fakeApp({ ...safe, 'shift-50': [['v1'], ['v1'], { v1: 50, v2: 50 }] });
    const run = cli('plan', '--app', dir);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^03 {2}shift-50 .* UNSAFE \([1-9]\d*\)$/m);
    expect(run.stdout).toContain('Stage 03-shift-50 (after add-subset):');
    expect(run.stdout).toContain("  VirtualService/web http[0]  [subset-defined]  routes to subset 'v2'");
    expect(run.stdout).toContain('    fix: add subset');
    expect(run.stdout).toContain('UNSAFE: 1 of 3 stages would drop requests');
    expect(fs.readdirSync(path.join(dir, 'dist', 'stages'))).toEqual(['01-stable', '02-add-subset', '03-shift-50']);
    const runbook = cli('runbook', '--app', dir);
    expect(runbook.status).toBe(1);
    expect(runbook.stderr).toContain('not writing a runbook for an unsafe plan');
    expect(fs.existsSync(path.join(dir, 'RUNBOOK.md'))).toBe(false);
  }, 30_000);
});

describe('check on hand-written YAML', () => {
  test('a correct pair (directory before, file after): exit 0', () => {
    const run = cli('check', fixture('stable'), fixture('add-subset.yaml'));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('OK: no violations (8 objects checked)');
  }, 30_000);

  test('a subset routed but missing from the DestinationRule: exit 1, subset-defined', () => {
    const run = cli('check', fixture('stable'), fixture('route-to-missing-subset.yaml'));
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("VirtualService/helloworld http[0]  [subset-defined]  routes to subset 'v2' of helloworld.shop.svc.cluster.local");
    expect(run.stdout).toContain("  fix: add subset 'v2' to the DestinationRule");
  }, 30_000);

  test('a Deployment deleted while its subset still exists: exit 1, deployment-removed-while-subset', () => {
    const run = cli('check', fixture('unrouted.yaml'), fixture('v1-deleted-early.yaml'));
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("Deployment/helloworld-v1  [deployment-removed-while-subset]  is deleted while subset 'v1'");
    expect(run.stdout).toContain("  fix: remove subset 'v1' in a stage before deleting the Deployment");
  }, 30_000);

  test('a header match route without a catch-all route: exit 1, catch-all-route', () => {
    const run = cli('check', fixture('stable'), fixture('header-without-catch-all.yaml'));
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('VirtualService/helloworld http[0]  [catch-all-route]');
    expect(run.stdout).toContain('UNSAFE: 1 violation;');
  }, 30_000);

  test('a missing path: exit 2, naming it', () => {
    const run = cli('check', fixture('stable'), fixture('nope.yaml'));
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe('mesh-release: error: no such file or directory: test/fixtures/cli/nope.yaml');
    expect(run.stdout).toBe('');
  }, 30_000);

  test('invalid YAML: exit 2, naming the file and line', () => {
    const run = cli('check', fixture('stable'), fixture('invalid.yaml'));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^mesh-release: error: invalid YAML in test\/fixtures\/cli\/invalid\.yaml: .* at line \d+, column \d+\n$/);
  }, 30_000);

  test('a missing argument: usage error, exit 2', () => {
    const run = cli('check', fixture('stable'));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("missing required argument 'after'");
  }, 30_000);
});
