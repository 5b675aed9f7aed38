// The asyncmon extension: starts `asyncmond lsp` with vscode-languageclient, so failures land in the
// Problems panel; adds commands, a stop button in the editor title bar and a status bar item (both
// only while a session runs), a task view, and output channels for the firmware's logs and the
// server's own.

import * as fs from 'fs';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { resolveServerPath } from './serverPath';
import { SessionSummary, sessionRunning, statusText, taskItems } from './session';
import { checkChip, probeWords, simWords, tcpWords } from './targets';

let client: LanguageClient | undefined;

/** The task view, fed by `asyncmon/session`. */
class TaskTree implements vscode.TreeDataProvider<vscode.TreeItem> {
  private session: SessionSummary | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  update(session: SessionSummary) {
    this.session = session;
    this.changed.fire();
  }

  getTreeItem(item: vscode.TreeItem): vscode.TreeItem {
    return item;
  }

  getChildren(): vscode.TreeItem[] {
    return taskItems(this.session).map((t) => {
      const item = new vscode.TreeItem(t.label);
      item.description = t.description;
      item.iconPath = new vscode.ThemeIcon(t.icon);
      return item;
    });
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Sends one of the server's commands (`asyncmon.stop`, `asyncmon.attach`, ...). */
async function serverCommand(command: string, args: unknown[] = []): Promise<unknown> {
  if (!client) throw new Error('the asyncmon language server is not running');
  return client.sendRequest('workspace/executeCommand', { command, arguments: args });
}

async function attach(words: string[]) {
  try {
    const said = await serverCommand('asyncmon.attach', words);
    vscode.window.setStatusBarMessage(`asyncmon: ${String(said)}`, 5000);
  } catch (e) {
    vscode.window.showErrorMessage(`asyncmon: ${(e as Error).message}`);
  }
}

async function runElf(context: vscode.ExtensionContext) {
  const config = vscode.workspace.getConfiguration('asyncmon');
  const chip = await vscode.window.showInputBox({
    prompt: 'The chip, as probe-rs names it',
    value: context.workspaceState.get<string>('chip') ?? config.get<string>('chip') ?? '',
    validateInput: checkChip,
  });
  if (!chip) return;
  const remembered = context.workspaceState.get<string>('elf') ?? config.get<string>('elf');
  const picked = await vscode.window.showOpenDialog({
    title: 'The firmware ELF to flash and run',
    canSelectMany: false,
    defaultUri: remembered ? vscode.Uri.file(remembered) : undefined,
  });
  const elf = picked?.[0]?.fsPath;
  if (!elf) return;
  await context.workspaceState.update('chip', chip);
  await context.workspaceState.update('elf', elf);
  await attach(probeWords({ elf, chip, probe: config.get<string>('probe') }));
}

async function attachPrompt() {
  const choice = await vscode.window.showQuickPick(
    [
      { label: 'Simulated demo board', words: ['demo'] },
      { label: 'RTT TCP server (OpenOCD, J-Link)…', words: ['tcp'] },
      { label: 'Host-built firmware (simulated board)…', words: ['sim'] },
    ],
    { title: 'asyncmon: attach to' },
  );
  if (!choice) return;
  if (choice.words[0] === 'demo') return attach(['demo']);
  const config = vscode.workspace.getConfiguration('asyncmon');
  if (choice.words[0] === 'tcp') {
    const address = await vscode.window.showInputBox({ prompt: 'The RTT server, HOST:PORT', value: 'localhost:9090' });
    const elf = config.get<string>('elf') || (await vscode.window.showOpenDialog({ canSelectMany: false }))?.[0]?.fsPath;
    if (address && elf) await attach(tcpWords(address, elf));
    return;
  }
  const program = (await vscode.window.showOpenDialog({ canSelectMany: false, title: 'The firmware executable' }))?.[0]
    ?.fsPath;
  if (program) await attach(simWords(program));
}

export async function activate(context: vscode.ExtensionContext) {
  const config = vscode.workspace.getConfiguration('asyncmon');
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const found = resolveServerPath(config.get<string>('daemonPath'), folders, {
    isExecutable,
    pathVariable: process.env.PATH,
  });
  const serverLog = vscode.window.createOutputChannel('asyncmon server');
  const firmwareLog = vscode.window.createOutputChannel('asyncmon firmware');
  context.subscriptions.push(serverLog, firmwareLog);
  if (!found.path) {
    serverLog.appendLine(`asyncmond not found; tried:\n  ${found.tried.join('\n  ')}`);
    vscode.window.showErrorMessage('asyncmon: asyncmond not found. Set asyncmon.daemonPath or build it (cargo build).');
    return;
  }
  const socket = config.get<string>('socket');
  const args = socket ? ['--socket', socket, 'lsp'] : ['lsp'];
  const serverOptions: ServerOptions = { command: found.path, args, transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'rust' }],
    outputChannel: serverLog,
  };
  client = new LanguageClient('asyncmon', 'asyncmon', serverOptions, clientOptions);

  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  status.command = 'asyncmon.ui.stop';
  const tasks = new TaskTree();
  context.subscriptions.push(status, vscode.window.registerTreeDataProvider('asyncmon.tasks', tasks));

  context.subscriptions.push(
    vscode.commands.registerCommand('asyncmon.ui.startDemo', () => attach(['demo'])),
    vscode.commands.registerCommand('asyncmon.ui.runElf', () => runElf(context)),
    vscode.commands.registerCommand('asyncmon.ui.attach', () => attachPrompt()),
    vscode.commands.registerCommand('asyncmon.ui.stop', () => serverCommand('asyncmon.stop')),
    vscode.commands.registerCommand('asyncmon.ui.hardStop', () => serverCommand('asyncmon.hardStop')),
  );

  await client.start();
  context.subscriptions.push(
    client.onNotification('asyncmon/session', (session: SessionSummary) => {
      const running = sessionRunning(session);
      vscode.commands.executeCommand('setContext', 'asyncmon.sessionRunning', running);
      const { text, tooltip } = statusText(session);
      status.text = text;
      status.tooltip = tooltip;
      if (running) status.show();
      else status.hide();
      tasks.update(session);
    }),
    client.onNotification('asyncmon/logs', (logs: { lines: string[]; dropped: number }) => {
      if (logs.dropped > 0) firmwareLog.appendLine(`… ${logs.dropped} lines dropped`);
      for (const line of logs.lines) firmwareLog.appendLine(line);
    }),
  );
}

export async function deactivate() {
  await client?.stop();
  client = undefined;
}
