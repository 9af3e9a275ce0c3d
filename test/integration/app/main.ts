/**
 * A cdk8s app of one integration case (`INTEG_CASE`, a name from ../_cases.ts) at `RELEASE_STAGE` (default: the
 * first stage): what `mesh-release plan` and `runbook` synthesize, stage by stage, for the runbook tests.
 * `INTEG_ROLLOUT`: the plan's analysis and pauses, as JSON (../_rollout-options.ts), for the rollout tests.
 */
import { App, Chart } from 'cdk8s';
import { caseNamed } from '../_cases';
import { rolloutOptions } from '../_rollout-options';

const c = caseNamed(process.env.INTEG_CASE ?? '');
const rollout = process.env.INTEG_ROLLOUT ? rolloutOptions(JSON.parse(process.env.INTEG_ROLLOUT)) : undefined;
const app = new App();
c.build(new Chart(app, c.name, { namespace: c.name }), process.env.RELEASE_STAGE ?? c.plan.stageNames[0], rollout);
app.synth();
