#!/usr/bin/env node
/**
 * `mesh-release` (the built CLI, MESH_RELEASE_CLI_BUILD). With MESH_RELEASE_TEST_HOOKS set (comma separated), a
 * test analysis in place of the plan's, for scenarios about the driver that need no Prometheus (the real analysis
 * against a real Prometheus: rollout-analysis.integration.ts); the plan's pauses stay the plan's own:
 * - `fail-at:<stage>`: the analysis of <stage> fails (a success rate of 80 below a threshold of 99);
 * - `slow:<stage>:<ms>`: the analysis of <stage> takes <ms> (a SIGKILL lands in it);
 * otherwise every stage passes (success rate 100). Without MESH_RELEASE_TEST_HOOKS: the CLI as it is.
 */
const path = require('path');
const { main } = require(path.join(process.env.MESH_RELEASE_CLI_BUILD, 'cli', 'program.js'));

const specs = (process.env.MESH_RELEASE_TEST_HOOKS ?? '').split(',').filter((s) => s !== '').map((s) => s.split(':'));
const has = (kind, stage) => specs.find(([k, s]) => k === kind && s === stage);

const hooks = specs.length === 0 ? undefined : {
  async analyzeStage({ stage, report, signal }) {
    const slow = has('slow', stage.name);
    if (slow) {
      await new Promise((resolve) => {
        const t = setTimeout(resolve, Number(slow[2]));
        signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
    }
    const failed = Boolean(has('fail-at', stage.name));
    const result = { metric: 'success-rate', value: failed ? 80 : 100, threshold: '>= 99', passed: !failed, at: new Date().toISOString() };
    report(result);
    return { passed: !failed, results: [result], reason: failed ? 'success-rate 80 < 99' : undefined };
  },
};

void main(process.argv, hooks).then((code) => {
  process.exitCode = code;
});
