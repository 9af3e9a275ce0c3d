/**
 * The commands that apply a stage, and roll it back, in order: the one list both runbook formats
 * (Markdown, shell script) print, made from the actions of `transition.ts` (the order the `rollout` driver follows too). Each transition starts with a guard on the live stage of every
 * release's routing object, then applies, then waits: pods, floors, and what the router's objects
 * need (HTTPRoute parents, EndpointSlices of a switched Service, Istio proxies for Istio objects).
 * Every wait blocks until its condition holds or fails after its timeout; objects a stage drops are
 * deleted explicitly, by name (see the README for why this is not `kubectl apply --prune`).
 */
import { APP_LABEL, VERSION_LABEL, versionLabels } from '../_conventions';
import { compareText, push, unique } from '../_util';
import { CliError } from './errors';
import { groupOf, isRouting, keyOf } from './stage-diff';
import { StageResult } from './stages';
import { ApplyAction, forwardActions, LiveAction, rollbackActions, ScaleAction, ScaleDownAction, TransitionAction, TransitionContext } from './transition';
import { ROUTER_RUNBOOKS } from '../routing/_registry';
import { LiveWaitKind } from '../routing/_runbook';

export { DEFAULT_GRACE, DEFAULT_PROGRESS_DEADLINE, SLACK } from './transition';
/** How long the proxies get to acknowledge a routing change. */
export const PROPAGATION_TIMEOUT = 120;
/** How long every parent of an HTTPRoute gets to accept its new generation (Accepted and ResolvedRefs). */
export const ROUTE_TIMEOUT = 120;
/** How long the EndpointSlices of a Service whose selector switched get to list only the ready pods it now selects. */
export const ENDPOINTS_TIMEOUT = 120;
/** How long one kubectl read of a wait may take (an API server that accepts connections but does not answer). */
export const KUBECTL_TIMEOUT = 30;
/**
 * Environment variables that override the timeouts of the routing waits (seconds), e.g. to fail fast in CI on a route
 * the mesh refuses; and the bound of each kubectl read of a wait.
 */
export const TIMEOUT_VARIABLES = {
  route: 'MESH_RELEASE_ROUTE_TIMEOUT',
  endpoints: 'MESH_RELEASE_ENDPOINTS_TIMEOUT',
  propagation: 'MESH_RELEASE_PROPAGATION_TIMEOUT',
  kubectl: 'MESH_RELEASE_KUBECTL_TIMEOUT',
} as const;

/**
 * `check`: before a stage, the guard (the live stage) and the floors of the versions that get more traffic; `apply`,
 * `delete`; `wait`: blocks until a condition holds.
 */
export type StepKind = 'check' | 'apply' | 'delete' | 'wait';

/** One command of a runbook. */
export interface Step {
  readonly kind: StepKind;
  /** A shell command line (bash; the `mr_*` helpers are defined at the top of each runbook). */
  readonly command: string;
  /** Why, in a few words (a comment in the runbook). */
  readonly why: string;
}

const KUBECTL = `# mr_kubectl <var> <kubectl-args>...: runs kubectl; sets <var> to its output, or when it fails to its error (the last
# line of its stderr), and returns its status. Each call is bounded by MESH_RELEASE_KUBECTL_TIMEOUT seconds (default
# 30, where \`timeout\` exists): an API server that accepts connections but does not answer must not hang a wait.
# (\`timeout --foreground\` where it exists, GNU: a credential plugin of kubectl can still prompt on the terminal.)
mr_kubectl() {
  local __var="$1" __out __err="" __file __status=0 __seconds="\${MESH_RELEASE_KUBECTL_TIMEOUT:-30}"
  shift
  if [ -z "\${MR_TIMEOUT_MODE:-}" ]; then
    MR_TIMEOUT_MODE=none
    if timeout --foreground 5 true >/dev/null 2>&1; then MR_TIMEOUT_MODE=foreground; elif timeout 5 true >/dev/null 2>&1; then MR_TIMEOUT_MODE=plain; fi
  fi
  __file="$(mktemp 2>/dev/null)" || __file=""
  case "$MR_TIMEOUT_MODE" in
    foreground) __out="$(timeout --foreground "$__seconds" kubectl "$@" 2>"\${__file:-/dev/null}")" || __status=$? ;;
    plain) __out="$(timeout "$__seconds" kubectl "$@" 2>"\${__file:-/dev/null}")" || __status=$? ;;
    *) __out="$(kubectl "$@" 2>"\${__file:-/dev/null}")" || __status=$? ;;
  esac
  if [ -n "$__file" ]; then
    __err="$(<"$__file")"
    rm -f "$__file"
  fi
  if [ "$__status" != 0 ]; then
    __out="\${__err##*$'\\n'}"
    if [ "$__status" = 124 ] && [ "$MR_TIMEOUT_MODE" != none ]; then __out="kubectl did not answer within $__seconds s\${__out:+ ($__out)}"; fi
    __out="\${__out:-kubectl failed (exit $__status)}"
  fi
  printf -v "$__var" '%s' "$__out"
  return "$__status"
}

# mr_timeout <variable> <default>: the seconds in the environment variable <variable>, else <default>; fails on a
# value that is not a whole number.
mr_timeout() {
  local value="\${!1:-$2}"
  case "$value" in
    '' | *[!0-9]*) echo "$1 must be a whole number of seconds, got '$value'" >&2; return 1 ;;
  esac
  echo "$value"
}`;


const WAIT_REPLICAS = `# mr_wait_replicas <deployment> <namespace|-> <floor> <timeout-s>: blocks until the Deployment has at least
# <floor> ready pods (an autoscaler raises replicas after its floor changes; rollout status may return before).
# Before a stage that moves traffic to a version, the same wait makes sure its pods are there first. A Deployment
# that is not there fails it at once. Polls every second.
mr_wait_replicas() {
  local deadline=$((SECONDS + $4)) ready error shown="" ns=()
  if [ "$2" != "-" ]; then ns=(-n "$2"); fi
  while :; do
    if mr_kubectl ready get deployment "$1" \${ns[@]+"\${ns[@]}"} -o 'jsonpath={.status.readyReplicas}'; then
      error=""
    else
      error="$ready" ready=""
      if [[ "$error" == *"(NotFound)"* ]]; then
        echo "deployment/$1: $error" >&2
        return 1
      fi
    fi
    if [ "\${ready:-0}" -ge "$3" ] 2>/dev/null; then
      echo "deployment/$1: \${ready:-0} ready pods (floor $3)"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "deployment/$1: \${ready:-0} ready pods after $4 s, below the floor of $3\${error:+ (cannot read it: $error)}" >&2
      return 1
    fi
    if [ "\${ready:-0}\${error}" != "$shown" ]; then
      echo "waiting (at most $4 s) for deployment/$1: \${ready:-0} of $3 ready pods\${error:+ (cannot read it: $error)}" >&2
      shown="\${ready:-0}\${error}"
    fi
    sleep 1
  done
}`;

const WAIT_PROXIES = `# mr_wait_proxies <timeout-s> [<namespace|-> <resource>]...: blocks until every Envoy acknowledged the routing
# change, then dwells MESH_RELEASE_DWELL seconds (default 5) for in-flight connections and endpoint updates.
# MESH_RELEASE_PROPAGATION_TIMEOUT overrides <timeout-s>.
# - default: polls \`istioctl proxy-status\` until no proxy is STALE;
# - MESH_RELEASE_ISTIO_STATUS=1 (istiod with PILOT_ENABLE_STATUS=true): waits for the Reconciled condition
#   of the Istio objects given instead (at their current generation);
# - fallback, without istioctl: sleeps MESH_RELEASE_PROPAGATION_FALLBACK seconds (default 30) and says so.
mr_wait_proxies() {
  local timeout deadline status ns
  timeout="$(mr_timeout MESH_RELEASE_PROPAGATION_TIMEOUT "$1")" || return 1
  deadline=$((timeout + SECONDS))
  shift
  if [ "\${MESH_RELEASE_ISTIO_STATUS:-0}" = "1" ] && [ $# -ge 2 ]; then
    while [ $# -ge 2 ]; do
      ns=()
      if [ "$1" != "-" ]; then ns=(-n "$1"); fi
      kubectl wait --for=condition=Reconciled \${ns[@]+"\${ns[@]}"} "$2" --timeout="$((deadline > SECONDS ? deadline - SECONDS : 1))s"
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

const NEED_JQ = `# mr_need_jq <helper>: fails, saying so, without jq (the route and endpoint waits read status as JSON).
mr_need_jq() {
  if ! command -v jq >/dev/null 2>&1; then
    echo "$1: jq not found; it reads the objects' status (install it, e.g. apt-get install -y jq)" >&2
    return 1
  fi
}`;

const EXPECT_STAGE = `# mr_expect_stage <namespace|-> <resource> <stage> <live-stage>...: refuses (returns 1) to apply <stage> unless the
# live mesh-release.io/stage annotation of <resource>, the routing object of a release, is one of <live-stage>
# ('-': the object does not exist yet). MESH_RELEASE_FORCE=1 (the script's --force) skips the check.
mr_expect_stage() {
  local resource="$2" stage="$3" where="the current namespace" out live shown want expected=""
  local ns=()
  if [ "$1" != "-" ]; then ns=(-n "$1"); where="namespace $1"; fi
  shift 3
  if [ "\${MESH_RELEASE_FORCE:-0}" = "1" ]; then
    echo "--force: not checking the live stage of $resource ($where) before stage '$stage'" >&2
    return 0
  fi
  if ! mr_kubectl out get "$resource" \${ns[@]+"\${ns[@]}"} --ignore-not-found -o 'jsonpath={.metadata.name}/{.metadata.annotations.mesh-release\\.io/stage}'; then
    echo "cannot read the live stage of $resource ($where): $out" >&2
    echo "not applying stage '$stage'" >&2
    return 1
  fi
  if [ -z "$out" ]; then live="-" shown="none (not created yet)"; else live="\${out#*/}" shown="'\${out#*/}'"; fi
  if [ -n "$out" ] && [ -z "$live" ]; then shown="unknown (no mesh-release.io/stage annotation)"; fi
  for want in "$@"; do
    if [ "$live" = "$want" ]; then
      echo "$resource ($where) is at stage $shown: applying stage '$stage'"
      return 0
    fi
    if [ "$want" = "-" ]; then want="none (not created yet)"; else want="'$want'"; fi
    expected+="\${expected:+ or }$want"
  done
  echo "refusing to apply stage '$stage': $resource ($where) is at stage $shown, expected $expected." >&2
  echo "Apply the stages in order (roll back with --rollback --from <the live stage>), or pass --force (MESH_RELEASE_FORCE=1) to skip this check." >&2
  if [ "$live" != "-" ] && [[ " $* " == *" - "* ]]; then
    echo "If a release before this one left $resource there (at the last stage of its plan), apply this first stage alone with --force (--from $stage --to $stage --force), then go on without it." >&2
  fi
  return 1
}`;

const WAIT_ROUTES = `# mr_wait_routes <timeout-s> <namespace|-> <httproute>...: blocks until every parent (spec.parentRefs) of each
# HTTPRoute accepted its current generation: a status.parents[] entry for that parent (group, kind, namespace, name,
# sectionName, port; unset: gateway.networking.k8s.io, Gateway, the route's namespace) whose conditions Accepted and
# ResolvedRefs are True with observedGeneration = the route's metadata.generation (the conditions of the previous
# generation do not count). Polls every second; on timeout prints each pending parent's conditions (reason: message).
# Prints what it waits for whenever that changes. Then dwells MESH_RELEASE_DWELL seconds (default 5): the data plane
# follows the accepted route. MESH_RELEASE_ROUTE_TIMEOUT overrides <timeout-s>. Needs jq.
mr_wait_routes() {
  local timeout deadline json pending shown=""
  local ns=()
  timeout="$(mr_timeout MESH_RELEASE_ROUTE_TIMEOUT "$1")" || return 1
  deadline=$((timeout + SECONDS))
  if [ "$2" != "-" ]; then ns=(-n "$2"); fi
  shift 2
  mr_need_jq mr_wait_routes || return 1
  # shellcheck disable=SC2016 # $names are jq variables
  local program='
    def ref($ns): {group: (.group // "gateway.networking.k8s.io"), kind: (.kind // "Gateway"), namespace: (.namespace // $ns),
      name, sectionName: (.sectionName // null), port: (.port // null)};
    def text: "\\(.kind) \\(.namespace)/\\(.name)" + (if .sectionName then " section \\(.sectionName)" else "" end)
      + (if .port then " port \\(.port)" else "" end);
    def current($gen): [(.conditions // [])[] | select(.status == "True" and .observedGeneration == $gen) | .type]
      | any(. == "Accepted") and any(. == "ResolvedRefs");
    def conditions: [(.conditions // [])[] | "\\(.type)=\\(.status) (\\(.reason // "no reason")\\(if (.message // "") == "" then "" else ": \\(.message)" end), observedGeneration \\(.observedGeneration // "unset"))"]
      | if . == [] then "no conditions" else join("; ") end;
    (if .kind == "List" then .items else [.] end)[]
    | . as $route | .metadata.namespace as $ns | .metadata.generation as $gen
    | (.spec.parentRefs // [])[] | ref($ns) as $parent
    | [($route.status.parents // [])[] | select((.parentRef | ref($ns)) == $parent)] as $entries
    | select(any($entries[]; current($gen)) | not)
    | "httproute/\\($route.metadata.name) (namespace \\($ns), generation \\($gen)), parent \\($parent | text): "
      + (if $entries == [] then "no status from this parent yet" else ($entries | map(conditions) | join(" | ")) end)'
  while :; do
    if mr_kubectl json get httproute.gateway.networking.k8s.io "$@" \${ns[@]+"\${ns[@]}"} -o json; then
      pending="$(jq -r "$program" <<<"$json" 2>&1)" || pending="cannot read the HTTPRoutes' status: $pending"
    else
      pending="cannot read the HTTPRoutes: $json"
    fi
    if [ -z "$pending" ]; then
      echo "httproute $*: every parent accepted the current generation (Accepted, ResolvedRefs)"
      sleep "\${MESH_RELEASE_DWELL:-5}"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "HTTPRoutes not accepted by every parent after $timeout s:" >&2
      echo "$pending" >&2
      return 1
    fi
    if [ "$pending" != "$shown" ]; then
      echo "waiting (at most $timeout s) for: $pending" >&2
      shown="$pending"
    fi
    sleep 1
  done
}`;

const WAIT_ENDPOINTS = `# mr_wait_endpoints <timeout-s> <namespace|-> <service>: blocks until the Service's EndpointSlices
# (kubernetes.io/service-name=<service>) list exactly the ready pods its selector now selects: every ready endpoint
# (conditions.ready not false) is a pod carrying the selector's labels, every Ready pod of the selector that is not
# terminating is listed ready, and there is at least one. Polls every second, printing what differs whenever that
# changes, and on timeout. Then dwells MESH_RELEASE_DWELL seconds (default 5): kube-proxy follows the slices.
# MESH_RELEASE_ENDPOINTS_TIMEOUT overrides <timeout-s>. Needs jq.
mr_wait_endpoints() {
  local timeout service="$3" deadline json selector pods slices pending shown=""
  local ns=()
  timeout="$(mr_timeout MESH_RELEASE_ENDPOINTS_TIMEOUT "$1")" || return 1
  deadline=$((timeout + SECONDS))
  if [ "$2" != "-" ]; then ns=(-n "$2"); fi
  mr_need_jq mr_wait_endpoints || return 1
  # shellcheck disable=SC2016 # $names are jq variables
  local program='
    (.[0].items // []) as $pods | (.[1].items // []) as $slices
    | [$pods[].metadata.name] as $selected
    | [$pods[] | select(.metadata.deletionTimestamp == null and any((.status.conditions // [])[]; .type == "Ready" and .status == "True"))
      | .metadata.name] as $ready
    | [$slices[] | (.endpoints // [])[] | select(.conditions.ready != false)
      | if .targetRef.kind == "Pod" then .targetRef.name else "(not a pod: \\((.addresses // []) | join(",")))" end] | unique as $listed
    | ($listed - $selected) as $foreign | ($ready - $listed) as $missing
    | (if $foreign != [] then "listed ready but not selected by \\($selector): \\($foreign | join(", "))" else empty end),
      (if $missing != [] then "ready pods of \\($selector) not listed ready yet: \\($missing | join(", "))" else empty end),
      (if $listed == [] then "no ready endpoint" else empty end)'
  while :; do
    pending=""
    if ! mr_kubectl json get service "$service" \${ns[@]+"\${ns[@]}"} -o json; then
      pending="cannot read service/$service: $json"
    elif ! selector="$(jq -r '.spec.selector // {} | to_entries | map("\\(.key)=\\(.value)") | join(",")' <<<"$json")" || [ -z "$selector" ]; then
      pending="service/$service has no selector"
    elif ! mr_kubectl pods get pods \${ns[@]+"\${ns[@]}"} -l "$selector" -o json; then
      pending="cannot list the pods of $selector: $pods"
    elif ! mr_kubectl slices get endpointslices.discovery.k8s.io \${ns[@]+"\${ns[@]}"} -l "kubernetes.io/service-name=$service" -o json; then
      pending="cannot list the EndpointSlices of service/$service: $slices"
    else
      pending="$(jq -rs --arg selector "$selector" "$program" <<<"$pods"$'\\n'"$slices" 2>&1)" || pending="cannot read the EndpointSlices: $pending"
    fi
    if [ -z "$pending" ]; then
      echo "service/$service: its EndpointSlices list exactly the ready pods of $selector"
      sleep "\${MESH_RELEASE_DWELL:-5}"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "service/$service: EndpointSlices do not list exactly the ready pods it selects after $timeout s:" >&2
      echo "$pending" >&2
      return 1
    fi
    if [ "$pending" != "$shown" ]; then
      echo "waiting (at most $timeout s) for service/$service: \${pending//$'\\n'/; }" >&2
      shown="$pending"
    fi
    sleep 1
  done
}`;

/**
 * The bash helpers the steps call: the guard and the waits a single kubectl command cannot express.
 * `mr_expect_stage` reads the live stage of a release's routing object; `mr_wait_replicas` compares
 * `readyReplicas >= floor` (an HPA may scale above its floor, so `kubectl wait --for=jsonpath=...=N`
 * could wait for ever); `mr_wait_proxies` polls `istioctl proxy-status` (`istioctl x wait` was removed
 * in Istio 1.23); `mr_wait_routes` matches each parentRef of an HTTPRoute with its `status.parents[]`
 * entry and `mr_wait_endpoints` compares a Service's EndpointSlices with its pods (jq: more than
 * one `--for=jsonpath` can say).
 */
export const HELPERS = [KUBECTL, EXPECT_STAGE, WAIT_REPLICAS, WAIT_PROXIES, NEED_JQ, WAIT_ROUTES, WAIT_ENDPOINTS].join('\n\n');

/** How a path and the namespace flag appear in commands. */
export interface StepContext extends TransitionContext {
  /** The stage directory as the runbook names it (relative to the runbook), shell-quoted when needed. */
  readonly dirOf: (stage: StageResult) => string;
}

/** The steps that apply `stage` after the stage before it. */
export function forwardSteps(stage: StageResult, previous: StageResult | undefined, ctx: StepContext): Step[] {
  return forwardActions(stage, previous, ctx).flatMap((a) => stepsOf(a, ctx.dirOf(stage), stage.manifests, ctx, 'stage'));
}

/** The steps that roll `stage` back to `previous`: the same changes in reverse, with the same waits. */
export function rollbackSteps(stage: StageResult, previous: StageResult, ctx: StepContext): Step[] {
  return rollbackActions(stage, previous, ctx).flatMap((a) => stepsOf(a, ctx.dirOf(previous), previous.manifests, ctx, 'roll back'));
}

/** One action of a transition (`transition.ts`: the order) as the runbook's commands; `target`: the objects in `dir`. */
function stepsOf(action: TransitionAction, dir: string, target: any[], ctx: StepContext, what: string): Step[] {
  switch (action.kind) {
    case 'capacity': {
      const d = action.deployment;
      return [{
        kind: 'check',
        command: `mr_wait_replicas ${d.metadata?.name} ${nsArg(d, ctx)} ${action.floor} ${action.timeoutSeconds}`,
        why: `before ${action.release} ${action.version} gets more traffic: ${d.metadata?.name} has its floor of ${action.floor} ready pods`,
      }];
    }
    case 'guard': {
      const described = action.expected.map((e) => (e === '-' ? 'not created yet' : e)).join(' or ');
      return [{
        kind: 'check',
        command: `mr_expect_stage ${nsArg(action.object, ctx)} ${resourceOf(action.object)} ${action.target} ${action.expected.join(' ')}`,
        why: `the live stage of ${action.object.kind}/${action.release.name}: ${described} (else refuse; --force skips this check)`,
      }];
    }
    case 'scale':
      return [scaleStep(action, dir, target, ctx)];
    case 'apply':
      return applySteps(action, dir, target, ctx, what);
    case 'scale-down':
      return [scaleDownStep(action, dir, target, ctx)];
    case 'rollout': {
      const d = action.deployment;
      return [{
        kind: 'wait',
        command: `kubectl rollout status deployment/${d.metadata?.name}${nsFlag(d, ctx)} --timeout=${action.timeoutSeconds}s`,
        why: `new pods of ${d.metadata?.name} ready`,
      }];
    }
    case 'floor': {
      const d = action.deployment;
      return [{
        kind: 'wait',
        command: `mr_wait_replicas ${d.metadata?.name} ${nsArg(d, ctx)} ${action.floor} ${action.timeoutSeconds}`,
        why: `${d.metadata?.name} has its floor of ${action.floor} ready pods`,
      }];
    }
    case 'live':
      return liveSteps(action, ctx);
    case 'delete': {
      const m = action.object;
      return [{
        kind: 'delete',
        command: `kubectl delete ${resourceOf(m)}${nsFlag(m, ctx)} --ignore-not-found --wait=true --timeout=${action.timeoutSeconds}s`,
        why: `the ${what} drops ${m.kind}/${m.metadata?.name} (kubectl apply deletes nothing)`,
      }];
    }
    case 'pods-gone':
      return [{
        kind: 'wait',
        command: `kubectl wait --for=delete pod${nsFlag(action.deployment, ctx)} -l ${Object.entries(action.selector).map(([k, v]) => `${k}=${v}`).join(',')} `
          + `--timeout=${action.timeoutSeconds}s`,
        why: `the pods of ${action.deployment.metadata?.name} are gone`,
      }];
  }
}

/**
 * The scale-up of a version before it gets more traffic: `kubectl apply -f <dir> -l app=<app>,version=<version>`,
 * which applies, of the stage's objects, only those carrying both labels (`--selector`: "filter on" labels, see
 * https://kubernetes.io/docs/reference/kubectl/generated/kubectl_apply/): the library gives them to a version's
 * Deployment, autoscaler and PodDisruptionBudget, never to a routing object (`versionObjectLabels`, the per-version
 * Services have no `version` label). Hand-written YAML whose labels select more (a routing object, an object the
 * transition changes) or less is refused: there is no other exact command (`kubectl scale` to the floor would scale
 * an autoscaled Deployment above it down).
 */
function scaleStep(action: ScaleAction, dir: string, target: any[], ctx: StepContext): Step {
  const names = (ms: any[]) => ms.map((m) => `${m.kind}/${m.metadata?.name}`).join(', ');
  if (!action.labels) {
    throw new CliError(`cannot write the scale-up of ${action.release} ${action.version} in ${dir} (its floor rises from ${action.from} to `
      + `${action.floor} pods as it gets more traffic, so ${names(action.objects)} must be applied before the rest of the stage): `
      + `the labels ${labelsText(versionLabels(action.release, action.version))} must select exactly these objects of the stage, `
      + 'besides PodDisruptionBudgets and objects the step does not change; give them those labels (MeshRelease and VersionedApp do), and no routing object');
  }
  const labels = labelsText(action.labels);
  return {
    kind: 'apply',
    command: `kubectl apply -f ${dir} -l ${labels}${applyNamespace(target, ctx, dir)}`,
    why: `before ${action.release} ${action.version} gets more traffic: scale it first, from a floor of ${action.from} to ${action.floor} pods `
      + `(${names([...action.objects, ...action.alsoSelected])}: the objects labelled ${labels}, nothing that routes)`,
  };
}

/**
 * The apply of a stage: `kubectl apply -f <dir>`; with versions scaled down after routing is live, the objects
 * labelled with their version left out: `-l 'version notin (v1)'`, which also selects the objects without a `version`
 * label ("notin ... selects all resources with key not equal to ... and all resources with no labels with key", and
 * each object passes the filter or not, in the order of the files:
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#set-based-requirement), then the objects of
 * that version of the other apps: `-l 'version=v1,app notin (web)'`, when there are any (kubectl refuses an apply that
 * selects nothing: "no objects passed to apply"). These come after the rest: refused when one of them routes and
 * the step changes it.
 */
function applySteps(action: ApplyAction, dir: string, target: any[], ctx: StepContext, what: string): Step[] {
  const ns = applyNamespace(target, ctx, dir);
  if (action.held.length === 0) {
    return [{ kind: 'apply', command: `kubectl apply -f ${dir}${ns}`, why: `create and change the objects of the ${what}` }];
  }
  const held = action.held.map((a) => ({ action: a, labels: heldLabels(a, dir) }));
  const versions = unique(held.map((h) => h.labels[VERSION_LABEL])).sort(compareText);
  const changed = new Set([...action.created, ...action.changed].map((m) => keyOf(m, ctx.namespace)));
  const routes = (m: any) => isRouting(m) || ROUTER_RUNBOOKS.some((r) => r.roleOf(m) !== undefined);
  const others = versions.flatMap((version): Step[] => {
    const apps = unique(held.filter((h) => h.labels[VERSION_LABEL] === version).map((h) => h.labels[APP_LABEL])).sort(compareText);
    const rest = target.filter((m) => m?.metadata?.labels?.[VERSION_LABEL] === version && !apps.includes(m.metadata.labels[APP_LABEL]));
    if (rest.length === 0) {
      return [];
    }
    const routing = rest.filter((m) => routes(m) && changed.has(keyOf(m, ctx.namespace)));
    if (routing.length > 0) {
      throw new CliError(`cannot write the apply of ${dir} while ${apps.join(', ')} ${version} is scaled down after its routing: `
        + `${objectNames(routing)} (labelled ${VERSION_LABEL}=${version}, of another app) routes and changes in this step, so it would be applied after `
        + `the rest of the stage (kubectl apply -l '${VERSION_LABEL} notin (${version})' leaves it out); remove its ${VERSION_LABEL} label`);
    }
    return [{
      kind: 'apply',
      command: `kubectl apply -f ${dir} -l '${VERSION_LABEL}=${version},${APP_LABEL} notin (${apps.join(',')})'${ns}`,
      why: `and the objects labelled ${VERSION_LABEL}=${version} of other apps (${objectNames(rest)}): not scaled down`,
    }];
  });
  const left = held.map((h) => `${h.action.release} ${h.action.version}`).join(', ');
  return [{
    kind: 'apply',
    command: `kubectl apply -f ${dir} -l '${VERSION_LABEL} notin (${versions.join(',')})'${ns}`,
    why: `create and change the objects of the ${what}, but those of ${left}: scaled down after the routing is live (their pods carry their share until then)`,
  }, ...others];
}

/**
 * The scale-down of a version after routing is live: `kubectl apply -f <dir> -l app=<app>,version=<version>`, the
 * objects the apply left out (`applySteps`).
 */
function scaleDownStep(action: ScaleDownAction, dir: string, target: any[], ctx: StepContext): Step {
  const labels = labelsText(heldLabels(action, dir));
  return {
    kind: 'apply',
    command: `kubectl apply -f ${dir} -l ${labels}${applyNamespace(target, ctx, dir)}`,
    why: `now that the routing gives ${action.release} ${action.version} less traffic: scale it down, from a floor of ${action.from} to ${action.floor} pods `
      + `(${objectNames([...action.objects, ...action.alsoSelected])}: the objects labelled ${labels}, left out of the apply)`,
  };
}

/** The labels that select exactly the objects of a version scaled down after routing is live, else refused. */
function heldLabels(action: ScaleDownAction, dir: string): { [key: string]: string } {
  if (!action.labels) {
    throw new CliError(`cannot write the scale-down of ${action.release} ${action.version} in ${dir} (its floor falls from ${action.from} to `
      + `${action.floor} pods as it gets less traffic, so ${objectNames(action.objects)} must be left out of the apply of the stage and applied once `
      + `the routing is live): the labels ${labelsText(versionLabels(action.release, action.version))} must select exactly these objects of the stage, `
      + 'besides PodDisruptionBudgets and objects the step does not change; give them those labels (MeshRelease and VersionedApp do), and no routing object');
  }
  return action.labels;
}

function objectNames(ms: any[]): string {
  return ms.map((m) => `${m.kind}/${m.metadata?.name}`).join(', ');
}

/** Kinds without a namespace: `kubectl apply -n` leaves them alone. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass',
  'StorageClass', 'IngressClass', 'GatewayClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService',
  'PersistentVolume', 'RuntimeClass', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);

/**
 * ` -n <ns>` when the plan has a namespace for objects without one (`--namespace`) and the stage has such objects: the
 * waits, deletes and the guard look for them there, so the apply must put them there (not in kubectl's current
 * namespace). One `kubectl apply -n` cannot also apply objects of another namespace: refused, naming them.
 */
function applyNamespace(target: any[], ctx: StepContext, dir: string): string {
  if (ctx.namespace === undefined) {
    return '';
  }
  const without = target.filter((m) => m?.metadata?.namespace === undefined && !CLUSTER_SCOPED.has(m?.kind));
  if (without.length === 0) {
    return '';
  }
  const elsewhere = target.filter((m) => m?.metadata?.namespace !== undefined && m.metadata.namespace !== ctx.namespace);
  if (elsewhere.length > 0) {
    const names = (ms: any[]) => ms.slice(0, 3).map((m) => `${m.kind}/${m.metadata?.name}${m.metadata?.namespace ? ` (${m.metadata.namespace})` : ''}`).join(', ')
      + (ms.length > 3 ? `, ... (${ms.length})` : '');
    throw new CliError(`cannot write one kubectl apply for ${dir}: objects without a namespace (${names(without)}), which --namespace `
      + `puts in ${ctx.namespace} (kubectl apply -n ${ctx.namespace}), and objects of another namespace (${names(elsewhere)}), which kubectl `
      + `apply -n ${ctx.namespace} refuses; give every object its namespace (a cdk8s Chart's namespace), or none`);
  }
  return ` -n ${ctx.namespace}`;
}

/** A router's wait (what "routing is live" means for it) as the runbook's shell helper. */
function liveSteps(action: LiveAction, ctx: StepContext): Step[] {
  switch (action.wait) {
    case LiveWaitKind.ROUTES_ACCEPTED:
      return routeWaits(action.objects, ctx);
    case LiveWaitKind.ENDPOINTS_SWITCHED:
      return action.objects.map((s) => ({
        kind: 'wait',
        command: `mr_wait_endpoints ${ENDPOINTS_TIMEOUT} ${nsArg(s, ctx)} ${s.metadata?.name}`,
        why: `the EndpointSlices of ${s.metadata?.name} list only the ready pods of ${labelsText(s.spec.selector)}`,
      }));
    default:
      return [proxiesStep(action.objects, ctx, action.after === 'apply' ? 'every proxy has the new routing' : 'every proxy dropped the deleted Istio objects')];
  }
}

/** `mr_wait_routes` of the HTTPRoutes the transition creates or changes, one per namespace (a deleted route needs none). */
function routeWaits(routes: readonly any[], ctx: StepContext): Step[] {
  const byNamespace = new Map<string, string[]>();
  for (const route of routes) {
    push(byNamespace, nsArg(route, ctx), route.metadata?.name);
  }
  return [...byNamespace].map(([ns, names]) => ({
    kind: 'wait',
    command: `mr_wait_routes ${ROUTE_TIMEOUT} ${ns} ${names.join(' ')}`,
    why: `every parent accepted the new generation of ${names.join(', ')} (Accepted, ResolvedRefs)`,
  }));
}

function proxiesStep(objects: readonly any[], ctx: StepContext, why: string): Step {
  const reconciled = objects.map((m) => ` ${nsArg(m, ctx)} ${resourceOf(m)}`).join('');
  return { kind: 'wait', command: `mr_wait_proxies ${PROPAGATION_TIMEOUT}${reconciled}`, why };
}

/** `k=v,...` in key order. */
function labelsText(labels: { [key: string]: string } | undefined): string {
  return Object.entries(labels ?? {}).sort(([a], [b]) => compareText(a, b)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** Built-in API groups whose kinds kubectl resolves unambiguously by their lowercase name. */
const BUILT_IN_GROUPS = new Set(['', 'apps', 'autoscaling', 'policy', 'batch']);

/** `deployment/x`, `virtualservice.networking.istio.io/x`: the kind qualified by its group unless built in. */
export function resourceOf(m: any): string {
  const group = groupOf(m?.apiVersion);
  const kind = String(m?.kind).toLowerCase();
  return `${BUILT_IN_GROUPS.has(group) ? kind : `${kind}.${group}`}/${m?.metadata?.name}`;
}

/** A namespace argument of the `mr_*` helpers: the object's, else the plan's, else `-` (kubectl's current namespace). */
function nsArg(m: any, ctx: StepContext): string {
  return m?.metadata?.namespace ?? ctx.namespace ?? '-';
}

function nsFlag(m: any, ctx: StepContext): string {
  const ns = m?.metadata?.namespace ?? ctx.namespace;
  return ns ? ` -n ${ns}` : '';
}
