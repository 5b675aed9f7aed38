// Finds `asyncmond` for the language server and the debug adapter alike: the setting, PATH, then
// the workspace's own build (see `serverPath`, which does the choosing without touching files).

import * as fs from 'fs';
import * as vscode from 'vscode';
import { resolveServerPath } from './serverPath';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `asyncmond`, as the settings and the workspace say; or the places tried. */
export function locateAsyncmond(): { path?: string; tried: string[] } {
  const config = vscode.workspace.getConfiguration('asyncmon');
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  return resolveServerPath(config.get<string>('daemonPath'), folders, {
    isExecutable,
    pathVariable: process.env.PATH,
  });
}
