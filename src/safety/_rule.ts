/**
 * The shape of a safety rule (cdk-nag's: one rule per file, its id, severity and fix declared once).
 *
 * A rule declares the findings it can report — each with its severity and fix — and a check that
 * reports them by name with the object at fault and a message:
 *
 * ```ts
 * export const RETRY_BUDGET = defineRule({
 *   id: SafetyRule.RETRY_BUDGET,
 *   findings: { exceeded: { severity: Severity.ERROR, fix: 'lower retries.attempts ...' } },
 *   check(transition: Transition, report) { ... report('exceeded', rule.where, `...`) },
 * });
 * ```
 *
 * A fix that names something of the finding is a function of details the check passes
 * (`fix: (d: { needed: number }) => ...`, reported as `report('low', object, message, { needed })`).
 */
import { SafetyRule, Severity } from './safety-rule';

/** Records one violation (the engine's sink: it removes repeats and orders them). */
export type Sink = (rule: SafetyRule, severity: Severity, object: string, message: string, fix: string) => void;

/** One kind of violation a rule reports: its severity and fix, declared once. */
export interface FindingSpec {
  readonly severity: Severity;
  /** How to make the stage safe: a text, or a text made of the details the check reports with the finding. */
  readonly fix: string | ((details: any) => string);
  /** The rule it breaks, for a rule whose findings have ids of their own (the same check of subsets and Services). */
  readonly id?: SafetyRule;
}

/** The details a finding is reported with: those its fix takes, or none. */
type DetailsOf<S> = S extends { fix: (details: infer D) => string } ? [details: D] : [];

/** Reports a finding of the rule by its name, with the object at fault (`Kind/name`, and where in it) and a message. */
export type Report<F extends Record<string, FindingSpec>> =
  <K extends keyof F & string>(finding: K, object: string, message: string, ...details: DetailsOf<F[K]>) => void;

/** A rule as written in its file. */
export interface RuleSpec<I, F extends Record<string, FindingSpec>> {
  /** The rule broken by its findings (unless each finding names its own). */
  readonly id?: SafetyRule;
  readonly findings: F;
  readonly check: (input: I, report: Report<F>) => void;
}

/** A rule the engine runs on input `I` (the shared rules: a `Transition`; a router's rules: its reader's model). */
export interface Rule<I> {
  /** The ids and severities it can report, in the order declared. */
  readonly findings: ReadonlyArray<{ readonly name: string; readonly id: SafetyRule; readonly severity: Severity }>;
  run(input: I, sink: Sink): void;
}

/** A rule from its spec; throws (at load) when a finding has no id. */
export function defineRule<I, F extends Record<string, FindingSpec>>(spec: RuleSpec<I, F>): Rule<I> {
  const resolved = new Map<string, { readonly id: SafetyRule; readonly severity: Severity; readonly fix: FindingSpec['fix'] }>();
  for (const [name, finding] of Object.entries(spec.findings)) {
    const id = finding.id ?? spec.id;
    if (id === undefined) {
      throw new Error(`finding '${name}' of a safety rule has no id`);
    }
    resolved.set(name, { id, severity: finding.severity, fix: finding.fix });
  }
  return {
    findings: [...resolved].map(([name, { id, severity }]) => ({ name, id, severity })),
    run(input, sink) {
      spec.check(input, ((finding: string, object: string, message: string, details?: unknown) => {
        const { id, severity, fix } = resolved.get(finding)!;
        sink(id, severity, object, message, typeof fix === 'string' ? fix : fix(details));
      }) as Report<F>);
    },
  };
}
