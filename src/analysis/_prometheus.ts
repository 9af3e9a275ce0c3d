/**
 * A small client of Prometheus's HTTP API: instant queries (`GET /api/v1/query?query=...&time=...`) whose answer
 * must be one number. The response is read as documented
 * (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries): an envelope
 * `{ status: 'success' | 'error', data, errorType, error }`, `data.resultType` `vector` (a list of
 * `{ metric, value: [time, "text"] }`) or `scalar` (`[time, "text"]`); values are strings, `"NaN"` and `"+Inf"`
 * included. Uses Node's own `fetch`. Loads no cdk8s.
 */

/** The answer of a query meant to return one number. */
export type QueryAnswer =
  /** One sample (a vector of one series, or a scalar): its value, which may be NaN or ±Inf. */
  | { readonly kind: 'value'; readonly value: number }
  /** An empty vector: no series matched (e.g. the workload received no request in the window). */
  | { readonly kind: 'empty' };

/** A query that could not be answered with one number: Prometheus unreachable, an error, several series... */
export class PrometheusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusError';
  }
}

export interface PrometheusClientOptions {
  /** Milliseconds before a request is abandoned (also sent as the query's `timeout`). Default 10 000. */
  readonly timeoutMs?: number;
  /** The fetch function (tests). Default: Node's global `fetch`. */
  readonly fetch?: typeof fetch;
}

/** Prometheus at `url` (`http://prometheus.istio-system:9090`, with or without a path prefix). */
export class PrometheusClient {
  public readonly url: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(url: string, options: PrometheusClientOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PrometheusError(`the Prometheus URL must be an http(s) URL such as http://prometheus.istio-system:9090, got ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new PrometheusError(`the Prometheus URL must be an http(s) URL such as http://prometheus.istio-system:9090, got ${JSON.stringify(url)}`);
    }
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Runs `query` at `time` and returns its one number, or `empty`; throws `PrometheusError` otherwise. */
  public async query(query: string, time: Date): Promise<QueryAnswer> {
    const params = new URLSearchParams({ query, time: (time.getTime() / 1000).toFixed(3), timeout: `${this.timeoutMs}ms` });
    const endpoint = `${this.url}/api/v1/query?${params}`;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchFn(endpoint, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
      text = await response.text();
    } catch (e) {
      throw new PrometheusError(`Prometheus at ${this.url} is unreachable: ${describeFetchError(e, this.timeoutMs)}`);
    }
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      throw new PrometheusError(`Prometheus at ${this.url} answered HTTP ${response.status} with something else than JSON`
        + ` (is it the Prometheus server's URL, without /api/v1?): ${JSON.stringify(text.slice(0, 200))}`);
    }
    if (body?.status === 'error') {
      throw new PrometheusError(`Prometheus refused the query (HTTP ${response.status}, ${body.errorType ?? 'error'}): ${body.error ?? '(no message)'}`);
    }
    if (body?.status !== 'success' || typeof body.data !== 'object' || body.data === null) {
      throw new PrometheusError(`Prometheus at ${this.url} answered HTTP ${response.status} without a query result: ${JSON.stringify(text.slice(0, 200))}`);
    }
    return answerOf(body.data);
  }

  /** Throws `PrometheusError` unless Prometheus answers a trivial query (`vector(1)`): a driver checks before it starts. */
  public async checkReachable(time: Date): Promise<void> {
    await this.query('vector(1)', time);
  }
}

/** One number out of a query's `data`. */
function answerOf(data: { resultType?: unknown; result?: unknown }): QueryAnswer {
  switch (data.resultType) {
    case 'scalar':
      return { kind: 'value', value: sampleValue(data.result) };
    case 'vector': {
      const series = Array.isArray(data.result) ? data.result : [];
      if (series.length === 0) {
        return { kind: 'empty' };
      }
      if (series.length > 1) {
        const labels = series.slice(0, 3).map((s: any) => labelText(s?.metric)).join(', ');
        throw new PrometheusError(`the query returned ${series.length} series (${labels}${series.length > 3 ? ', ...' : ''}), not one number:`
          + ' aggregate them into one, e.g. sum(...) or max(...)');
      }
      return { kind: 'value', value: sampleValue(series[0]?.value) };
    }
    default:
      throw new PrometheusError(`the query returned a ${String(data.resultType)}, not one number: a metric's query must return an instant vector`
        + ' of one series or a scalar (a range selector [..] must be inside a function such as rate(...))');
  }
}

/** The number of a `[time, "text"]` sample: Prometheus writes values as strings (`"0.5"`, `"NaN"`, `"+Inf"`). */
function sampleValue(sample: unknown): number {
  const text = Array.isArray(sample) ? sample[1] : undefined;
  if (typeof text !== 'string') {
    throw new PrometheusError(`the query result has no [time, "value"] sample: ${JSON.stringify(sample)}`);
  }
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
  if (Number.isNaN(value) && text !== 'NaN') {
    throw new PrometheusError(`the query result's value is not a number: ${JSON.stringify(text)}`);
  }
  return value;
}

function labelText(metric: unknown): string {
  const labels = Object.entries(metric && typeof metric === 'object' ? metric : {});
  return `{${labels.map(([k, v]) => `${k}="${String(v)}"`).join(',')}}`;
}

/** Node's fetch hides the reason under `cause` (ECONNREFUSED, ENOTFOUND...); a timeout is a DOMException. */
function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = err?.cause;
  if (cause?.code) {
    return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  }
  return cause?.message ?? err?.message ?? String(e);
}
