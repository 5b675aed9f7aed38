// Where `asyncmond` is: the `asyncmon.daemonPath` setting, else on PATH, else the workspace's own
// cargo build (target/debug, then target/release). Pure: the file checks are passed in.

import * as path from 'path';

export interface Lookup {
  /** Whether `file` exists and can be run. */
  isExecutable(file: string): boolean;
  /** The PATH variable. */
  pathVariable: string | undefined;
}

/** The daemon to start, or `undefined` with the places that were tried. */
export function resolveServerPath(
  setting: string | undefined,
  workspaceFolders: readonly string[],
  lookup: Lookup,
): { path?: string; tried: string[] } {
  const tried: string[] = [];
  const candidate = (file: string) => {
    tried.push(file);
    return lookup.isExecutable(file) ? file : undefined;
  };
  if (setting && setting.trim() !== '') {
    // A set path is the user's choice: it is the only one tried.
    return { path: candidate(setting.trim()), tried };
  }
  for (const dir of (lookup.pathVariable ?? '').split(path.delimiter).filter((d) => d !== '')) {
    const found = candidate(path.join(dir, 'asyncmond'));
    if (found) return { path: found, tried };
  }
  for (const folder of workspaceFolders) {
    for (const profile of ['debug', 'release']) {
      const found = candidate(path.join(folder, 'target', profile, 'asyncmond'));
      if (found) return { path: found, tried };
    }
  }
  return { tried };
}
