// The asyncmon extension: failures of async firmware in the Problems panel (through `asyncmond
// lsp`), the `asyncmon` debug type (through `asyncmond dap`), a tasks view, a status bar item, a stop button in the editor title bar, and output
// channels for the firmware's logs and the server's own. The commands are registered before the
// server starts, so they answer (with the reason) even when it cannot start.

import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { registerDebugType } from './debugAdapter';
import { ServerHost } from './server';
import { SessionSummary } from './session';
import { SessionView } from './sessionView';

let host: ServerHost | undefined;

export async function activate(context: vscode.ExtensionContext) {
  const serverLog = vscode.window.createOutputChannel('asyncmon server');
  const firmwareLog = vscode.window.createOutputChannel('asyncmon firmware');
  const view = new SessionView();
  const server = new ServerHost(serverLog, {
    'asyncmon/session': (session: SessionSummary) => view.update(session),
    'asyncmon/logs': (logs: { lines: string[]; dropped: number }) => {
      if (logs.dropped > 0) firmwareLog.appendLine(`… ${logs.dropped} lines dropped`);
      for (const line of logs.lines) firmwareLog.appendLine(line);
    },
  });
  host = server;
  context.subscriptions.push(
    serverLog,
    firmwareLog,
    view,
    ...registerCommands(context, server, view),
    ...registerDebugType(),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('asyncmon.daemonPath') || e.affectsConfiguration('asyncmon.socket')) {
        serverLog.appendLine('asyncmon: the server settings changed; restarting the language server');
        void server.restart();
      }
    }),
  );
  await server.start();
}

export async function deactivate() {
  // The server ends the daemon (and firmware) it started; one started by hand is left alone.
  await host?.stop();
  host = undefined;
}
