/**
 * The directory of the stage directories (`--out`). The CLI only ever removes what it wrote: a
 * marker file records that a directory is the CLI's and which stage directories it wrote there.
 * A directory without the marker must be empty (or `--force` given) to be written into.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CliError, fileError } from './errors';
import { displayPath } from './paths';
import { ReleaseRef } from './release-view';

/** The marker file: a JSON record of the plan written (see `PlanRecord`). */
export const MARKER = '.mesh-release.json';

/** What the marker records: enough to re-read the plan (`--stages <dir>`) without running the app again. */
export interface PlanRecord {
  readonly tool: 'mesh-release';
  /** The app directory, absolute. */
  readonly app?: string;
  readonly releases?: ReleaseRef[];
  /** Stage names, in order. */
  readonly stages?: string[];
  /** Stage directories written (names inside the out directory): the only ones the CLI removes later. */
  readonly dirs: string[];
  /** Read options the plan was checked with. */
  readonly namespace?: string;
  readonly clusterDomain?: string;
}

/** `01-stable`: the 1-based, two-digit position and the name of a stage. */
export function stageDirName(index: number, name: string): string {
  return `${String(index + 1).padStart(2, '0')}-${name}`;
}

/** An output directory prepared for writing: ours (marked) or empty, or forced. */
export class OutDir {
  /**
   * Claims `dir`: creates it when missing, refuses a file, and a non-empty directory without the
   * marker unless `force`; writes the marker before anything else is written.
   */
  static claim(dir: string, force: boolean): OutDir {
    const abs = path.resolve(dir);
    try {
      if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) {
        throw new CliError(`--out ${displayPath(abs)} is a file, not a directory`);
      }
      const record = readRecord(abs);
      if (!record && fs.existsSync(abs) && fs.readdirSync(abs).length > 0 && !force) {
        throw new CliError(`${displayPath(abs)} is not empty and was not written by mesh-release (no ${MARKER} in it): `
          + 'choose another --out, empty it, or pass --force to write the stage directories into it (files of the same name are replaced)');
      }
      fs.mkdirSync(abs, { recursive: true });
      const out = new OutDir(abs, record?.dirs ?? [], force);
      out.write({ tool: 'mesh-release', dirs: out.owned });
      return out;
    } catch (e) {
      throw fileError(`write to ${displayPath(abs)}`, e);
    }
  }

  private constructor(readonly dir: string, private owned: string[], private readonly force: boolean) {}

  /** A scratch directory inside (hidden: the CLI reads no hidden directory as manifests), removed by `dispose`. */
  scratch(): string {
    return fs.mkdtempSync(path.join(this.dir, '.synth-'));
  }

  /** Moves a synthesized directory into place as `name`, replacing a stage directory of an earlier run of ours. */
  install(source: string, name: string): string {
    const target = path.join(this.dir, name);
    try {
      if (fs.existsSync(target)) {
        if (!this.owned.includes(name) && !this.force) {
          throw new CliError(`${displayPath(target)} exists and was not written by mesh-release: move it away, or pass --force`);
        }
        fs.rmSync(target, { recursive: true, force: true });
      }
      this.owned = [...new Set([...this.owned, name])];
      this.write({ tool: 'mesh-release', dirs: this.owned });
      fs.renameSync(source, target);
    } catch (e) {
      throw fileError(`write ${displayPath(target)}`, e);
    }
    return target;
  }

  /** Removes the stage directories of earlier runs that are not in `keep`, and records the plan. */
  finish(record: Omit<PlanRecord, 'tool' | 'dirs'>, keep: string[]): void {
    try {
      for (const name of this.owned.filter((d) => !keep.includes(d))) {
        // Only names we wrote, and only plain names inside the directory.
        if (name === path.basename(name) && !name.startsWith('.')) {
          fs.rmSync(path.join(this.dir, name), { recursive: true, force: true });
        }
      }
      this.owned = keep;
      this.write({ tool: 'mesh-release', ...record, dirs: keep });
    } catch (e) {
      throw fileError(`write to ${displayPath(this.dir)}`, e);
    }
  }

  private write(record: PlanRecord): void {
    fs.writeFileSync(path.join(this.dir, MARKER), JSON.stringify(record, undefined, 2) + '\n');
  }
}

/** The marker of `dir`, if it has one. */
export function readRecord(dir: string): PlanRecord | undefined {
  const file = path.join(dir, MARKER);
  if (!fs.existsSync(file)) {
    return undefined;
  }
  let record: any;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${displayPath(file)} is not a mesh-release record: ${(e as Error).message}`);
  }
  if (record?.tool !== 'mesh-release' || !Array.isArray(record.dirs) || !record.dirs.every((d: unknown) => typeof d === 'string')) {
    throw new CliError(`${displayPath(file)} is not a mesh-release record (tool: mesh-release, dirs: [...])`);
  }
  return record;
}
