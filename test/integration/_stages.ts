/**
 * Stages as the API server sees them: synthesized objects of a case's stage, and a server-side dry run of a whole
 * stage with strict field validation (what `kubectl apply --server-side --dry-run=server --validate=strict` does).
 */
import { App, Chart } from 'cdk8s';
import { Case } from './_cases';
import { ApiError, Kube } from './_kube';

/** The objects of one stage of a case, as `cdk8s synth` writes them. */
export function synthesizeStage(c: Case, stage: string): any[] {
  const app = new App();
  const chart = new Chart(app, c.name, { namespace: c.name });
  c.build(chart, stage);
  return chart.toJson();
}

/** One object the server refused. */
export interface Refusal {
  readonly object: string;
  readonly message: string;
}

/** Dry-runs every object of a stage (concurrently); resolves to what the server refused (nothing: accepted). */
export async function dryRunStage(kube: Kube, objects: any[], namespace?: string): Promise<Refusal[]> {
  const answers = await Promise.all(objects.map(async (o) => {
    try {
      await kube.apply(o, { dryRun: true, namespace });
      return undefined;
    } catch (e) {
      if (e instanceof ApiError) {
        return { object: `${o.kind}/${o.metadata?.name}`, message: e.message };
      }
      throw e;
    }
  }));
  return answers.filter((a): a is Refusal => a !== undefined);
}
