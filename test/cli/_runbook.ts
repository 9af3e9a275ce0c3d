/**
 * Shared harness of the runbook tests: plans of releases per router, synthesized with the library and turned into
 * what `mesh-release plan` hands the runbook (a `PlanResult`: no app process, no YAML written), and a fake `kubectl`
 * (bash) that records its calls, remembers the stage applied last as the live one, and answers the helpers' reads
 * from JSON files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { Run, runAsync } from './_cli';
import { MeshRelease, ReleasePlan, TrafficRouter, VersionSpec } from '../../src';
import { stageDirName } from '../../src/cli/out-dir';
import { releasesIn } from '../../src/cli/release-view';
import { HELPERS } from '../../src/cli/runbook-steps';
import { changesBetween } from '../../src/cli/stage-diff';
import { PlanResult, StageResult } from '../../src/cli/stages';

const VERSIONS: VersionSpec[] = [{ version: 'v1', image: 'example/web:1' }, { version: 'v2', image: 'example/web:2' }];
const CANARY = () => ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
const BLUE_GREEN = () => ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2' });

/** The routers of the runbook tests, each with a plan it can run. */
export const ROUTERS = {
  'istio': { router: () => TrafficRouter.istio(), plan: CANARY },
  'gateway-api': { router: () => TrafficRouter.gatewayApi({ gateways: [{ name: 'public', namespace: 'infra', sectionName: 'https' }] }), plan: CANARY },
  'gamma': { router: () => TrafficRouter.gatewayApi(), plan: CANARY },
  'service-selector': { router: () => TrafficRouter.serviceSelector(), plan: BLUE_GREEN },
};
export type RouterName = keyof typeof ROUTERS;

/** The plan of release `web` in namespace `shop` with `router`, its stage directories under `dir`. */
export function routerPlan(router: RouterName, dir: string): PlanResult {
  return planOf(dir, ROUTERS[router].plan(), [{ app: 'web', router }]);
}

/**
 * The plan of several releases (all in namespace `shop`) following the same plan, each with its router; `versionsOf`:
 * the versions of each stage (default: v1 and v2 with their default scaling in every stage).
 */
export function planOf(dir: string, plan: ReleasePlan, releases: { app: string; router: RouterName }[],
  versionsOf: (stage: string) => VersionSpec[] = () => VERSIONS): PlanResult {
  const manifests = plan.stages.map((stage) => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    for (const { app, router } of releases) {
      new MeshRelease(chart, app, { app, port: 8080, versions: versionsOf(stage.name), stage, router: ROUTERS[router].router() });
    }
    return Testing.synth(chart);
  });
  const none = { created: [], changed: [], deleted: [] };
  const stages = plan.stages.map((stage, index): StageResult => ({
    index,
    name: stage.name,
    dir: path.join(dir, 'stages', stageDirName(index, stage.name)),
    manifests: manifests[index],
    changes: changesBetween(manifests[index], manifests[index - 1]),
    rollback: index > 0 ? changesBetween(manifests[index - 1], manifests[index]) : none,
    violations: [],
    rollbackViolations: [],
  }));
  return { appDir: dir, outDir: path.join(dir, 'stages'), releases: releasesIn(manifests[0]), stages, read: {} };
}

/**
 * A fake kubectl in `<dir>/bin`: appends its arguments to `<dir>/calls.log`; `apply -f .../<NN>-<stage>/` makes
 * <stage> the live stage (`<dir>/live`), which the guard's jsonpath read prints (no file: no object yet; an empty
 * file: an object without the annotation);
 * `get httproute...`, `get service`, `get pods`, `get endpointslices...` print `<dir>/<route|service|pods|slices>.json`
 * (the n-th call `<dir>/<name>.<n>.json` when it exists); `get deployment <name>` prints `<dir>/ready-<name>` (ready
 * replicas), else 10. `<dir>/fail` (if any) is run first, as bash, with the arguments: it can print an error and exit,
 * or hang.
 */
export function fakeKubectl(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  writeOnce(path.join(bin, 'kubectl'), `#!/usr/bin/env bash
dir=${JSON.stringify(dir)}
echo "kubectl $*" >> "$dir/calls.log"
if [ -f "$dir/fail" ]; then source "$dir/fail"; fi
answer() {
  local n
  n=$(( $(cat "$dir/$1.count" 2>/dev/null || echo 0) + 1 ))
  echo "$n" > "$dir/$1.count"
  if [ -f "$dir/$1.$n.json" ]; then cat "$dir/$1.$n.json"; else cat "$dir/$1.json"; fi
}
case "$*" in
  "apply -f "*) basename "$3" | sed 's/^[0-9]*-//' > "$dir/live" ;;
  *"jsonpath={.metadata.name}/"*) if [ -f "$dir/live" ]; then printf 'x/%s' "$(cat "$dir/live")"; fi ;;
  "get httproute."*) answer route ;;
  "get service "*) answer service ;;
  "get pods "*) answer pods ;;
  "get endpointslices."*) answer slices ;;
  "get deployment "*) if [ -f "$dir/ready-$3" ]; then cat "$dir/ready-$3"; else echo 10; fi ;;
esac
`);
  return bin;
}

/**
 * Writes an executable whose content depends only on its path, unless it is there: commands of one test can run at
 * once in one directory, and a file rewritten (truncated) while bash reads it would be half a script.
 */
function writeOnce(file: string, text: string): void {
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, text, { mode: 0o755 });
  }
}

/** The calls the fake kubectl of `dir` recorded. */
export function calls(dir: string): string[] {
  const log = path.join(dir, 'calls.log');
  return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : [];
}

/**
 * Runs `command` (bash: a runbook script, or `helpers` for the HELPERS alone) with the fake kubectl of `dir` first on
 * PATH, as a process that does not block the event loop (tests run side by side).
 */
export function withFakes(dir: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const bin = fakeKubectl(dir);
  return runAsync(command, args, { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, MESH_RELEASE_DWELL: '0', ...env }, cwd: dir, timeout: 60_000 });
}

/** Runs one helper of HELPERS (`mr_wait_routes 0 shop web`) under `set -euo pipefail`, with the fake kubectl of `dir`. */
export function runHelper(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const script = path.join(dir, 'helpers.sh');
  writeOnce(script, `#!/usr/bin/env bash\nset -euo pipefail\n${HELPERS}\n"$@"\n`);
  return withFakes(dir, script, args, env);
}

/** An HTTPRoute at `generation`, in namespace shop, with its parents and their status entries. */
export function route(generation: number, parentRefs: object[], parents?: object[]): object {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'shop', generation },
    spec: { parentRefs },
    ...(parents ? { status: { parents } } : {}),
  };
}

/** A `status.parents[]` entry: Accepted and ResolvedRefs with their status, reason and observedGeneration. */
export function parentStatus(parentRef: object, observedGeneration: number, accepted: string = 'True', resolved: string = 'True',
  reasons: { accepted?: [string, string]; resolved?: [string, string] } = {}): object {
  const condition = (type: string, status: string, reason: [string, string] = [type, '']) =>
    ({ type, status, reason: reason[0], message: reason[1], observedGeneration, lastTransitionTime: '2025-01-01T00:00:00Z' });
  return {
    parentRef,
    controllerName: 'example.com/gateway-controller',
    conditions: [condition('Accepted', accepted, reasons.accepted), condition('ResolvedRefs', resolved, reasons.resolved)],
  };
}

export function writeJson(dir: string, name: string, value: object): void {
  fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(value));
}
