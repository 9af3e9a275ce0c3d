import { Duration } from 'cdk8s';
import { Construct } from 'constructs';

/** DNS-1035 label: what Kubernetes accepts as a Service name (and what we accept as app and version). */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** IANA service name: what Kubernetes accepts as a port name. */
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * The error every bad input raises: construct path, prop, value received, what is valid.
 */
export function invalidProp(scope: Construct, prop: string, value: unknown, valid: string): Error {
  return new Error(`[${scope.node.path}] '${prop}' ${valid}, got ${formatValue(value)}`);
}

export function formatValue(value: unknown): string {
  if (value instanceof Duration) {
    return `${value.toSeconds({ integral: false })}s`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return String(value);
  }
  return JSON.stringify(value) ?? String(value);
}

export function checkDns1035Label(scope: Construct, prop: string, value: string, maxLength = 63): void {
  if (value.length > maxLength || !DNS_1035_LABEL.test(value)) {
    throw invalidProp(scope, prop, value,
      `must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most ${maxLength} characters`);
  }
}

export function checkPortName(scope: Construct, prop: string, value: string): void {
  if (value.length > 15 || !IANA_SVC_NAME.test(value) || value.includes('--')) {
    throw invalidProp(scope, prop, value,
      "must be an IANA service name (at most 15 lowercase letters, digits and single '-', e.g. 'http' or 'http-web'; its prefix selects the Istio protocol)");
  }
}

export function checkPort(scope: Construct, prop: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidProp(scope, prop, value, 'must be an integer port number between 1 and 65535');
  }
}

export function checkInteger(scope: Construct, prop: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw invalidProp(scope, prop, value, `must be an integer ${range}`);
  }
}

/** Whole seconds of a Duration, refusing negative or fractional values (Kubernetes counts whole seconds). */
export function wholeSeconds(scope: Construct, prop: string, value: Duration, min = 0): number {
  const seconds = value.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < min) {
    throw invalidProp(scope, prop, value, `must be a whole number of seconds >= ${min}`);
  }
  return seconds;
}
