/**
 * Host, label and gateway-name syntax as Istio's validation checks it (istio/istio `pkg/config/labels` and
 * `pkg/config/validation/agent`: `IsDNS1123Label`, `ValidateWildcardDomain`, `ValidateFQDN`, and
 * `pkg/config/validation/validation.go`: `validateGatewayNames`; `pkg/config/host`: `Name.Matches`).
 * Note that Istio's DNS-1123 label pattern accepts upper-case letters.
 */

const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** `*`, a DNS-1123 label with a leading `*` or `*-`, or a DNS-1123 label. */
const WILDCARD_PREFIX = /^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

function isWildcardDns1123Label(value: string): boolean {
  return value.length <= 63 && WILDCARD_PREFIX.test(value);
}

function preconditions(name: string): string | undefined {
  if (name.length > 255) return `domain name ${JSON.stringify(name)} too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

function dns1123Labels(domain: string): string | undefined {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1];
  if (/^[+-]?\d+$/.test(tld)) return `domain name ${JSON.stringify(domain)} invalid (top level domain ${JSON.stringify(tld)} cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    if (i === parts.length - 1 && parts[i] === '') return undefined; // `istio.io.`
    if (!isDns1123Label(parts[i])) return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(parts[i])} invalid)`;
  }
  return undefined;
}

/** Istio `ValidateWildcardDomain`: an FQDN whose first label may be a wildcard; the error, or undefined. */
export function wildcardDomainError(domain: string): string | undefined {
  const pre = preconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isWildcardDns1123Label(first)) return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(first)} invalid)`;
  return dot < 0 ? undefined : dns1123Labels(domain.slice(dot + 1));
}

/** Istio `ValidateFQDN`; the error, or undefined. */
export function fqdnError(fqdn: string): string | undefined {
  return preconditions(fqdn) ?? dns1123Labels(fqdn);
}

/** An IPv4 or IPv6 address (Istio accepts those as VirtualService hosts). */
export function isIpAddress(text: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('net') as typeof import('net')).isIP(text) !== 0;
}

/** Istio `host.Name.Matches`: the two hosts overlap (equal, or one wildcard covers the other). */
export function hostsOverlap(a: string, b: string): boolean {
  const aWild = a.startsWith('*');
  const bWild = b.startsWith('*');
  if (aWild && bWild) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aWild) return b.endsWith(a.slice(1));
  if (bWild) return a.endsWith(b.slice(1));
  return a === b;
}

/**
 * Istio `validateGatewayNames`: `<namespace>/<name>` with both parts non-empty DNS-1123 labels, or a name without
 * `/` that is a valid FQDN (`mesh`, a gateway of the same namespace, or the legacy `<name>.<namespace>...` form,
 * which Istio accepts with a warning). Returns errors and warnings.
 */
export function gatewayNameProblems(name: string): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const slash = name.indexOf('/');
  if (slash < 0) {
    if (name.includes('.')) {
      const [gw, ns] = name.split('.');
      warnings.push(`using legacy gatewayName format ${JSON.stringify(name)}; prefer the <namespace>/<name> format: ${JSON.stringify(`${ns}/${gw}`)}`);
    }
    const fqdn = fqdnError(name);
    if (fqdn) errors.push(fqdn);
    return { errors, warnings };
  }
  const namespace = name.slice(0, slash);
  const gateway = name.slice(slash + 1);
  if (namespace === '' || gateway === '') errors.push('config namespace and gateway name cannot be empty');
  if (!isDns1123Label(namespace)) errors.push(`invalid value for namespace: ${JSON.stringify(namespace)}`);
  if (!isDns1123Label(gateway)) errors.push(`invalid value for gateway name: ${JSON.stringify(gateway)}`);
  return { errors, warnings };
}
