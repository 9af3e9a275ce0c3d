/**
 * `mesh-release rollout`, `promote`, `abort` and `status` without a cluster: usage, and the errors that come before
 * any request (no kubeconfig, an unknown context). What they do on a cluster: test/integration/rollout.integration.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { cliBuild, cliBuiltInProcess, cliInProcess, FakeStage, fakeApp, tmpDir } from '../cli/_cli';

beforeAll(() => cliBuild(), 120_000);
jest.setTimeout(60_000);

const PLAN: { [stage: string]: FakeStage } = {
  'stable': [['v1'], ['v1'], { v1: 100 }],
  'make-routable': [['v1'], ['v1', 'v2'], { v1: 100 }],
};

describe('rollout, promote, abort, status', () => {
  test.each([['rollout'], ['promote'], ['abort'], ['status']])('%s --help exits 0 with its usage and the exit codes', async (command) => {
    const run = await cliInProcess([command, '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Usage: mesh-release ${command}`);
    expect(run.stdout).toContain('--kubeconfig <file>');
    expect(run.stdout).toContain('--context <name>');
  });

  test('rollout --help lists its options and exit codes 4 and 5', async () => {
    const run = await cliInProcess(['rollout', '--help']);
    for (const option of ['--prometheus <url>', '--to <stage>', '--force', '--retry', '--propagation-wait <seconds>', '--istio-status', '--wait-timeout <seconds>']) {
      expect(run.stdout).toContain(option);
    }
    expect(run.stdout).toContain('4 a stage\'s analysis failed or a wait timed out');
    expect(run.stdout).toContain('5 paused before a pauseBefore stage');
  });

  test('fails (exit 2) without a kubeconfig, before the app is run', async () => {
    const home = tmpDir();
    const run = await cliBuiltInProcess(['rollout', '--app', fakeApp(PLAN)], { env: { HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' } });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('mesh-release: error: no kubeconfig: pass --kubeconfig <file>, set KUBECONFIG, or create ~/.kube/config');
  });

  test('fails (exit 2) on an unknown --context', async () => {
    const dir = tmpDir();
    const kubeconfig = path.join(dir, 'config');
    fs.writeFileSync(kubeconfig, 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n');
    const run = await cliBuiltInProcess(['status', '--app', fakeApp(PLAN), '--kubeconfig', kubeconfig, '--context', 'prod']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`mesh-release: error: context 'prod' not found in ${kubeconfig} (contexts: c)`);
  });

  test('fails (exit 2) when the API server cannot be reached, naming it and the context', async () => {
    const dir = tmpDir();
    const kubeconfig = path.join(dir, 'config');
    fs.writeFileSync(kubeconfig, 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n');
    const run = await cliBuiltInProcess(['rollout', '--app', fakeApp(PLAN), '--kubeconfig', kubeconfig]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('cannot reach the API server https://127.0.0.1:1 (context c)');
  });
});
