/**
 * A small client of Prometheus's HTTP API: instant queries (`GET /api/v1/query?query=...&time=...`) whose answer
 * must be one number. The response is read as documented
 * (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries): an envelope
 * `{ status: 'success' | 'error', data, errorType, error }`, `data.resultType` `vector` (a list of
 * `{ metric, value: [time, "text"] }`) or `scalar` (`[time, "text"]`); values are strings, `"NaN"` and `"+Inf"`
 * included. Uses Node's own `fetch`; with a private CA (or TLS verification off), Node's `https` (fetch takes no CA).
 * Headers (an `Authorization`, a tenant's `X-Scope-OrgID`) are computed for every request, so a rotated token file
 * is read again; their values never appear in an error. Loads no cdk8s.
 */
import * as http from 'http';
import * as https from 'https';

/** `url` with the password of its `user:password@` replaced by `<hidden>` (to be printed). */
export function maskedUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:<hidden>@');
}

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
  /** The fetch function (tests). Default: Node's global `fetch`, or Node's `https` with `ca` or `insecureSkipTlsVerify`. */
  readonly fetch?: typeof fetch;
  /** Headers of every request, computed for each (a token file read again); may throw a `PrometheusError`. Default: none. */
  readonly headers?: () => { [name: string]: string };
  /** PEM certificates of the CAs an https Prometheus's certificate is verified against. Default: Node's trusted CAs. */
  readonly ca?: string | Buffer;
  /** Accept any certificate of an https Prometheus (`--prometheus-insecure-skip-tls-verify`). Default: false. */
  readonly insecureSkipTlsVerify?: boolean;
}

/** Prometheus at `url` (`http://prometheus.istio-system:9090`, with or without a path prefix). */
export class PrometheusClient {
  public readonly url: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly headers: () => { [name: string]: string };

  constructor(url: string, options: PrometheusClientOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PrometheusError(`the Prometheus URL must be an http(s) URL such as http://prometheus.istio-system:9090, got ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new PrometheusError(`the Prometheus URL must be an http(s) URL such as http://prometheus.istio-system:9090, got ${JSON.stringify(maskedUrl(url))}`);
    }
    if (parsed.username !== '' || parsed.password !== '') {
      // Node's fetch refuses a URL with credentials, and the URL is printed in messages.
      throw new PrometheusError('the Prometheus URL must not carry credentials (user:password@): pass them as a header, '
        + '--prometheus-header \'Authorization: Basic <base64 of user:password>\'');
    }
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? (options.ca !== undefined || options.insecureSkipTlsVerify
      ? httpsFetch({ ca: options.ca, rejectUnauthorized: !options.insecureSkipTlsVerify }) : fetch);
    this.headers = options.headers ?? (() => ({}));
  }

  /** Runs `query` at `time` and returns its one number, or `empty`; throws `PrometheusError` otherwise. */
  public async query(query: string, time: Date): Promise<QueryAnswer> {
    const params = new URLSearchParams({ query, time: (time.getTime() / 1000).toFixed(3), timeout: `${this.timeoutMs}ms` });
    const endpoint = `${this.url}/api/v1/query?${params}`;
    let response: Response;
    let text: string;
    const headers = this.headers();
    try {
      response = await this.fetchFn(endpoint, { signal: AbortSignal.timeout(this.timeoutMs), headers: { ...headers, accept: 'application/json' } });
      text = await response.text();
    } catch (e) {
      throw new PrometheusError(`Prometheus at ${this.url} is unreachable: ${describeFetchError(e, this.timeoutMs)}`);
    }
    if (response.status === 401 || response.status === 403) {
      const sent = Object.keys(headers);
      throw new PrometheusError(`Prometheus at ${this.url} refused the request: HTTP ${response.status} ${response.status === 401 ? 'Unauthorized' : 'Forbidden'} `
        + `(${sent.length === 0 ? 'no credentials sent: pass --prometheus-header or --prometheus-bearer-token-file'
          : `sent ${sent.map((name) => `${name}: <hidden>`).join(', ')}: check them`})`);
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

/**
 * A `fetch` over Node's `http`/`https` with TLS options (the global fetch cannot take a CA): GET only, the body read
 * whole, `signal` honoured (its reason, a TimeoutError, is the rejection).
 */
function httpsFetch(tls: { ca?: string | Buffer; rejectUnauthorized: boolean }): typeof fetch {
  return ((url: string, init: RequestInit = {}) => new Promise<Response>((resolve, reject) => {
    const signal = init.signal ?? undefined;
    const client = url.startsWith('https:') ? https : http;
    const req = client.request(url, { method: 'GET', headers: init.headers as { [name: string]: string }, ...(client === https ? tls : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0 })));
      res.on('error', reject);
    });
    const abort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason)));
    if (signal?.aborted) {
      abort();
    }
    signal?.addEventListener('abort', abort, { once: true });
    req.on('error', (e) => reject(e.name === 'TimeoutError' || e.name === 'AbortError' ? e : Object.assign(new Error('fetch failed'), { cause: e })));
    req.on('close', () => signal?.removeEventListener('abort', abort));
    req.end();
  })) as unknown as typeof fetch;
}

/** Node's fetch hides the reason under `cause` (ECONNREFUSED, ENOTFOUND...); a timeout is a DOMException. */
function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = err?.cause;
  if (cause?.code) {
    const untrusted = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(cause.code)
      ? ': its TLS certificate is not trusted; pass --prometheus-ca-file <the PEM of its CA>' : '';
    return `${cause.code}${cause.message ? ` (${cause.message})` : ''}${untrusted}`;
  }
  return cause?.message ?? err?.message ?? String(e);
}
