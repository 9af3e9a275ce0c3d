import * as path from 'path';
import { formatViolation } from './check';
import { EXIT_OK, EXIT_UNSAFE } from './errors';
import { displayPath } from './paths';
import { ReleaseRef, releaseState, Weight } from './release-view';
import { PlanResult, stageDirName, synthesizePlan, SynthesizeOptions } from './stages';
import { bar, renderTable } from './table';

/** `mesh-release plan`: synthesizes every stage, prints the table, exits 1 when a transition is unsafe. */
export async function planCommand(options: SynthesizeOptions): Promise<number> {
  const result = await synthesizePlan(options, (message) => console.error(message));
  console.log(renderPlan(result));
  return isSafe(result) ? EXIT_OK : EXIT_UNSAFE;
}

export function isSafe(result: PlanResult): boolean {
  return result.stages.every((s) => s.violations.length === 0);
}

/** The plan table, the violations under it, and where the stages were written. */
export function renderPlan(result: PlanResult): string {
  const { releases, stages } = result;
  const states = stages.map((s) => releases.map((r) => releaseState(s.manifests, r)));
  const perRelease = (i: number, cell: (state: ReturnType<typeof releaseState>) => string) =>
    states[i].map((state, r) => (releases.length > 1 ? `${releases[r].name}: ` : '') + cell(state)).join('; ');
  const weightsCell = weightColumns(states.flat().map((s) => s.weights));
  const showMatches = states.flat().some((s) => s.matchRoutes.length > 0);

  const headers = ['#', 'stage', 'deployments', 'subsets', 'catch-all route weights', ...(showMatches ? ['match routes'] : []), 'safety'];
  const rows = stages.map((stage, i) => [
    String(i + 1).padStart(2, '0'),
    stage.name,
    perRelease(i, (s) => s.deployed.join(', ') || '-'),
    perRelease(i, (s) => s.subsets.join(', ') || '-'),
    perRelease(i, (s) => weightsCell(s.weights)),
    ...(showMatches ? [perRelease(i, (s) => s.matchRoutes.join('; ') || '-')] : []),
    stage.violations.length === 0 ? 'OK' : `UNSAFE (${stage.violations.length})`,
  ]);

  const unsafe = stages.filter((s) => s.violations.length > 0);
  const first = stages[0];
  const last = stages[stages.length - 1];
  return [
    `Release plan of ${describeReleases(releases)}, app ${displayPath(result.app.dir)}:`,
    '',
    renderTable(headers, rows),
    '',
    ...unsafe.flatMap((s) => [
      `Stage ${stageDirName(s.index, s.name)}${s.index > 0 ? ` (after ${stages[s.index - 1].name})` : ''}:`,
      ...s.violations.map((v) => indent(formatViolation(v))),
      '',
    ]),
    unsafe.length === 0
      ? 'OK: every stage is safe to apply after the one before it.'
      : `UNSAFE: ${unsafe.length} of ${stages.length} stages would drop requests; fix the violations above.`,
    `${stages.length} stages written to ${displayPath(result.outDir)}${path.sep} (${stageDirName(0, first.name)} … ${stageDirName(last.index, last.name)}); `
      + `apply them in order: kubectl apply -f ${displayPath(first.dir)}${path.sep}`,
  ].join('\n');
}

export function describeReleases(releases: ReleaseRef[]): string {
  return releases.map((r) => `${r.name} in namespace ${r.namespace}`).join(', ');
}

/**
 * Renders weights with one fixed slot per version seen in any stage, so bars line up:
 * `v1 █████████░  90  v2 █░░░░░░░░░  10`.
 */
function weightColumns(all: Weight[][]): (weights: Weight[]) => string {
  const versions = [...new Set(all.flat().map((w) => w.version))];
  const nameWidth = Math.max(...versions.map((v) => v.length));
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
