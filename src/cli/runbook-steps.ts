/**
 * The commands that apply a stage, and roll it back, in order: the one list both runbook formats
 * (Markdown, shell script) print. Every wait blocks until its condition holds or fails after its
 * timeout; objects a stage drops are deleted explicitly, by name (see the README for why this is
 * not `kubectl apply --prune`).
 */
import { changesBetween, groupOf, isRouting, StageChanges } from './stage-diff';
import { StageResult } from './stages';

/** Kubernetes' default `progressDeadlineSeconds`. */
export const DEFAULT_PROGRESS_DEADLINE = 600;
/** Kubernetes' default `terminationGracePeriodSeconds`. */
export const DEFAULT_GRACE = 30;
/** Slack added to the deadlines in the wait commands. */
export const SLACK = 60;
/** How long the proxies get to acknowledge a routing change. */
export const PROPAGATION_TIMEOUT = 120;

export type StepKind = 'apply' | 'delete' | 'wait';

/** One command of a runbook. */
export interface Step {
  readonly kind: StepKind;
  /** A shell command line (bash; the `mr_*` helpers are defined at the top of each runbook). */
  readonly command: string;
  /** Why, in a few words (a comment in the runbook). */
  readonly why: string;
}

/**
 * The bash helpers the steps call: the waits a single kubectl command cannot express.
 * `mr_wait_replicas` compares `readyReplicas >= floor` (an HPA may scale above its floor, so
 * `kubectl wait --for=jsonpath=...=N` could wait for ever); `mr_wait_proxies` polls
 * `istioctl proxy-status` (`istioctl x wait` was removed in Istio 1.23).
 */
export const HELPERS = `# mr_wait_replicas <deployment> <namespace|-> <floor> <timeout-s>: blocks until the Deployment has at least
# <floor> ready pods (an autoscaler raises replicas after its floor changes; rollout status may return before).
mr_wait_replicas() {
  local deadline=$((SECONDS + $4)) ready ns=()
  if [ "$2" != "-" ]; then ns=(-n "$2"); fi
  while :; do
    ready="$(kubectl get deployment "$1" \${ns[@]+"\${ns[@]}"} -o 'jsonpath={.status.readyReplicas}')" || ready=""
    if [ "\${ready:-0}" -ge "$3" ] 2>/dev/null; then
      echo "deployment/$1: \${ready:-0} ready pods (floor $3)"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "deployment/$1: \${ready:-0} ready pods after $4 s, below the floor of $3" >&2
      return 1
    fi
    sleep 2
  done
}

# mr_wait_proxies <timeout-s> [<namespace> <resource>]...: blocks until every Envoy acknowledged the routing
# change, then dwells MESH_RELEASE_DWELL seconds (default 5) for in-flight connections and endpoint updates.
# - default: polls \`istioctl proxy-status\` until no proxy is STALE;
# - MESH_RELEASE_ISTIO_STATUS=1 (istiod with PILOT_ENABLE_STATUS=true): waits for the Reconciled condition
#   of the Istio objects given instead;
# - fallback, without istioctl: sleeps MESH_RELEASE_PROPAGATION_FALLBACK seconds (default 30) and says so.
mr_wait_proxies() {
  local timeout="$1" deadline=$(($1 + SECONDS)) status
  shift
  if [ "\${MESH_RELEASE_ISTIO_STATUS:-0}" = "1" ] && [ $# -ge 2 ]; then
    while [ $# -ge 2 ]; do
      kubectl wait --for=condition=Reconciled -n "$1" "$2" --timeout="\${timeout}s"
      shift 2
    done
  elif command -v istioctl >/dev/null 2>&1; then
    while :; do
      if status="$(istioctl proxy-status 2>&1)" && ! grep -q STALE <<<"$status"; then
        break
      fi
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "proxies not in sync after $timeout s (STALE, or istioctl failing):" >&2
        echo "$status" >&2
        return 1
      fi
      sleep 2
    done
  else
    echo "istioctl not found: waiting \${MESH_RELEASE_PROPAGATION_FALLBACK:-30} s for the proxies instead (not verified)" >&2
    sleep "\${MESH_RELEASE_PROPAGATION_FALLBACK:-30}"
  fi
  sleep "\${MESH_RELEASE_DWELL:-5}"
}`;

/** How a path and the namespace flag appear in commands. */
export interface StepContext {
  /** The stage directory as the runbook names it (relative to the runbook), shell-quoted when needed. */
  readonly dirOf: (stage: StageResult) => string;
  /** `--namespace` of the plan: objects without a namespace are applied there (else in kubectl's current namespace). */
  readonly namespace?: string;
}

/** The steps that apply `stage` after the stage before it. */
export function forwardSteps(stage: StageResult, previous: StageResult | undefined, ctx: StepContext): Step[] {
  return transitionSteps(ctx.dirOf(stage), stage.manifests, previous?.manifests ?? [], stage.changes, ctx, 'stage');
}

/** The steps that roll `stage` back to `previous`: the same changes in reverse, with the same waits. */
export function rollbackSteps(stage: StageResult, previous: StageResult, ctx: StepContext): Step[] {
  return transitionSteps(ctx.dirOf(previous), previous.manifests, stage.manifests, stage.rollback, ctx, 'roll back');
}

function transitionSteps(dir: string, target: any[], from: any[], changes: StageChanges, ctx: StepContext, what: string): Step[] {
  const steps: Step[] = [{ kind: 'apply', command: `kubectl apply -f ${dir}`, why: `create and change the objects of the ${what}` }];
  const floorsBefore = floors(from);
  const changedDeployments = changesBetween(target.filter(isDeployment), from.filter(isDeployment));
  for (const d of [...changedDeployments.created, ...changedDeployments.changed]) {
    const old = from.find((m) => isDeployment(m) && sameObject(m, d, ctx));
    if (!old || JSON.stringify(old.spec?.template) !== JSON.stringify(d.spec?.template)) {
      steps.push({
        kind: 'wait',
        command: `kubectl rollout status deployment/${d.metadata?.name}${nsFlag(d, ctx)} --timeout=${deadline(d)}s`,
        why: `new pods of ${d.metadata?.name} ready`,
      });
    }
  }
  for (const [key, { deployment, floor }] of floors(target)) {
    if (floor > 0 && floor > (floorsBefore.get(key)?.floor ?? 0)) {
      steps.push({
        kind: 'wait',
        command: `mr_wait_replicas ${deployment.metadata?.name} ${deployment.metadata?.namespace ?? ctx.namespace ?? '-'} ${floor} ${deadline(deployment)}`,
        why: `${deployment.metadata?.name} has its floor of ${floor} ready pods`,
      });
    }
  }
  const applied = [...changes.created, ...changes.changed].filter(isRouting);
  if (applied.length > 0) {
    steps.push(proxiesStep(applied, ctx, 'every proxy has the new routing'));
  }
  const deleted = [...changes.deleted].sort((a, b) => deleteRank(a) - deleteRank(b));
  for (const m of deleted) {
    steps.push({
      kind: 'delete',
      command: `kubectl delete ${resourceOf(m)}${nsFlag(m, ctx)} --ignore-not-found --wait=true --timeout=${DEFAULT_GRACE + SLACK}s`,
      why: `the ${what} drops ${m.kind}/${m.metadata?.name} (kubectl apply deletes nothing)`,
    });
    if (isDeployment(m)) {
      steps.push({
        kind: 'wait',
        command: `kubectl wait --for=delete pod${nsFlag(m, ctx)} -l ${selectorOf(m)} --timeout=${grace(m) + SLACK}s`,
        why: `the pods of ${m.metadata?.name} are gone`,
      });
    }
  }
  const removedRouting = deleted.filter(isRouting);
  if (removedRouting.length > 0) {
    steps.push(proxiesStep([], ctx, 'every proxy dropped the deleted routing objects'));
  }
  return steps;
}

function proxiesStep(objects: any[], ctx: StepContext, why: string): Step {
  const reconciled = objects.filter((m) => groupOf(m.apiVersion) === 'networking.istio.io')
    .map((m) => ` ${m.metadata?.namespace ?? ctx.namespace ?? 'default'} ${resourceOf(m)}`).join('');
  return { kind: 'wait', command: `mr_wait_proxies ${PROPAGATION_TIMEOUT}${reconciled}`, why };
}

/** Deployments' floors (HPA minReplicas, else replicas, else 1), by namespace/name. */
function floors(manifests: any[]): Map<string, { deployment: any; floor: number }> {
  const hpas = new Map<string, any>();
  for (const m of manifests) {
    if (m?.kind === 'HorizontalPodAutoscaler' && m.spec?.scaleTargetRef?.kind === 'Deployment') {
      hpas.set(`${m.metadata?.namespace}/${m.spec.scaleTargetRef.name}`, m);
    }
  }
  const out = new Map<string, { deployment: any; floor: number }>();
  for (const d of manifests.filter(isDeployment)) {
    const key = `${d.metadata?.namespace}/${d.metadata?.name}`;
    const hpa = hpas.get(key);
    const floor = hpa ? (typeof hpa.spec?.minReplicas === 'number' ? hpa.spec.minReplicas : 1) : (typeof d.spec?.replicas === 'number' ? d.spec.replicas : 1);
    out.set(key, { deployment: d, floor });
  }
  return out;
}

function isDeployment(m: any): boolean {
  return m?.kind === 'Deployment' && groupOf(m.apiVersion) === 'apps';
}

function sameObject(a: any, b: any, ctx: StepContext): boolean {
  return a.metadata?.name === b.metadata?.name && (a.metadata?.namespace ?? ctx.namespace) === (b.metadata?.namespace ?? ctx.namespace);
}

function deadline(deployment: any): number {
  return (typeof deployment.spec?.progressDeadlineSeconds === 'number' ? deployment.spec.progressDeadlineSeconds : DEFAULT_PROGRESS_DEADLINE) + SLACK;
}

function grace(deployment: any): number {
  const g = deployment.spec?.template?.spec?.terminationGracePeriodSeconds;
  return typeof g === 'number' ? g : DEFAULT_GRACE;
}

/** Routes and routable versions first, then Services, autoscalers and budgets, then workloads, then the rest. */
function deleteRank(m: any): number {
  const group = groupOf(m?.apiVersion);
  if (group === 'networking.istio.io' || group === 'gateway.networking.k8s.io') {
    return m.kind === 'VirtualService' || m.kind === 'HTTPRoute' ? 0 : 1;
  }
  const ranks: { [kind: string]: number } = { Service: 2, HorizontalPodAutoscaler: 3, PodDisruptionBudget: 4, Deployment: 5 };
  return ranks[m?.kind] ?? 6;
}

/** Built-in API groups whose kinds kubectl resolves unambiguously by their lowercase name. */
const BUILT_IN_GROUPS = new Set(['', 'apps', 'autoscaling', 'policy', 'batch']);

/** `deployment/x`, `virtualservice.networking.istio.io/x`: the kind qualified by its group unless built in. */
export function resourceOf(m: any): string {
  const group = groupOf(m?.apiVersion);
  const kind = String(m?.kind).toLowerCase();
  return `${BUILT_IN_GROUPS.has(group) ? kind : `${kind}.${group}`}/${m?.metadata?.name}`;
}

function nsFlag(m: any, ctx: StepContext): string {
  const ns = m?.metadata?.namespace ?? ctx.namespace;
  return ns ? ` -n ${ns}` : '';
}

function selectorOf(deployment: any): string {
  const labels = deployment.spec?.selector?.matchLabels ?? deployment.spec?.template?.metadata?.labels ?? {};
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}
