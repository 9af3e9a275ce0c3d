/**
 * The placeholders of a custom metric's query (`CanaryMetric.prometheus`), rendered before every evaluation with
 * the version it judges. `{{ name }}`, spaces inside the braces optional, as in Flagger's MetricTemplate queries
 * (https://docs.flagger.app/usage/metrics#custom-metrics). Loads no cdk8s.
 */

/**
 * - `namespace`: the release's namespace;
 * - `app`: the app (the `app` label, the version-free Service);
 * - `version`: the version judged (the candidate, or the stable for a comparison);
 * - `workload`: its Deployment, `<app>-<version>` (Istio's `destination_workload`);
 * - `interval`: the analysis interval as a PromQL duration (`60s`), the window of a `rate(...[{{ interval }}])`.
 */
export const PLACEHOLDERS = ['namespace', 'app', 'version', 'workload', 'interval'] as const;

export type Placeholder = typeof PLACEHOLDERS[number];
export type PlaceholderValues = { readonly [p in Placeholder]: string };

/** Every `{{ ... }}` of a query, and what is inside its braces, trimmed. */
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

/**
 * The placeholders of `query` that are not known, as written (`{{ target }}`), and any `{{` or `}}` left unpaired
 * (a typo would otherwise reach Prometheus as a syntax error at 3 a.m.).
 */
export function unknownPlaceholders(query: string): string[] {
  const unknown = [...query.matchAll(PLACEHOLDER)]
    .filter((m) => !(PLACEHOLDERS as readonly string[]).includes(m[1].trim()))
    .map((m) => m[0]);
  const rest = query.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    unknown.push(rest.includes('{{') ? '{{ without }}' : '}} without {{');
  }
  return unknown;
}

/** `query` with its placeholders replaced (the query was checked: every placeholder is known). */
export function renderQuery(query: string, values: PlaceholderValues): string {
  return query.replace(PLACEHOLDER, (whole, name: string) => values[name.trim() as Placeholder] ?? whole);
}
