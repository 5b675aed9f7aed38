// The commands a user runs: start the demo, run an ELF on a board, attach, stop, clear failures.
// Each one works or says why not in words a user can act on; none needs a server command's id.

import * as vscode from 'vscode';
import { ServerHost } from './server';
import { NO_SESSION } from './session';
import { SessionView } from './sessionView';
import { checkChip, probeWords, simWords, tcpWords } from './targets';

export function registerCommands(
  context: vscode.ExtensionContext,
  host: ServerHost,
  view: SessionView,
): vscode.Disposable[] {
  /** Runs a server command; an error from it is shown, a missing server explained. */
  async function run(command: string, args: unknown[] = []): Promise<unknown> {
    if (!host.running) {
      await host.explain();
      return undefined;
    }
    try {
      return await host.command(command, args);
    } catch (e) {
      void vscode.window.showErrorMessage(`asyncmon: ${(e as Error).message}`);
      return undefined;
    }
  }

  async function attach(words: string[]) {
    const wasRunning = view.running;
    const said = await run('asyncmon.attach', words);
    if (typeof said !== 'string') return;
    if (wasRunning) void vscode.window.showInformationMessage(`asyncmon: ${said}`);
    else vscode.window.setStatusBarMessage(`asyncmon: ${said}`, 5000);
  }

  async function stop(command: string) {
    if (!view.running) {
      void vscode.window.showInformationMessage(NO_SESSION);
      return;
    }
    await run(command);
  }

  async function runElf() {
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

  return [
    vscode.commands.registerCommand('asyncmon.ui.startDemo', () => attach(['demo'])),
    vscode.commands.registerCommand('asyncmon.ui.runElf', runElf),
    vscode.commands.registerCommand('asyncmon.ui.attach', attachPrompt),
    vscode.commands.registerCommand('asyncmon.ui.stop', () => stop('asyncmon.stop')),
    vscode.commands.registerCommand('asyncmon.ui.hardStop', () => stop('asyncmon.hardStop')),
    vscode.commands.registerCommand('asyncmon.ui.clearFailures', () => run('asyncmon.clearFailures')),
    vscode.commands.registerCommand('asyncmon.ui.showServerOutput', () => host.showLog()),
  ];
}
