#!/usr/bin/env node
/**
 * `npm test` (projen's `test` task): jest and the `eslint` task side by side instead of one after the other.
 * Both are CPU-bound; in series the machine idles on one core while eslint (mostly one thread) runs and while
 * jest finishes its last suites. Side by side they share the cores (BENCHMARKS.md, `bench/test-time.sh`).
 * What runs is the same: the same jest command (arguments after `npm test --` go to jest, as before), then the
 * same eslint task, whose output is printed after jest's; the command fails if either fails.
 *
 * One difference: side by side, eslint runs with `--no-fix`. The eslint task fixes what it can (`--fix`), and a
 * file rewritten while jest reads it would make the test run depend on timing; so a fixable problem fails
 * `npm test` here instead of being fixed. `npx projen eslint` fixes it.
 *
 *   node scripts/test.js <jest arguments...>
 *
 * MESH_RELEASE_SERIAL_TESTS=1 runs jest, then (if it passed) the eslint task with `--fix`: the task as it was.
 * NODE_EXTRA_CA_CERTS is left out of the children's environment: where it is set (as on the machine of
 * BENCHMARKS.md) every Node.js process parses that CA bundle at startup, ~0.1 s of CPU each, and the tests
 * start ~60 processes (the CLI, apps, hooks) without making a single TLS connection.
 */
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const ROOT = path.join(__dirname, '..');
/** A package's bin script (its package.json `bin`), as a file node can run. */
function bin(pkg, name) {
  const dir = path.join(ROOT, 'node_modules', pkg);
  const bins = require(path.join(dir, 'package.json')).bin;
  return path.join(dir, typeof bins === 'string' ? bins : bins[name]);
}
const JEST = bin('jest', 'jest');
const PROJEN = bin('projen', 'projen');
const serial = process.env.MESH_RELEASE_SERIAL_TESTS === '1';

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

/**
 * Runs a Node.js script (the jest and projen entry points: no shell, no `.cmd` shims); resolves to its exit code
 * (1 if it was killed by a signal or could not start). `capture` collects its stdout and stderr instead of
 * passing them through.
 */
function node(script, args, capture) {
  const output = [];
  const done = new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    if (capture) {
      child.stdout.on('data', (chunk) => output.push({ stream: process.stdout, chunk }));
      child.stderr.on('data', (chunk) => output.push({ stream: process.stderr, chunk }));
    }
    child.on('error', (error) => {
      process.stderr.write(`scripts/test.js: ${script}: ${error.message}\n`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
  return { done, output };
}

async function main() {
  const jestArgs = ['--passWithNoTests', '--ci', ...process.argv.slice(2)];
  if (serial) {
    const jest = await node(JEST, jestArgs, false).done;
    return jest !== 0 ? jest : node(PROJEN, ['eslint'], false).done;
  }
  const eslint = node(PROJEN, ['eslint', '--no-fix'], true);
  const jest = await node(JEST, jestArgs, false).done;
  const eslintCode = await eslint.done;
  process.stdout.write(`\n👾 eslint, run alongside jest (--no-fix): exit code ${eslintCode}\n`);
  for (const { stream, chunk } of eslint.output) {
    stream.write(chunk);
  }
  return jest !== 0 ? jest : eslintCode;
}

main().then((code) => {
  process.exitCode = code;
}, (error) => {
  process.stderr.write(`scripts/test.js: ${error.stack}\n`);
  process.exitCode = 3;
});
