/**
 * A cdk8s app of one integration case (`INTEG_CASE`, a name from ../_cases.ts) at `RELEASE_STAGE` (default: the
 * first stage): what `mesh-release plan` and `runbook` synthesize, stage by stage, for the runbook tests.
 */
import { App, Chart } from 'cdk8s';
import { caseNamed } from '../_cases';

const c = caseNamed(process.env.INTEG_CASE ?? '');
const app = new App();
c.build(new Chart(app, c.name, { namespace: c.name }), process.env.RELEASE_STAGE ?? c.plan.stageNames[0]);
app.synth();
