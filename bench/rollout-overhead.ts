/**
 * Phase `rollout` (issue 20): the driver's own work per stage, for an app of N services (the `cli` phase's generated
 * app: N MeshReleases of one canary plan of 9 stages) driven by `mesh-release rollout` against a real control plane
 * (envtest's kube-apiserver and kube-controller-manager from KUBEBUILDER_ASSETS, the integration suite's simulated
 * kubelet and mesh, which run in this process; the driver is the built CLI in a process of its own).
 *
 * The driver measures itself: per stage, its `timing` event gives the wall-clock time from the stage's start to its
 * record written, and the time it waited (the union of its API requests, polls, dwells and analysis intervals and
 * queries: `src/rollout/waiting-time.ts`); the rest is its own work. Target: at most 1 s per stage.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { manyServicesApp } from './cli-plan';
import { loadAverage } from './machine';
import { cliBuild } from '../test/cli/_build';
import { assetsDir, ControlPlane } from '../test/integration/_control-plane';
import { SimulatedKubelet } from '../test/integration/_kubelet';
import { SimulatedMeshController } from '../test/integration/_mesh-controller';

export interface StageTiming {
  readonly stage: string;
  readonly seconds: number;
  readonly waitedSeconds: number;
  readonly ownMs: number;
}

export interface RolloutOverhead {
  readonly services: number;
  readonly stages: StageTiming[];
  /** Wall-clock time of the whole command (synthesis of the stages included). */
  readonly totalSeconds: number;
  readonly maxOwnMs: number;
  readonly medianOwnMs: number;
  readonly loadBefore: string;
  readonly loadAfter: string;
}

/** Runs one rollout of an app of `n` services; undefined (said so) without KUBEBUILDER_ASSETS. */
export async function measureRolloutOverhead(repo: string, n: number, log: (line: string) => void): Promise<RolloutOverhead | undefined> {
  if (!assetsDir()) {
    log('  skipped: set KUBEBUILDER_ASSETS to a folder with etcd, kube-apiserver and kube-controller-manager '
      + '(e.g. ../shared/envtest/k8s-1.32.13-linux-amd64)');
    return undefined;
  }
  const app = manyServicesApp(repo, n);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-release-bench-rollout-'));
  const cp = await ControlPlane.start({ controllers: true });
  const [kubelet, mesh] = await Promise.all([SimulatedKubelet.start(cp.kube), SimulatedMeshController.start(cp.kube)]);
  try {
    await cp.createNamespaces('shop');
    const loadBefore = loadAverage();
    const started = Date.now();
    const env = { ...cp.env({ MESH_RELEASE_DWELL: '0', CDK8S_CHECK_UPGRADE: 'false' }) };
    delete env.RELEASE_STAGE;
    const { code, output } = await run(process.execPath,
      [path.join(cliBuild(), 'cli', 'main.js'), 'rollout', '--app', app, '--out', out, '--istio-status', '--output', 'json'], env, app,
      (event) => {
        if (event.event === 'timing') {
          log(`  ${event.stage}: ${event.seconds} s, waited ${event.waitedSeconds} s, own ${event.ownMs} ms (load ${loadAverage()})`);
        }
      });
    const totalSeconds = (Date.now() - started) / 1000;
    if (code !== 0) {
      throw new Error(`mesh-release rollout of ${n} services exited ${code}:\n${output.slice(-4000)}`);
    }
    const stages = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
      .filter((e) => e.event === 'timing').map(({ stage, seconds, waitedSeconds, ownMs }): StageTiming => ({ stage, seconds, waitedSeconds, ownMs }));
    const own = stages.map((s) => s.ownMs).sort((a, b) => a - b);
    if (kubelet.errors.length > 0 || mesh.errors.length > 0) {
      log(`  ⚠ the simulated kubelet and mesh met errors: ${[...kubelet.errors, ...mesh.errors].slice(0, 3).map((e) => e.message).join('; ')}`);
    }
    return {
      services: n,
      stages,
      totalSeconds,
      maxOwnMs: own[own.length - 1],
      medianOwnMs: own[Math.floor(own.length / 2)],
      loadBefore,
      loadAfter: loadAverage(),
    };
  } finally {
    await kubelet.stop();
    await mesh.stop();
    await cp.stop();
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** Runs a command without blocking this process's event loop (the simulated kubelet and mesh run in it). */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, onEvent: (event: any) => void):
Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    let partial = '';
    child.stdout.on('data', (c) => {
      chunks.push(String(c));
      const lines = (partial + String(c)).split('\n');
      partial = lines.pop()!;
      lines.filter((l) => l.startsWith('{')).forEach((l) => onEvent(JSON.parse(l)));
    });
    child.stderr.on('data', (c) => chunks.push(String(c)));
    child.on('close', (code) => resolve({ code, output: chunks.join('') }));
  });
}
