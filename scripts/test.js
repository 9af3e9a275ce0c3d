#!/usr/bin/env node
/**
 * `npm test` (projen's `test` task): jest and the `eslint` task side by side instead of one after the other.
 * Both are CPU-bound; in series the machine idles on one core while eslint (mostly one thread) runs and while
 * jest finishes its last suites. Side by side they share the cores: on the 2-core machine of BENCHMARKS.md the
 * whole `npm test` takes ~8 s less. Nothing changes in what runs: the same jest command (arguments after
 * `npm test --` go to jest, as before), then the same eslint task, whose output is printed after jest's, and
 * the command fails if either fails.
 *
 *   node scripts/test.js <jest arguments...>
 *
 * Set MESH_RELEASE_SERIAL_TESTS=1 to run them one after the other (e.g. to time each).
 */
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);
const serial = process.env.MESH_RELEASE_SERIAL_TESTS === '1';

/**
 * The environment of jest, eslint and every process they start. Without NODE_EXTRA_CA_CERTS: where it is set (as
 * on the machine of BENCHMARKS.md), every Node.js process parses that CA bundle at startup, ~0.1 s of CPU each,
 * and the tests start ~60 processes (the CLI, apps, hooks) without making a single TLS connection.
 */
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

/** Runs a command; resolves to its exit code (1 if it was killed by a signal or could not start). */
function run(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, ...options });
    child.on('error', (error) => {
      process.stderr.write(`scripts/test.js: ${command}: ${error.message}\n`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
    if (options.onChild) options.onChild(child);
  });
}

function lint(capture) {
  const output = [];
  const done = run(bin('projen'), ['eslint'], {
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    onChild: (child) => {
      if (capture) {
        child.stdout.on('data', (chunk) => output.push(chunk));
        child.stderr.on('data', (chunk) => output.push(chunk));
      }
    },
  });
  return { done, output };
}

async function main() {
  const jestArgs = ['--passWithNoTests', '--ci', ...process.argv.slice(2)];
  if (serial) {
    const jest = await run(bin('jest'), jestArgs, { stdio: 'inherit' });
    const eslint = jest === 0 ? await lint(false).done : 1;
    return jest || eslint;
  }
  const eslint = lint(true);
  const jest = await run(bin('jest'), jestArgs, { stdio: 'inherit' });
  const eslintCode = await eslint.done;
  process.stdout.write(`\n👾 eslint (run alongside jest) exited ${eslintCode}\n`);
  process.stdout.write(Buffer.concat(eslint.output));
  return jest || eslintCode;
}

main().then((code) => process.exit(code), (error) => {
  process.stderr.write(`scripts/test.js: ${error.stack}\n`);
  process.exit(3);
});
