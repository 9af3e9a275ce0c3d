/**
 * How `rollout` and `promote` reach a Prometheus behind authentication or a private CA (an oauth proxy, Thanos,
 * Mimir, Grafana Cloud): `--prometheus-header 'Name: value'` (repeatable: `Authorization: Bearer ...`,
 * `Authorization: Basic ...`, `X-Scope-OrgID: tenant`), `--prometheus-bearer-token-file` (read again for every
 * request: a rotated token works, as kubectl reads a `tokenFile`), `--prometheus-ca-file` (PEM: the server's
 * certificate is verified against it) and `--prometheus-insecure-skip-tls-verify`. Checked before the cluster is
 * contacted (exit 2); a header's value or a token never appears in a message.
 */
import * as fs from 'fs';
import { PrometheusClientOptions, PrometheusError } from '../analysis/_prometheus';
import { CliError, EXIT_USAGE } from '../cli/errors';

/** The options as parsed by `cli/program.ts`. */
export interface PrometheusAccessOptions {
  /** `--prometheus-header`, each `Name: value`. */
  readonly prometheusHeader?: readonly string[];
  readonly prometheusBearerTokenFile?: string;
  readonly prometheusCaFile?: string;
  readonly prometheusInsecureSkipTlsVerify?: boolean;
}

/** An HTTP header name: an RFC 9110 token (https://www.rfc-editor.org/rfc/rfc9110#name-field-names). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What a header value may not hold (https://www.rfc-editor.org/rfc/rfc9110#name-field-values): controls but tab. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** The client options of the flags; a `CliError` (exit 2) naming the flag for a malformed header, an unreadable file, two that conflict. */
export function prometheusAccess(options: PrometheusAccessOptions): Pick<PrometheusClientOptions, 'headers' | 'ca' | 'insecureSkipTlsVerify'> {
  const headers: { [name: string]: string } = {};
  for (const [i, header] of (options.prometheusHeader ?? []).entries()) {
    const colon = header.indexOf(':');
    const name = colon < 0 ? '' : header.slice(0, colon).trim();
    const value = colon < 0 ? '' : header.slice(colon + 1).trim();
    // A line break or control character would be refused by fetch with the value in its message.
    if (!HEADER_NAME.test(name) || value === '' || CONTROL.test(value)) {
      // The value may be a secret (a token typed without its name): never echoed.
      throw new CliError(`--prometheus-header #${i + 1} (${HEADER_NAME.test(name) ? `'${name}: <hidden>'` : `${header.length} characters, hidden`}): `
        + 'not a header \'Name: value\' with a name and a value (no line break or control character), '
        + 'e.g. --prometheus-header \'Authorization: Bearer <token>\' '
        + 'or --prometheus-header \'X-Scope-OrgID: <tenant>\'', EXIT_USAGE);
    }
    const same = Object.keys(headers).find((n) => n.toLowerCase() === name.toLowerCase());
    if (same) {
      throw new CliError(`--prometheus-header ${name}: given twice: pass each header once`, EXIT_USAGE);
    }
    headers[name] = value;
  }
  const tokenFile = options.prometheusBearerTokenFile;
  if (tokenFile !== undefined) {
    if (Object.keys(headers).some((n) => n.toLowerCase() === 'authorization')) {
      throw new CliError('--prometheus-bearer-token-file and --prometheus-header \'Authorization: ...\' both set the Authorization header: pass one', EXIT_USAGE);
    }
    readToken(tokenFile, (why) => new CliError(`--prometheus-bearer-token-file ${tokenFile}: ${why}`, EXIT_USAGE));
  }
  if (options.prometheusCaFile !== undefined && options.prometheusInsecureSkipTlsVerify) {
    throw new CliError('--prometheus-ca-file and --prometheus-insecure-skip-tls-verify: pass one (a CA to verify against, or no verification)', EXIT_USAGE);
  }
  const ca = options.prometheusCaFile === undefined ? undefined : readCa(options.prometheusCaFile);
  return {
    headers: Object.keys(headers).length === 0 && tokenFile === undefined ? undefined : () => ({
      ...headers,
      ...(tokenFile !== undefined
        ? { Authorization: `Bearer ${readToken(tokenFile, (why) => new PrometheusError(`cannot read the bearer token file ${tokenFile}: ${why}`))}` } : {}),
    }),
    ca,
    insecureSkipTlsVerify: options.prometheusInsecureSkipTlsVerify === true ? true : undefined,
  };
}

function readToken(file: string, error: (why: string) => Error): string {
  let token: string;
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw error((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  if (token === '') {
    throw error('empty');
  }
  if (CONTROL.test(token)) {
    throw error('more than one line, or a control character: not a token');
  }
  return token;
}

function readCa(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = fs.readFileSync(file);
  } catch (e) {
    throw new CliError(`--prometheus-ca-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, EXIT_USAGE);
  }
  if (!pem.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) {
    throw new CliError(`--prometheus-ca-file ${file}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)`, EXIT_USAGE);
  }
  return pem;
}
