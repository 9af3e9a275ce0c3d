/** The items without repeats, in first-seen order. */
export function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/** Code-unit order of two strings (not the locale's): for choices that must not depend on the order of the manifests. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
