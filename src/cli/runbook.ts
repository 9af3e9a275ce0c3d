import * as fs from 'fs';
import * as path from 'path';
import { formatViolation } from './check';
import { EXIT_OK, EXIT_UNSAFE, fileError } from './errors';
import { displayPath } from './paths';
import { describeReleases, isSafe, renderChanges, renderPlan } from './plan';
import { ReleaseRef, releaseState } from './release-view';
import { ENDPOINTS_TIMEOUT, forwardSteps, HELPERS, KUBECTL_TIMEOUT, PROPAGATION_TIMEOUT, rollbackSteps, ROUTE_TIMEOUT, SLACK, Step, StepContext, TIMEOUT_VARIABLES } from './runbook-steps';
import { errorsIn, PlanResult, StageResult, synthesizePlan, SynthesizeOptions } from './stages';

export interface RunbookOptions extends SynthesizeOptions {
  /** The file to write; default `<app>/RUNBOOK.md` (`md`) or `<app>/runbook.sh` (`sh`). */
  readonly file?: string;
  /** `md` (default) or `sh`: an executable bash script. */
  readonly format?: string;
}

/** `mesh-release runbook`: synthesizes (or reads) every stage like `plan`, then writes the runbook (not for an unsafe plan). */
export async function runbookCommand(options: RunbookOptions): Promise<number> {
  const format = options.format ?? 'md';
  const result = await synthesizePlan(options, (message) => console.error(message));
  console.log(renderPlan(result));
  if (!isSafe(result)) {
    console.error('mesh-release: error: not writing a runbook for an unsafe plan');
    return EXIT_UNSAFE;
  }
  const file = path.resolve(options.file ?? path.join(result.appDir, format === 'sh' ? 'runbook.sh' : 'RUNBOOK.md'));
  const text = format === 'sh' ? renderScript(result, path.dirname(file), path.basename(file)) : renderRunbook(result, path.dirname(file));
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: format === 'sh' ? 0o755 : 0o644 });
    if (format === 'sh') {
      fs.chmodSync(file, 0o755);
    }
  } catch (e) {
    throw fileError(`write ${displayPath(file)}`, e);
  }
  console.log(`Runbook written to ${displayPath(file)}${format === 'sh' ? ` (run ${displayPath(file)} --help)` : ''}`);
  return EXIT_OK;
}

/** Every stage's steps and its roll back's, with paths relative to `baseDir`. */
export function runbookSteps(result: PlanResult, baseDir: string): { stage: StageResult; forward: Step[]; rollback?: Step[] }[] {
  const ctx: StepContext = { dirOf: (s) => shellQuote(`${relativeTo(baseDir, s.dir)}/`), namespace: result.read.namespace, releases: result.releases };
  return result.stages.map((stage, i) => {
    const previous = i > 0 ? result.stages[i - 1] : undefined;
    return { stage, forward: forwardSteps(stage, previous, ctx), rollback: previous && rollbackSteps(stage, previous, ctx) };
  });
}

const WAITS_EXPLAINED = [
  '- **Guard**: each stage (and each roll back) runs `mr_expect_stage` right before its apply, which reads the live `mesh-release.io/stage` annotation',
  '  of every release\'s routing object (its VirtualService, its HTTPRoute, or the Service of a selector switch) and refuses unless it is',
  '  the stage before (or the stage itself: applying again changes nothing; for the first stage, no object yet); rolling back from X',
  '  expects X (or X-1, already rolled back). `MESH_RELEASE_FORCE=1` (the script\'s `--force`) skips it.',
  '- **Floors first**: a stage (or roll back) that gives a version more of the catch-all route starts, before the guard, with',
  '  `mr_wait_replicas` of that version\'s Deployment at its floor: traffic moves only to pods that are there (a Deployment',
  '  that is gone fails it at once). It applies nothing.',
  '- **Scaled first**: when that version\'s floor in the stage applied is higher than its live one (e.g. a stable with fixed replicas',
  '  scaled down mid-plan, rolled back), the guard is followed by `kubectl apply -f <stage> -l app=<app>,version=<version>` (its',
  '  Deployment, autoscaler and PodDisruptionBudget of the stage: nothing that routes) and `mr_wait_replicas` at the new floor; only then',
  '  is the whole stage applied.',
  `- **Every wait blocks** until its condition holds, or fails after its timeout (the Deployment's \`progressDeadlineSeconds\` + ${SLACK} s for pods,`,
  `  the grace period + ${SLACK} s for deletions, ${PROPAGATION_TIMEOUT} s for Istio, ${ROUTE_TIMEOUT} s for routes, ${ENDPOINTS_TIMEOUT} s for endpoints): \`kubectl rollout status\``,
  '  (new pods ready), `mr_wait_replicas` (at least the floor of ready pods, once an autoscaler\'s floor rose: `rollout status` can return',
  '  before the autoscaler adds pods), `kubectl delete --wait` and `kubectl wait --for=delete` (objects and pods gone), and per router:',
  '- **Istio objects** (`mr_wait_proxies`, only when a stage creates, changes or deletes objects of `networking.istio.io` or',
  '  `security.istio.io`): polls `istioctl proxy-status` until no proxy is `STALE` (sent, not acknowledged), then dwells',
  '  `MESH_RELEASE_DWELL` s (default 5). With `MESH_RELEASE_ISTIO_STATUS=1` (istiod run with `PILOT_ENABLE_STATUS=true`) it waits for',
  '  the `Reconciled` condition of the Istio objects instead. Fallback without istioctl: it sleeps `MESH_RELEASE_PROPAGATION_FALLBACK` s',
  '  (default 30) and says so, which is a guess, not a check. (`istioctl x wait` was removed in Istio 1.23.)',
  '- **Gateway API routes** (`mr_wait_routes`, after an apply that creates or changes an HTTPRoute): polls the route until, for each of',
  '  its `parentRefs`, the `status.parents[]` entry of that parent has `Accepted` and `ResolvedRefs` True at the route\'s current',
  '  `metadata.generation` (`observedGeneration`), then dwells `MESH_RELEASE_DWELL` s; on timeout it prints the parents\' conditions',
  '  (e.g. `NotAllowedByListeners`, `BackendNotFound`). Needs `jq`.',
  '- **Selector switch** (`mr_wait_endpoints`, after an apply that creates the Service or switches its selector): polls the Service\'s',
  '  EndpointSlices until their ready endpoints are exactly the Ready, non-terminating pods it now selects (at least one), then dwells',
  '  `MESH_RELEASE_DWELL` s. Needs `jq`. No Istio wait.',
  `- **Timeouts**: \`${TIMEOUT_VARIABLES.route}\`, \`${TIMEOUT_VARIABLES.endpoints}\` and \`${TIMEOUT_VARIABLES.propagation}\` (seconds)`,
  '  replace the timeouts of the route, endpoint and Istio waits, e.g. to fail fast in CI on a route the mesh refuses. Each kubectl',
  `  read of a wait is stopped after \`${TIMEOUT_VARIABLES.kubectl}\` s (default ${KUBECTL_TIMEOUT}; where \`timeout\` exists), so an API server`,
  '  that does not answer fails the wait on time, with kubectl\'s error.',
  '- **Namespaces**: objects without one are applied with `-n <--namespace>` when the plan has one (where the guard, waits and',
  '  deletes look for them), else in kubectl\'s current namespace, which the helpers then use too (`-`).',
  '- **Deletes**: `kubectl apply` creates and changes, it deletes nothing; the objects a stage drops are deleted by name after the',
  '  apply and its waits (routes first, workloads last), only objects of this plan. Roll back is the same in reverse: apply the',
  '  previous stage (re-creating what the stage deleted, scaling back the version that takes traffic back), the same waits, then',
  '  delete what the stage created.',
];

/** The Markdown runbook, with paths relative to `baseDir` (the runbook's directory). */
export function renderRunbook(result: PlanResult, baseDir: string): string {
  const { releases, stages } = result;
  const all = runbookSteps(result, baseDir);
  return [
    `# Runbook: release ${describeReleases(releases)}`,
    '',
    `Generated by \`mesh-release runbook\` from the cdk8s app in \`${relativeTo(baseDir, result.appDir)}\`: `
      + `${stages.length} stages, each checked against the one before it by \`SafetyCheck\` (no errors).`,
    '',
    'Run the commands from the directory of this runbook, in bash, against the cluster of the release (`kubectl config current-context`),',
    'after pasting the helpers below once. Finish every command of a stage before the next stage: make-before-break only holds when',
    'every stage is live (new pods ready, the new routing accepted and propagated) before the next one changes anything.',
    '`mesh-release runbook --format sh` writes the same commands as an executable script (`--from`, `--to`, `--rollback`, `--force`).',
    '',
    ...WAITS_EXPLAINED,
    '',
    '## Helpers',
    '',
    '```bash',
    HELPERS,
    '```',
    '',
    '## Traffic per version',
    '',
    ...releases.flatMap((release) => weightChart(result, release)),
    ...all.flatMap(({ stage, forward, rollback }) => stageSection(result, stage, forward, rollback)),
  ].join('\n').trimEnd() + '\n';
}

function weightChart(result: PlanResult, release: ReleaseRef): string[] {
  const states = result.stages.map((s) => releaseState(s.manifests, release, result.read));
  const versions = [...new Set(states.flatMap((s) => s.weights.map((w) => w.version)))];
  const weight = (i: number, version: string) => states[i].weights.find((w) => w.version === version)?.weight ?? 0;
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${release.name}: weight of the catch-all route per version (%)"`,
    `  x-axis [${result.stages.map((s) => `"${s.name}"`).join(', ')}]`,
    '  y-axis "weight (%)" 0 --> 100',
    ...versions.map((version) => `  line [${states.map((_, i) => weight(i, version)).join(', ')}]`),
    '```',
    '',
    `Lines, in order: ${versions.join(', ')}.`,
    '',
    '| # | stage | deployments | routable | weights |',
    '|---|---|---|---|---|',
    ...result.stages.map((s, i) => `| ${i + 1} | \`${s.name}\` | ${states[i].deployed.join(', ') || '-'} | ${states[i].routable.join(', ') || '-'} | `
      + `${states[i].weights.map((w) => `${w.version} ${w.weight}`).join(', ')}${states[i].matchRoutes.map((m) => `; ${m}`).join('')} |`),
    '',
  ];
}

function stageSection(result: PlanResult, stage: StageResult, forward: Step[], rollback: Step[] | undefined): string[] {
  const previous = stage.index > 0 ? result.stages[stage.index - 1] : undefined;
  const summary = result.releases.map((r) => {
    const s = releaseState(stage.manifests, r, result.read);
    return `${result.releases.length > 1 ? `${r.name}: ` : ''}Deployments ${s.deployed.join(', ') || 'none'} · routable ${s.routable.join(', ') || 'none'}`
      + ` · weights ${s.weights.map((w) => `${w.version} ${w.weight}`).join(', ')}`;
  });
  const rollbackErrors = errorsIn(stage.rollbackViolations);
  return [
    `## ${stage.index + 1}. ${stage.name}`,
    '',
    ...summary.map((s) => `${s}.`),
    '',
    ...changeList(stage, result),
    '```bash',
    ...commandLines(forward),
    '```',
    '',
    ...(previous && rollback
      ? [
        `Roll back to stage ${previous.index + 1} (${previous.name}):`,
        '',
        '```bash',
        ...commandLines(rollback),
        '```',
        '',
        ...(rollbackErrors.length > 0
          ? ['Warning: rolling back in one step is unsafe:', '', ...rollbackErrors.map((v) => `    ${formatViolation(v).split('\n').join('\n    ')}`), '']
          : []),
      ]
      : ['Roll back: nothing to roll back (first stage).', '']),
  ];
}

/** `Changes:` and one bullet per object created (+), changed (~) or deleted (-). */
function changeList(stage: StageResult, result: PlanResult): string[] {
  const lines = renderChanges(stage.name, stage.index, stage.changes, result.read.namespace).slice(1);
  return lines.length === 0 ? ['Changes: none.', ''] : ['Changes:', '', ...lines.map((l) => `- \`${l.trim().slice(0, 1)}\` ${l.trim().slice(2)}`), ''];
}

function commandLines(steps: Step[]): string[] {
  return steps.flatMap((s) => [`# ${s.why}`, s.command]);
}

/**
 * The runbook as an executable bash script: one function per stage and per roll back, `--from`/`--to`/`--rollback`/`--force`.
 * `fileName` is the script's name in its directory (`baseDir`), the command its usage text shows.
 */
export function renderScript(result: PlanResult, baseDir: string, fileName = 'runbook.sh'): string {
  const all = runbookSteps(result, baseDir);
  const self = commentQuote(`./${fileName}`);
  const n = result.stages.length;
  const fn = (prefix: string, i: number) => `${prefix}_${String(i + 1).padStart(2, '0')}`;
  const body = (steps: Step[]) => steps.flatMap((s) => [`  # ${s.why}`, `  mr_run ${s.command}`]);
  const usage = [
    `# Usage: ${self} [--from <stage>] [--to <stage>] [--force]`,
    '#            apply stages <from>..<to> (default: all), in order',
    `#        ${self} --rollback --from <stage> [--to <stage>] [--force]`,
    '#            roll back from stage <from> (the one applied now) to stage <to>, one stage at a time',
    '#            (default: the stage before <from>: one stage back)',
    `#        ${self} --list`,
    '#            list the stages',
    '# A stage is a name (first) or a 1-based number. Before each stage the script reads the live mesh-release.io/stage',
    '# annotation of each release\'s routing object and refuses (exit 1) unless it is the stage before (or that stage:',
    '# applying again changes nothing); --force (or MESH_RELEASE_FORCE=1) skips that check. Before that, a stage (or roll',
    '# back) that gives a version more traffic waits until its pods are at their floor (--force does not skip this); a version',
    '# whose floor rises is scaled instead, after the check and before the apply: its Deployment and autoscaler (kubectl apply -l),',
    '# then its new floor of ready pods.',
    '# Every wait blocks until its condition holds, or fails (set -e stops the script, saying which stage stopped where',
    '# and how to go on or back). Needs kubectl; jq for the route and endpoint waits; istioctl for the Istio ones.',
    '# Environment: MESH_RELEASE_DWELL, MESH_RELEASE_ISTIO_STATUS, MESH_RELEASE_PROPAGATION_FALLBACK (see the helpers);',
    `#   ${TIMEOUT_VARIABLES.route}, ${TIMEOUT_VARIABLES.endpoints}, ${TIMEOUT_VARIABLES.propagation}: the`,
    `#   timeouts of the route, endpoint and Istio waits in seconds (default ${ROUTE_TIMEOUT}, ${ENDPOINTS_TIMEOUT}, ${PROPAGATION_TIMEOUT}), e.g. to fail fast in CI;`,
    `#   ${TIMEOUT_VARIABLES.kubectl}: the most one kubectl read of a wait may take (default ${KUBECTL_TIMEOUT}).`,
  ];
  return [
    '#!/usr/bin/env bash',
    `# Runbook of release ${describeReleases(result.releases)}: ${n} stages, each checked by SafetyCheck.`,
    `# Generated by \`mesh-release runbook --format sh\` from the cdk8s app in ${relativeTo(baseDir, result.appDir)}; do not edit, regenerate.`,
    '#',
    ...usage,
    'set -euo pipefail',
    'cd "$(dirname "${BASH_SOURCE[0]}")"',
    '',
    `STAGES=(${result.stages.map((s) => s.name).join(' ')})`,
    '',
    '# mr_run <command...>: prints the command, then runs it (and remembers it, and whether the stage was applied, for mr_stopped).',
    'mr_run() {',
    '  MR_LAST="$*"',
    '  if [ "$1 ${2:-}" = "kubectl apply" ]; then MR_APPLIED=1; fi',
    '  printf \'+ %s\\n\' "$*" >&2',
    '  "$@"',
    '}',
    '',
    '# mr_stopped: on a failed exit inside a stage or a roll back, says where it stopped and how to go on or back.',
    'mr_stopped() {',
    '  local status=$?',
    '  if [ "$status" = 0 ] || [ -z "${MR_STAGE:-}" ]; then return 0; fi',
    '  local name="${STAGES[$((MR_STAGE - 1))]}"',
    '  if [ "${MR_APPLIED:-0}" = 0 ]; then',
    '    echo "mesh-release: ${MR_DOING:-stage} ${MR_STAGE} (${name}) not started: \'${MR_LAST:-}\' failed (exit ${status}); nothing of it was applied." >&2',
    '  elif [ "${MR_DOING:-stage}" = "stage" ]; then',
    '    echo "mesh-release: stage ${MR_STAGE} (${name}) was applied but stopped at \'${MR_LAST:-}\' (exit ${status})." >&2',
    '    echo "Fix the cause, then run it again (applying a stage again is safe): $0 --from ${name}" >&2',
    '    if [ "$MR_STAGE" -gt 1 ]; then echo "or roll it back: $0 --rollback --from ${name}" >&2; fi',
    '  else',
    '    echo "mesh-release: the roll back of stage ${MR_STAGE} (${name}) was applied but stopped at \'${MR_LAST:-}\' (exit ${status})." >&2',
    '    echo "Fix the cause, then run it again: $0 --rollback --from ${name}" >&2',
    '  fi',
    '}',
    '',
    HELPERS,
    '',
    ...all.flatMap(({ stage, forward, rollback }, i) => [
      `# Stage ${i + 1}: ${stage.name}`,
      `${fn('stage', i)}() {`,
      `  echo "==> stage ${i + 1}/${n}: ${stage.name}"`,
      ...body(forward),
      '}',
      '',
      ...(rollback ? [
        `# Roll back stage ${i + 1} (${stage.name}) to stage ${i} (${result.stages[i - 1].name})`,
        `${fn('rollback', i)}() {`,
        `  echo "==> roll back stage ${i + 1}/${n} (${stage.name}) to ${result.stages[i - 1].name}"`,
        ...body(rollback),
        '}',
        '',
      ] : []),
    ]),
    'usage() {',
    `  sed -n '5,${4 + usage.length}s/^# \\{0,1\\}//p' "\${BASH_SOURCE[0]}"`,
    '}',
    '',
    '# stage_number <name or number>: the 1-based number of a stage, or exit 2. A name first: a stage may be named \'2\'.',
    'stage_number() {',
    '  local i',
    '  for i in "${!STAGES[@]}"; do',
    '    if [ "${STAGES[$i]}" = "$1" ]; then',
    '      echo "$((i + 1))"',
    '      return 0',
    '    fi',
    '  done',
    '  for i in "${!STAGES[@]}"; do',
    '    if [ "$((i + 1))" = "$1" ]; then',
    '      echo "$((i + 1))"',
    '      return 0',
    '    fi',
    '  done',
    '  echo "unknown stage \'$1\'; stages: ${STAGES[*]}" >&2',
    '  exit 2',
    '}',
    '',
    'main() {',
    '  local from="" to="" rollback=0 i',
    '  while [ $# -gt 0 ]; do',
    '    case "$1" in',
    '      --from) from="$(stage_number "${2:?--from needs a stage}")"; shift 2 ;;',
    '      --to) to="$(stage_number "${2:?--to needs a stage}")"; shift 2 ;;',
    '      --rollback) rollback=1; shift ;;',
    '      --force) export MESH_RELEASE_FORCE=1; shift ;;',
    '      --list) for i in "${!STAGES[@]}"; do echo "$((i + 1)) ${STAGES[$i]}"; done; return 0 ;;',
    '      -h|--help) usage; return 0 ;;',
    '      *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;',
    '    esac',
    '  done',
    '  if [ "$rollback" = 1 ]; then',
    '    if [ -z "$from" ]; then echo "--rollback needs --from <the stage applied now>" >&2; exit 2; fi',
    '    if [ "$from" -le 1 ]; then echo "--rollback: the first stage has nothing to roll back to" >&2; exit 2; fi',
    '    to="${to:-$((from - 1))}"',
    '    if [ "$to" -ge "$from" ]; then echo "--rollback goes back: --to must come before --from" >&2; exit 2; fi',
    '  else',
    '    from="${from:-1}"',
    `    to="\${to:-${n}}"`,
    '    if [ "$from" -gt "$to" ]; then echo "--from must not come after --to (use --rollback to go back)" >&2; exit 2; fi',
    '  fi',
    ...toolChecks(all.flatMap(({ forward, rollback }) => [...forward, ...(rollback ?? [])])),
    '  trap mr_stopped EXIT',
    '  if [ "$rollback" = 1 ]; then',
    '    for ((i = from; i > to; i--)); do',
    '      MR_DOING="roll back of stage" MR_STAGE="$i" MR_APPLIED=0',
    '      "rollback_$(printf \'%02d\' "$i")"',
    '    done',
    '  else',
    '    for ((i = from; i <= to; i++)); do',
    '      MR_DOING="stage" MR_STAGE="$i" MR_APPLIED=0',
    '      "stage_$(printf \'%02d\' "$i")"',
    '    done',
    '  fi',
    '  MR_STAGE=""',
    '}',
    '',
    'main "$@"',
    '',
  ].join('\n');
}

/**
 * The lines of `main` that check, before anything is applied, that the tools the steps need are there: kubectl, and jq
 * when a route or endpoint wait follows an apply (else a stage would be applied and only its wait would find jq missing).
 */
function toolChecks(steps: Step[]): string[] {
  const needsJq = steps.some((s) => /^mr_wait_(routes|endpoints) /.test(s.command));
  return [
    '  if ! command -v kubectl >/dev/null 2>&1; then echo "kubectl not found: this runbook applies the stages with it" >&2; exit 1; fi',
    ...(needsJq ? ['  mr_need_jq "this runbook (its route and endpoint waits)" || exit 1'] : []),
  ];
}

/** A path for a shell command line: as is when it only has safe characters, else single-quoted. */
function shellQuote(p: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(p) ? p : `'${p.replace(/'/g, "'\\''")}'`;
}

/** A path as a shell word that stays on one comment line: a name with control characters (a newline...) in `$'...'`. */
function commentQuote(p: string): string {
  if (!/[\x00-\x1f\x7f]/.test(p)) {
    return shellQuote(p);
  }
  const escaped = p.replace(/[\\']|[\x00-\x1f\x7f]/g, (c) => (c === '\\' || c === "'" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return `$'${escaped}'`;
}

/** `to` relative to `from` (POSIX separators) when inside it, else absolute. */
function relativeTo(from: string, to: string): string {
  const relative = path.relative(from, to);
  if (relative === '') {
    return '.';
  }
  return relative.startsWith('..') || path.isAbsolute(relative) ? to : relative.split(path.sep).join('/');
}

