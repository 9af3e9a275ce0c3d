/**
 * Commands the integration tests run (the CLI, runbook scripts) as processes that do not block the event loop: the
 * simulated kubelet, mesh and samplers of the test keep running meanwhile.
 */
import { spawn } from 'child_process';
import { ROOT } from '../cli/_cli';

export interface Run {
  readonly status: number | null;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
}

/** Runs a command to its end without blocking the event loop. */
export function runAsync(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    child.stdout.on('data', (c) => chunks.push(String(c)));
    child.stderr.on('data', (c) => chunks.push(String(c)));
    child.on('close', (status) => resolve({ status, output: chunks.join('') }));
  });
}

/** Exit status 0, else the status and the end of the output (what failed): `expect(succeeded(run)).toEqual(...)`. */
export function succeeded(run: Run): { status: number | null; tail: string } {
  return { status: run.status, tail: run.status === 0 ? '' : run.output.slice(-4000) };
}
