/** JSON pointer helpers (RFC 6901) for violation paths. */

/** Escapes one reference token: `~` → `~0`, `/` → `~1`. */
export function pointerEscape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `base` extended by the given keys or indexes. */
export function pointerJoin(base: string, ...keys: (string | number)[]): string {
  return keys.reduce<string>((p, k) => `${p}/${typeof k === 'number' ? k : pointerEscape(k)}`, base);
}

/**
 * The JSON pointer of a Kubernetes `fieldPath` (as used by `x-kubernetes-validations`), relative to `base`:
 * `.spec.foo`, `.labels['app.kubernetes.io/name']`, `.items[0]`. Returns `base` when it cannot be parsed.
 */
export function fieldPathToPointer(base: string, fieldPath: string): string {
  const tokens: string[] = [];
  const re = /\.([A-Za-z_$][\w$-]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = re.exec(fieldPath)) !== null) {
    tokens.push(match[1] ?? match[2]?.replace(/\\(.)/g, '$1') ?? match[3]);
    end = re.lastIndex;
  }
  return end === fieldPath.length && tokens.length > 0 ? pointerJoin(base, ...tokens) : base;
}
