/**
 * The Prometheus client reads the HTTP API's documented responses
 * (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries); the real server is in
 * test/integration/analysis.integration.ts. Here the answers are the documentation's own examples and the cases a
 * real server rarely gives on demand.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { PrometheusClient, PrometheusError } from '../../src/analysis/_prometheus';

/** A client whose fetch answers `body` with `status`, recording the URL asked. */
function clientAnswering(body: unknown, status = 200): { client: PrometheusClient; urls: string[] } {
  const urls: string[] = [];
  const fetchFn = (async (url: string) => {
    urls.push(url);
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  }) as unknown as typeof fetch;
  return { client: new PrometheusClient('http://prometheus:9090/', { fetch: fetchFn, timeoutMs: 5000 }), urls };
}

const TIME = new Date('2015-07-01T20:10:51.781Z');
const success = (data: object) => ({ status: 'success', data });

describe('PrometheusClient', () => {
  test('GET /api/v1/query with the query, the time in Unix seconds and a timeout', async () => {
    const { client, urls } = clientAnswering(success({ resultType: 'scalar', result: [1435781451.781, '1'] }));
    await client.query('sum(rate(x[1m])) / 2', TIME);
    const url = new URL(urls[0]);
    expect(`${url.origin}${url.pathname}`).toBe('http://prometheus:9090/api/v1/query');
    expect(Object.fromEntries(url.searchParams)).toEqual({ query: 'sum(rate(x[1m])) / 2', time: '1435781451.781', timeout: '5000ms' });
  });

  test('a vector of one series and a scalar are a value; an empty vector is empty; "NaN" and "+Inf" are numbers', async () => {
    const one = { resultType: 'vector', result: [{ metric: { job: 'prometheus' }, value: [1435781451.781, '99.5'] }] };
    expect(await clientAnswering(success(one)).client.query('q', TIME)).toEqual({ kind: 'value', value: 99.5 });
    expect(await clientAnswering(success({ resultType: 'scalar', result: [1, '2'] })).client.query('q', TIME)).toEqual({ kind: 'value', value: 2 });
    expect(await clientAnswering(success({ resultType: 'vector', result: [] })).client.query('q', TIME)).toEqual({ kind: 'empty' });
    const nan = await clientAnswering(success({ resultType: 'vector', result: [{ metric: {}, value: [1, 'NaN'] }] })).client.query('q', TIME);
    expect(nan.kind === 'value' && Number.isNaN(nan.value)).toBe(true);
    expect(await clientAnswering(success({ resultType: 'scalar', result: [1, '+Inf'] })).client.query('q', TIME)).toEqual({ kind: 'value', value: Infinity });
  });

  test.each([
    ['several series (the documentation\'s example of up)', success({
      resultType: 'vector',
      result: [
        { metric: { __name__: 'up', job: 'prometheus', instance: 'localhost:9090' }, value: [1435781451.781, '1'] },
        { metric: { __name__: 'up', job: 'node', instance: 'localhost:9100' }, value: [1435781451.781, '0'] },
      ],
    }), 200, 'the query returned 2 series ({__name__="up",job="prometheus",instance="localhost:9090"}, {__name__="up",job="node",instance="localhost:9100"}), '
      + 'not one number: aggregate them into one, e.g. sum(...) or max(...)'],
    ['a matrix', success({ resultType: 'matrix', result: [] }), 200,
      'the query returned a matrix, not one number: a metric\'s query must return an instant vector of one series or a scalar (a range selector [..] must be inside a function such as rate(...))'],
    ['status error (a bad query)', { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error' }, 400,
      'Prometheus refused the query (HTTP 400, bad_data): invalid parameter "query": 1:5: parse error'],
    ['HTML (not the API\'s URL)', '<html>Not Found</html>', 404,
      'Prometheus at http://prometheus:9090 answered HTTP 404 with something else than JSON (is it the Prometheus server\'s URL, without /api/v1?): "<html>Not Found</html>"'],
    ['a value that is not a number', success({ resultType: 'scalar', result: [1, 'abc'] }), 200, 'the query result\'s value is not a number: "abc"'],
  ])('%s is an error', async (_name, body, status, message) => {
    await expect(clientAnswering(body, status).client.query('q', TIME)).rejects.toThrow(new PrometheusError(message));
  });

  test('an unreachable Prometheus names the URL and the reason', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    await expect(new PrometheusClient(`http://127.0.0.1:${port}`).query('vector(1)', TIME))
      .rejects.toThrow(`Prometheus at http://127.0.0.1:${port} is unreachable: ECONNREFUSED`);
  });

  test('a Prometheus that does not answer in time', async () => {
    const server = http.createServer(() => { /* never answers */ });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(new PrometheusClient(url, { timeoutMs: 200 }).query('vector(1)', TIME)).rejects.toThrow(`Prometheus at ${url} is unreachable: no answer within 200 ms`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a URL that is not http(s) is refused before any request', () => {
    expect(() => new PrometheusClient('prometheus:9090')).toThrow(
      'the Prometheus URL must be an http(s) URL such as http://prometheus.istio-system:9090, got "prometheus:9090"');
    expect(() => new PrometheusClient('not a url')).toThrow('the Prometheus URL must be an http(s) URL');
  });
});
