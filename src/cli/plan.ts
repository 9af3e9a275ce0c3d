import * as path from 'path';
import { formatViolation, violationJson } from './check';
import { EXIT_OK, EXIT_UNSAFE } from './errors';
import { stageDirName } from './out-dir';
import { displayPath } from './paths';
import { ReleaseRef, releaseState, Weight } from './release-view';
import { refOf, StageChanges, summarize } from './stage-diff';
import { errorsIn, PlanResult, synthesizePlan, SynthesizeOptions } from './stages';
import { bar, renderTable } from './table';
import { SafetyViolation, Severity } from '../safety/safety-rule';

export interface PlanOptions extends SynthesizeOptions {
  /** Print what each stage creates, changes and deletes under the table. */
  readonly diff?: boolean;
  /** `text` (default) or `json`. */
  readonly output?: string;
  /** Fail (exit 1) on warnings too. */
  readonly strict?: boolean;
}

/** `mesh-release plan`: synthesizes every stage, prints the table (or JSON), exits 1 when a transition is unsafe. */
export async function planCommand(options: PlanOptions): Promise<number> {
  const result = await synthesizePlan(options, (message) => console.error(message));
  console.log(options.output === 'json' ? JSON.stringify(planJson(result), undefined, 2) : renderPlan(result, options));
  return isSafe(result, options.strict) ? EXIT_OK : EXIT_UNSAFE;
}

/** Whether every transition is free of errors (and of warnings, when strict). */
export function isSafe(result: PlanResult, strict: boolean = false): boolean {
  return result.stages.every((s) => (strict ? s.violations : errorsIn(s.violations)).length === 0);
}

function verdict(violations: SafetyViolation[]): string {
  const errors = errorsIn(violations).length;
  const warnings = violations.length - errors;
  const w = warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : '';
  return errors > 0 ? `UNSAFE (${errors})${w}` : `OK${w}`;
}

/** The plan table, the changes (with `diff`), the violations under it, and where the stages were written. */
export function renderPlan(result: PlanResult, options: { diff?: boolean; strict?: boolean } = {}): string {
  const { releases, stages } = result;
  const states = stages.map((s) => releases.map((r) => releaseState(s.manifests, r, result.read)));
  const perRelease = (i: number, cell: (state: ReturnType<typeof releaseState>) => string) =>
    states[i].map((state, r) => (releases.length > 1 ? `${releases[r].name}: ` : '') + cell(state)).join('; ');
  const weightsCell = weightColumns(states.flat().map((s) => s.weights));
  const showMatches = states.flat().some((s) => s.matchRoutes.length > 0);

  const headers = ['#', 'stage', 'deployments', 'routable', 'catch-all route weights', ...(showMatches ? ['match routes'] : []), 'changes', 'safety'];
  const rows = stages.map((stage, i) => [
    String(i + 1).padStart(2, '0'),
    stage.name,
    perRelease(i, (s) => s.deployed.join(', ') || '-'),
    perRelease(i, (s) => s.routable.join(', ') || '-'),
    perRelease(i, (s) => weightsCell(s.weights)),
    ...(showMatches ? [perRelease(i, (s) => s.matchRoutes.join('; ') || '-')] : []),
    summarize(stage.changes),
    verdict(stage.violations),
  ]);

  const reported = stages.filter((s) => s.violations.length > 0);
  const unsafe = stages.filter((s) => errorsIn(s.violations).length > 0);
  const first = stages[0];
  const last = stages[stages.length - 1];
  return [
    `Release plan of ${describeReleases(releases)}, app ${displayPath(result.appDir)}:`,
    '',
    renderTable(headers, rows),
    '',
    'changes: objects the stage creates (+), changes (~) and deletes (-) relative to the stage before it.',
    '',
    ...(options.diff ? [...stages.flatMap((s) => renderChanges(s.name, s.index, s.changes, result.read.namespace)), ''] : []),
    ...reported.flatMap((s) => [
      `Stage ${stageDirName(s.index, s.name)}${s.index > 0 ? ` (after ${stages[s.index - 1].name})` : ''}:`,
      ...s.violations.map((v) => indent(formatViolation(v))),
      '',
    ]),
    unsafe.length > 0
      ? `UNSAFE: ${unsafe.length} of ${stages.length} stages would drop requests; fix the errors above.`
      : reported.length > 0
        ? `OK: no stage drops requests; ${reported.length} stage${reported.length === 1 ? ' has' : 's have'} warnings${options.strict ? ' (--strict: exit 1)' : ''}.`
        : 'OK: every stage is safe to apply after the one before it.',
    `${stages.length} stages written to ${displayPath(result.outDir)}${path.sep} (${stageDirName(0, first.name)} … ${stageDirName(last.index, last.name)}); `
      + `apply them in order, with the waits of the runbook (mesh-release runbook --stages ${displayPath(result.outDir)})`,
  ].join('\n');
}

/** `Stage 09-retire: + ... ~ ... - ...`, one line per object. */
export function renderChanges(name: string, index: number, changes: StageChanges, namespace?: string): string[] {
  const line = (sign: string) => (m: any) => {
    const ref = refOf(m, namespace);
    return `  ${sign} ${ref.kind}/${ref.name} (${ref.namespace})`;
  };
  const lines = [...changes.created.map(line('+')), ...changes.changed.map(line('~')), ...changes.deleted.map(line('-'))];
  return [`Stage ${stageDirName(index, name)}:${lines.length === 0 ? ' no change' : ''}`, ...lines];
}

export function describeReleases(releases: ReleaseRef[]): string {
  return releases.map((r) => `${r.name} in namespace ${r.namespace}`).join(', ');
}

/** The plan as JSON (`--output json`): releases, and per stage its state, changes, roll back and violations. */
export function planJson(result: PlanResult): object {
  const refs = (ms: any[]) => ms.map((m) => refOf(m, result.read.namespace));
  const changes = (c: StageChanges) => ({ created: refs(c.created), changed: refs(c.changed), deleted: refs(c.deleted) });
  return {
    app: result.appDir,
    outDir: result.outDir,
    safe: isSafe(result),
    releases: result.releases,
    stages: result.stages.map((s) => ({
      index: s.index + 1,
      name: s.name,
      dir: s.dir,
      releases: result.releases.map((r) => ({ name: r.name, namespace: r.namespace, ...releaseState(s.manifests, r, result.read) })),
      changes: changes(s.changes),
      rollback: changes(s.rollback),
      errors: errorsIn(s.violations).length,
      warnings: s.violations.filter((v) => v.severity === Severity.WARNING).length,
      violations: s.violations.map(violationJson),
      rollbackViolations: s.rollbackViolations.map(violationJson),
    })),
  };
}

/**
 * Renders weights with one fixed slot per version seen in any stage, so bars line up:
 * `v1 █████████░  90  v2 █░░░░░░░░░  10`.
 */
function weightColumns(all: Weight[][]): (weights: Weight[]) => string {
  const versions = [...new Set(all.flat().map((w) => w.version))];
  const nameWidth = Math.max(0, ...versions.map((v) => v.length));
  const slotWidth = nameWidth + 1 + bar(0).length + 4;
  return (weights) => versions
    .map((version) => {
      const w = weights.find((x) => x.version === version);
      return w ? `${version.padEnd(nameWidth)} ${bar(w.weight)} ${String(w.weight).padStart(3)}` : ' '.repeat(slotWidth);
    })
    .join('  ')
    .trimEnd() || '-';
}

function indent(text: string): string {
  return text.split('\n').map((line) => `  ${line}`).join('\n');
}
