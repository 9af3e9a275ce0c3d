/**
 * The safety engine: reads a stage's manifests (and the previous stage's) into facts with the
 * routers' readers, then runs the shared rules (`rules/`, one per file) and every router's rules.
 * It receives the routers as plug-ins (`_plugin.ts`) and never imports one: `routing/_registry.ts`
 * binds it to the registered routers (`checkManifests`, `readStage`), and `SafetyCheck`,
 * `MeshRelease`, `ReleasePlan` and the CLI go through that.
 */
import { DEFAULT_CLUSTER_DOMAIN } from '../_conventions';
import { FactsBuilder, ReadOptions, StageFacts } from './_facts';
import { StageManifests } from './_manifests';
import { RouterPlugin } from './_plugin';
import { Rule, Sink } from './_rule';
import { StageView, Transition } from './_stage';
import { readWorkloads } from './_workloads';
import { BACKEND_BEFORE_ROUTE } from './rules/backend-before-route';
import { BACKEND_DEFINED } from './rules/backend-defined';
import { BACKEND_REMOVED_WHILE_ROUTED } from './rules/backend-removed-while-routed';
import { CAPACITY } from './rules/capacity';
import { CATCH_ALL_ROUTE } from './rules/catch-all-route';
import { DEPLOYMENT_REMOVED_WHILE_BACKEND } from './rules/deployment-removed-while-backend';
import { DESTINATION_READY } from './rules/destination-ready';
import { DUPLICATE_OBJECT } from './rules/duplicate-object';
import { ONE_ROUTER_PER_SERVICE } from './rules/one-router-per-service';
import { REPLICAS_REMOVED_WHILE_ROUTED } from './rules/replicas-removed-while-routed';
import { RETRY_BUDGET } from './rules/retry-budget';
import { ROLLBACK_CAPACITY } from './rules/rollback-capacity';
import { STALE_BACKEND } from './rules/stale-backend';
import { TERMINATION_BUDGET } from './rules/termination-budget';
import { WEIGHTS } from './rules/weights';
import { SafetyViolation, Severity } from './safety-rule';

/** The rules every router shares, in the order their violations are listed. */
export const SHARED_RULES: ReadonlyArray<Rule<Transition>> = [
  DUPLICATE_OBJECT,
  TERMINATION_BUDGET,
  CATCH_ALL_ROUTE,
  ONE_ROUTER_PER_SERVICE,
  WEIGHTS,
  RETRY_BUDGET,
  BACKEND_DEFINED,
  BACKEND_BEFORE_ROUTE,
  DESTINATION_READY,
  CAPACITY,
  STALE_BACKEND,
  BACKEND_REMOVED_WHILE_ROUTED,
  DEPLOYMENT_REMOVED_WHILE_BACKEND,
  ROLLBACK_CAPACITY,
  REPLICAS_REMOVED_WHILE_ROUTED,
];

/** One stage as read: its objects, its facts, and each plug-in's model of it (in the order of the plug-ins). */
interface ReadStage {
  readonly manifests: StageManifests;
  readonly into: FactsBuilder;
  readonly facts: StageFacts;
  readonly models: unknown[];
}

/** Read options with their defaults. */
export function readOptions(namespace?: string, clusterDomain?: string): ReadOptions {
  return { namespace: namespace ?? 'default', clusterDomain: clusterDomain ?? DEFAULT_CLUSTER_DOMAIN };
}

/** First pass over one stage: workloads, duplicates, and each reader's own objects. */
function readFirst(plugins: readonly RouterPlugin[], manifests: any[], options: ReadOptions): ReadStage {
  const stage = new StageManifests(manifests, options);
  const into: FactsBuilder = { backends: [], routes: [], routedServices: new Set(), serviceRoutes: [] };
  const models = plugins.map((plugin) => plugin.reader.read(stage, into));
  const facts: StageFacts = {
    workloads: readWorkloads(stage),
    backends: into.backends,
    routes: into.routes,
    duplicates: stage.duplicates(),
    routedServices: into.routedServices,
    serviceRoutes: into.serviceRoutes,
  };
  return { manifests: stage, into, facts, models };
}

/** Second pass over one stage, once the stage compared with it (if any) had its first pass. */
function readSecond(plugins: readonly RouterPlugin[], stage: ReadStage, other: ReadStage | undefined): void {
  const here = stage.into.routedServices;
  const there = other?.into.routedServices;
  const routedServices = there && there.size > 0 ? { has: (key: string) => here.has(key) || there.has(key) } : here;
  plugins.forEach((plugin, i) => plugin.reader.complete?.(stage.manifests, stage.into, stage.models[i], other?.models[i], { routedServices }));
}

/** Both stages of a transition, read with the plug-ins' readers. */
function readTransition(plugins: readonly RouterPlugin[], current: any[], previous: any[] | undefined, options: ReadOptions)
  : { current: ReadStage; previous?: ReadStage } {
  const now = readFirst(plugins, current, options);
  const before = previous && readFirst(plugins, previous, options);
  readSecond(plugins, now, before);
  if (before) {
    readSecond(plugins, before, now);
  }
  return { current: now, previous: before };
}

/**
 * The facts of one stage, read with `plugins` (`other`: the manifests of the stage it is compared with, whose
 * routes decide some facts of this one, see `RouterReader.complete`).
 */
export function readStageWith(plugins: readonly RouterPlugin[], manifests: any[], options: ReadOptions, other?: any[]): StageFacts {
  const stage = readFirst(plugins, manifests, options);
  readSecond(plugins, stage, other && readFirst(plugins, other, options));
  return stage.facts;
}

/**
 * Every violation of `current` applied after `previous` (when given), with the routers `plugins`: errors first,
 * then warnings, each in rule order (the shared rules, then each router's, in the order of `plugins`).
 */
export function checkManifestsWith(plugins: readonly RouterPlugin[], currentManifests: any[], previousManifests: any[] | undefined,
  options: ReadOptions): SafetyViolation[] {
  const read = readTransition(plugins, currentManifests, previousManifests, options);
  const errors: SafetyViolation[] = [];
  const warnings: SafetyViolation[] = [];
  const seen = new Set<string>();
  const sink: Sink = (rule, severity, object, message, fix) => {
    const key = `${rule}|${object}|${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      (severity === Severity.ERROR ? errors : warnings).push({ rule, severity, object, message, fix });
    }
  };
  const transition: Transition = { current: new StageView(read.current.facts), previous: read.previous && new StageView(read.previous.facts) };
  for (const rule of SHARED_RULES) {
    rule.run(transition, sink);
  }
  plugins.forEach((plugin, i) => {
    const input = { current: read.current.models[i], previous: read.previous?.models[i], options };
    for (const rule of plugin.rules) {
      rule.run(input, sink);
    }
  });
  return errors.concat(warnings);
}

/** The violations of severity error. */
export function errorsOf(violations: SafetyViolation[]): SafetyViolation[] {
  return violations.filter((v) => v.severity === Severity.ERROR);
}

/** One line per violation: `[rule] object: message. Fix: fix` (warnings marked `(warning)`). */
export function formatViolations(violations: SafetyViolation[]): string {
  return violations.map((v) => `[${v.rule}]${v.severity === Severity.WARNING ? ' (warning)' : ''} ${v.object}: ${v.message}. Fix: ${v.fix}`).join('\n');
}

/** Throws, prefixed with `context`, listing the errors among `violations`, if any. */
export function throwIfUnsafe(violations: SafetyViolation[], context: string): void {
  const errors = errorsOf(violations);
  if (errors.length > 0) {
    throw new Error(`${context} is unsafe to apply (${errors.length} violation${errors.length > 1 ? 's' : ''}):\n${formatViolations(errors)}`);
  }
}
