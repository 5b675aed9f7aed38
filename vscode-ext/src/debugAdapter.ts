// The `asyncmon` debug type: F5 runs `asyncmond dap` (found as the language server is), so the
// debug toolbar and the Call Stack work on async firmware. Tasks are threads, await traces are their
// stacks; Stop is KeyboardInterrupt and its second press the hard stop; Restart resets the target.
// Without a launch.json, F5 starts the demo.

import * as vscode from 'vscode';
import { serverArgs } from './serverArgs';
import { locateAsyncmond } from './locate';

/** Starts `asyncmond dap` for each debug session. */
class AdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  createDebugAdapterDescriptor(): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const config = vscode.workspace.getConfiguration('asyncmon');
    const found = locateAsyncmond();
    if (!found.path) {
      throw new Error('asyncmond was not found. Set asyncmon.daemonPath, or build it (cargo build -p asyncmon-daemon).');
    }
    return new vscode.DebugAdapterExecutable(found.path, serverArgs(config.get<string>('socket'), 'dap'));
  }
}

/** Fills in what a configuration leaves out: the demo when there is no launch.json, and the
 *  workspace folder (the adapter looks for the firmware's source files there). */
class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.ProviderResult<vscode.DebugConfiguration> {
    if (!config.type && !config.request && !config.name) {
      config = { type: 'asyncmon', request: 'launch', name: 'asyncmon: demo', target: 'demo' };
    }
    const workspace = folder ?? vscode.workspace.workspaceFolders?.[0];
    if (workspace && !config.workspaceFolder) config.workspaceFolder = workspace.uri.fsPath;
    return config;
  }
}

export function registerDebugType(): vscode.Disposable[] {
  return [
    vscode.debug.registerDebugAdapterDescriptorFactory('asyncmon', new AdapterFactory()),
    vscode.debug.registerDebugConfigurationProvider('asyncmon', new ConfigurationProvider()),
  ];
}
