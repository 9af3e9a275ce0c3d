/**
 * `mesh-release plan` and `runbook` on fake apps (plain node, fast): usage, errors and their exit codes,
 * the one-process synthesis and its fallback, unsafe plans, and the output directory's safety rules.
 */
import * as fs from 'fs';
import * as path from 'path';
import { cli, cliBuild, cliBuiltInProcess, cliInProcess, FakeStage, fakeApp, FIXTURES, tmpDir } from './_cli';

beforeAll(() => cliBuild(), 120_000);
// Most tests run the CLI in this process (cliBuiltInProcess) and wait for the app's process: more than jest's 5 s
// default on a loaded machine is not a failure.
jest.setTimeout(60_000);

const SAFE: { [stage: string]: FakeStage } = {
  'stable': [['v1'], ['v1'], { v1: 100 }],
  'make-routable': [['v1'], ['v1', 'v2'], { v1: 100 }],
};
const CANARY: { [stage: string]: FakeStage } = {
  ...SAFE,
  deploy: [['v1', 'v2'], ['v1', 'v2'], { v1: 100 }],
  shift: [['v1', 'v2'], ['v1', 'v2'], { v1: 50, v2: 50 }],
};

describe('--help and usage', () => {
  test.each([[[]], [['plan']], [['check']], [['runbook']]])('mesh-release %j --help exits 0 with usage', async (command: string[]) => {
    const run = await cliInProcess([...command, '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Usage: mesh-release${command.length ? ` ${command[0]}` : ''}`);
    expect(run.stdout).toContain('Exit codes:');
  });

  test('plan --help documents how the release is chosen, the one-process synthesis and the output directory', async () => {
    const run = await cliInProcess(['plan', '--help']);
    expect(run.stdout).toContain('--release <name>');
    expect(run.stdout).toMatch(/RELEASE_STAGE/);
    expect(run.stdout).toContain('<out>/<NN>-<stage>');
    expect(run.stdout).toContain('in ONE process');
    expect(run.stdout).toContain('.mesh-release.json');
    expect(run.stdout).toMatch(/--output <format> +text, or json/);
  });

  test('runbook --help documents the guard, the waits per router and the roll back of one stage', async () => {
    const run = await cliInProcess(['runbook', '--help']);
    expect(run.stdout).toContain('a guard (mr_expect_stage: the live mesh-release.io/stage annotation of each');
    expect(run.stdout).toMatch(/mr_wait_proxies, only when Istio objects change/);
    expect(run.stdout).toContain('(mr_wait_routes)');
    expect(run.stdout).toContain('(mr_wait_endpoints)');
    expect(run.stdout).toContain('--rollback --from X\nrolls back one stage (to X-1; --to goes further)');
  });

  test('no command, an unknown command or option, no --app: usage error, exit 2', async () => {
    expect((await cliInProcess([])).status).toBe(2);
    const unknown = await cliInProcess(['deploy']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'deploy'");
    const missing = await cliInProcess(['plan']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe('mesh-release: error: pass --app <dir> (a cdk8s app) or --stages <dir> (the output of an earlier plan)');
  });
});

describe('plan errors: exit 2 with one line (and the app\'s stderr), never a stack trace of ours', () => {
  test('a missing app directory or cdk8s.yaml', async () => {
    const missing = await cliInProcess(['plan', '--app', 'no/such/dir']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe('mesh-release: error: app directory not found: no/such/dir');
    const notAnApp = await cliInProcess(['plan', '--app', FIXTURES]);
    expect(notAnApp.status).toBe(2);
    expect(notAnApp.stderr).toContain('not a cdk8s app: test/fixtures/cli/cdk8s.yaml does not exist');
  });

  test('an app failing to synthesize: its stderr shown', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'fail.js'), "console.error('boom: unknown stage'); process.exit(3);\n");
    fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'app: node fail.js\n');
    const run = cli(['plan', '--app', dir]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('failed to synthesize');
    expect(run.stderr).toContain('boom: unknown stage');
  });

  test('a stage the app does not know (RELEASE_STAGE from the environment)', async () => {
    const run = await cliBuiltInProcess(['plan', '--app', fakeApp(SAFE)], { env: { RELEASE_STAGE: 'nope' } });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('with RELEASE_STAGE=nope from the environment failed to synthesize');
    expect(run.stderr).toContain('unknown stage nope');
  });

  test('an app exiting in the middle of a stage: the stage is named, its stderr shown', async () => {
    const dir = fakeApp(SAFE);
    const app = fs.readFileSync(path.join(dir, 'app.js'), 'utf8');
    fs.writeFileSync(path.join(dir, 'app.js'), `if (process.env.RELEASE_STAGE === 'make-routable') { console.error('no quota'); process.exit(4); }\n${app}`);
    const run = await cliBuiltInProcess(['plan', '--app', dir]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("stage 'make-routable' of the app in");
    expect(run.stderr).toContain('no quota');
  });

  test('an unknown --release lists the releases', async () => {
    const run = await cliBuiltInProcess(['plan', '--app', fakeApp(SAFE), '--release', 'api']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown release 'api'; the app's releases are: web (namespace shop, stages stable, make-routable)");
  });

  test('an app that ignores RELEASE_STAGE', async () => {
    const run = await cliBuiltInProcess(['plan', '--app', fakeApp(SAFE, { ignoreStage: true })]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("with RELEASE_STAGE=make-routable the app synthesized release web at stage 'stable'");
  });

  test('a stage name that cannot name a directory (300 characters)', async () => {
    const long = 'a'.repeat(300);
    const run = await cliBuiltInProcess(['plan', '--app', fakeApp({ stable: SAFE.stable, [long]: SAFE['make-routable'] })]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^mesh-release: error: release web has an invalid mesh-release.io\/plan-stages annotation: .*at most 63 characters.*\(300 characters\)$/m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('plan on a fake app', () => {
  test('synthesizes every stage in one process, shows changes, writes a marker; --output json', async () => {
    const dir = fakeApp(CANARY);
    const out = path.join(tmpDir(), 'stages');
    const run = await cliBuiltInProcess(['plan', '--app', dir, '--out', out, '--diff']);
    expect(run.stderr).toContain('in one process');
    expect(run.stderr).not.toContain('one process each');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^03 {2}deploy .* \+1 +OK$/m);
    expect(run.stdout).toContain('Stage 03-deploy:\n  + Deployment/web-v2 (shop)');
    expect(fs.readdirSync(out).sort()).toEqual(['.mesh-release.json', '01-stable', '02-make-routable', '03-deploy', '04-shift']);
    const json = JSON.parse((await cliInProcess(['plan', '--stages', out, '--output', 'json'])).stdout);
    expect(json.safe).toBe(true);
    expect(json.stages.map((s: any) => s.name)).toEqual(['stable', 'make-routable', 'deploy', 'shift']);
    expect(json.stages[2].changes.created).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-v2', namespace: 'shop' }]);
    expect(json.stages[2].rollback.deleted).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-v2', namespace: 'shop' }]);
    expect(json.stages[3].releases[0].weights).toEqual([{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }]);
  });

  test('an ESM app (the hook cannot drive it) and --isolate: one process per stage, same result', () => {
    const esm = cli(['plan', '--app', fakeApp(CANARY, { esm: true }), '--out', tmpDir()]);
    expect(esm.stderr).toContain('could not be driven in one process');
    expect(esm.status).toBe(0);
    const isolated = cli(['plan', '--app', fakeApp(CANARY), '--out', tmpDir(), '--isolate']);
    expect(isolated.stderr).toContain('one process each');
    expect(isolated.status).toBe(0);
    const rows = (s: string) => s.split('\n').filter((l) => /^0\d {2}/.test(l));
    expect(rows(esm.stdout)).toEqual(rows(isolated.stdout));
  });

  test('an unsafe transition: exit 1, UNSAFE (n) and the violations under the table; runbook refuses', async () => {
    const dir = fakeApp({ ...SAFE, 'shift-50': [['v1'], ['v1'], { v1: 50, v2: 50 }] });
    // A process: exit code 1 as the bin sets it (main.ts).
    const run = cli(['plan', '--app', dir]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^03 {2}shift-50 .* UNSAFE \([1-9]\d*\)/m);
    expect(run.stdout).toContain('Stage 03-shift-50 (after make-routable):');
    expect(run.stdout).toContain("  error: VirtualService/web http[0]  [subset-defined]  routes to subset 'v2'");
    expect(run.stdout).toContain('    fix: add subset');
    expect(run.stdout).toContain('UNSAFE: 1 of 3 stages would drop requests');
    expect(fs.readdirSync(path.join(dir, 'dist', 'stages')).sort()).toEqual(['.mesh-release.json', '01-stable', '02-make-routable', '03-shift-50']);
    const runbook = await cliBuiltInProcess(['runbook', '--app', dir]);
    expect(runbook.status).toBe(1);
    expect(runbook.stderr).toContain('not writing a runbook for an unsafe plan');
    expect(fs.existsSync(path.join(dir, 'RUNBOOK.md'))).toBe(false);
  });

  test('runbook --app writes RUNBOOK.md next to the app; --stages reads an earlier plan without running the app', async () => {
    const dir = fakeApp(CANARY);
    const run = await cliBuiltInProcess(['runbook', '--app', dir]);
    expect(run.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'RUNBOOK.md'), 'utf8')).toContain('kubectl apply -f dist/stages/04-shift/');
    fs.rmSync(path.join(dir, 'app.js'));
    const again = await cliInProcess(['runbook', '--stages', path.join(dir, 'dist', 'stages'), '--format', 'sh']);
    expect(again.status).toBe(0);
    expect(() => fs.accessSync(path.join(dir, 'runbook.sh'), fs.constants.X_OK)).not.toThrow();
    expect((await cliInProcess(['runbook', '--stages', tmpDir()])).stderr).toContain('holds no plan written by mesh-release plan');
  });
});

describe('--out never loses data', () => {
  test('a non-empty directory the CLI did not write is refused (exit 2), and left untouched', async () => {
    const out = tmpDir();
    fs.mkdirSync(path.join(out, '01-intro'));
    fs.writeFileSync(path.join(out, '01-intro', 'notes.md'), 'mine');
    fs.mkdirSync(path.join(out, '2024-q3-reports'));
    const run = await cliBuiltInProcess(['plan', '--app', fakeApp(SAFE), '--out', out]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('is not empty and was not written by mesh-release (no .mesh-release.json in it)');
    expect(fs.readdirSync(out).sort()).toEqual(['01-intro', '2024-q3-reports']);
    expect(fs.readFileSync(path.join(out, '01-intro', 'notes.md'), 'utf8')).toBe('mine');
  });

  test('--force writes into it and removes nothing of the user\'s, even on later runs', async () => {
    const out = tmpDir();
    fs.mkdirSync(path.join(out, '01-intro'));
    fs.writeFileSync(path.join(out, 'README.md'), 'mine');
    const app = fakeApp(CANARY);
    expect((await cliBuiltInProcess(['plan', '--app', app, '--out', out, '--force'])).status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['.mesh-release.json', '01-intro', '01-stable', '02-make-routable', '03-deploy', '04-shift', 'README.md']);
    // A shorter plan later: the stage directories of the earlier run go, the user's files stay.
    const shorter = fakeApp(SAFE);
    expect((await cliBuiltInProcess(['plan', '--app', shorter, '--out', out])).status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['.mesh-release.json', '01-intro', '01-stable', '02-make-routable', 'README.md']);
  });

  test('a directory the CLI wrote is reused; a stage directory it did not write is not replaced without --force', async () => {
    const out = tmpDir();
    const app = fakeApp(SAFE);
    expect((await cliBuiltInProcess(['plan', '--app', app, '--out', out])).status).toBe(0);
    expect((await cliBuiltInProcess(['plan', '--app', app, '--out', out])).status).toBe(0);
    fs.rmSync(path.join(out, '02-make-routable'), { recursive: true });
    const record = JSON.parse(fs.readFileSync(path.join(out, '.mesh-release.json'), 'utf8'));
    fs.writeFileSync(path.join(out, '.mesh-release.json'), JSON.stringify({ ...record, dirs: ['01-stable'] }));
    fs.mkdirSync(path.join(out, '02-make-routable'));
    fs.writeFileSync(path.join(out, '02-make-routable', 'keep.txt'), 'mine');
    const run = await cliBuiltInProcess(['plan', '--app', app, '--out', out]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('02-make-routable exists and was not written by mesh-release');
    expect(fs.readFileSync(path.join(out, '02-make-routable', 'keep.txt'), 'utf8')).toBe('mine');
  });

  test('--out naming a file: exit 2', () => {
    const file = path.join(tmpDir(), 'file');
    fs.writeFileSync(file, '');
    const run = cli(['plan', '--app', fakeApp(SAFE), '--out', file]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('is a file, not a directory');
  });
});

describe('the README\'s first command (npm ci && npm run example)', () => {
  test('runs the cdk8s CLI without its upgrade check (which prints a stack trace offline)', () => {
    const tasks = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '.projen', 'tasks.json'), 'utf8')).tasks;
    expect(tasks.example.env).toMatchObject({ CDK8S_CHECK_UPGRADE: 'false' });
    expect(tasks.example.steps[0].exec).toBe('cdk8s synth --no-check-upgrade --output dist');
  });
});
