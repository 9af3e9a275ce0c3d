import * as path from 'path';

/** A path as the user would type it: relative to the working directory when inside it, else absolute. */
export function displayPath(p: string, from: string = process.cwd()): string {
  const relative = path.relative(from, path.resolve(p));
  if (relative === '') {
    return '.';
  }
  return relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(p) : relative;
}
