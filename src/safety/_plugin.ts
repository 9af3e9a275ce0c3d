/**
 * What a router gives the safety engine: a reader of its objects and its own rules. Each router
 * folder exports one `RouterPlugin` (`routing/<router>/_plugin.ts`); `routing/_registry.ts` lists
 * them, and the engine receives that list: it never imports a router.
 *
 * The engine reads a transition in two passes, so that no reader walks another router's objects:
 * 1. `read`, on each stage: the router's own objects, parsed once into its model (what its rules
 *    and its second pass use) and into the shared facts that depend on nothing else — among them
 *    the Services its objects route (`FactsBuilder.routedServices`);
 * 2. `complete`, on each stage, once both stages are read: the facts that depend on the other
 *    stage (its own model of it) or on what every router routes in either stage.
 */
import { FactsBuilder, ReadOptions } from './_facts';
import { StageManifests } from './_manifests';
import { Rule } from './_rule';

/** What the second pass of a reader knows of the transition besides its own models. */
export interface ReadContext {
  /**
   * `<namespace>/<name>` of every Service some router's objects route, in this stage or in the one compared with
   * it (`StageFacts.routedServices` of both).
   */
  readonly routedServices: { has(key: string): boolean };
}

/** A router's reader: the only parser of its kinds. `M` is its model of one stage. */
export interface RouterReader<M> {
  /** First pass over one stage: its model, and the facts that depend on nothing else, added to `into`. */
  read(stage: StageManifests, into: FactsBuilder): M;
  /**
   * Second pass over one stage, once both are read: `model` is its model of this stage, `other` of the stage
   * compared with it (the next when reading the previous one, and the other way round), if any.
   */
  complete?(stage: StageManifests, into: FactsBuilder, model: M, other: M | undefined, context: ReadContext): void;
}

/** What a router's rules check: its model of the stage (and of the previous stage, when there is one). */
export interface RouterRuleInput<M> {
  readonly current: M;
  readonly previous?: M;
  readonly options: ReadOptions;
}

/** A router, as the safety engine knows it. */
export interface RouterPlugin<M = any> {
  /** For messages and tests, e.g. `istio`. */
  readonly name: string;
  readonly reader: RouterReader<M>;
  /** Its own rules, one per file (`routing/<router>/rules/`), in the order their violations are listed. */
  readonly rules: ReadonlyArray<Rule<RouterRuleInput<M>>>;
}
