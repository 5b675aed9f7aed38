// The language server's life in the editor: find `asyncmond`, start `asyncmond lsp` with
// vscode-languageclient, restart it when its path or socket setting changes, and say plainly why
// there is no server when there is none (with "Open Settings" and "Show Output" at hand).

import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { serverArgs } from './serverArgs';
import { locateAsyncmond } from './locate';

/** How long the server has to end the daemon it started when the editor closes. */
const STOP_TIMEOUT_MS = 8000;

/** Handlers for the server's notifications. */
export interface Listeners {
  [method: string]: (params: any) => void;
}

/** Owns the language client. */
export class ServerHost {
  private client: LanguageClient | undefined;
  /** Why there is no server, in words; `undefined` while one runs or starts. */
  problem: string | undefined = 'the asyncmon language server has not started yet';

  constructor(
    private readonly log: vscode.OutputChannel,
    private readonly listeners: Listeners,
  ) {}

  /** Finds `asyncmond` and starts `asyncmond lsp`; never throws. */
  async start(): Promise<void> {
    const config = vscode.workspace.getConfiguration('asyncmon');
    const found = locateAsyncmond();
    if (!found.path) {
      this.log.appendLine(`asyncmond was not found; tried:\n  ${found.tried.join('\n  ')}`);
      return this.fail('asyncmond was not found. Set asyncmon.daemonPath, or build it (cargo build -p asyncmon-daemon).');
    }
    const serverOptions: ServerOptions = {
      command: found.path,
      args: serverArgs(config.get<string>('socket')),
      transport: TransportKind.stdio,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'rust' }],
      outputChannel: this.log,
    };
    const client = new LanguageClient('asyncmon', 'asyncmon server', serverOptions, clientOptions);
    for (const [method, handler] of Object.entries(this.listeners)) client.onNotification(method, handler);
    this.problem = undefined;
    await vscode.commands.executeCommand('setContext', 'asyncmon.server', 'starting');
    try {
      await client.start();
    } catch (e) {
      this.log.appendLine(`${found.path} ${serverArgs(config.get<string>('socket')).join(' ')} did not start: ${e}`);
      await client.dispose().catch(() => undefined);
      return this.fail(`asyncmond did not start (${found.path}): ${(e as Error).message ?? e}`);
    }
    this.client = client;
    this.log.appendLine(`asyncmon: language server started (${found.path})`);
    await vscode.commands.executeCommand('setContext', 'asyncmon.server', 'running');
  }

  /** Stops the server (which ends the daemon it started), if one runs. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.problem = 'the asyncmon language server has stopped';
    if (client) await client.stop(STOP_TIMEOUT_MS).catch(() => undefined);
  }

  /** Stops and starts again: a changed daemon path or socket takes effect. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Runs one of the server's commands; throws with the reason when there is no server. */
  async command(command: string, args: unknown[] = []): Promise<unknown> {
    if (!this.client) throw new Error(this.problem ?? 'the asyncmon language server is not running');
    return this.client.sendRequest('workspace/executeCommand', { command, arguments: args });
  }

  /** Says why there is no server, with the ways out. */
  async explain(): Promise<void> {
    const choice = await vscode.window.showErrorMessage(
      `asyncmon: ${this.problem ?? 'the language server is not running'}`,
      'Open Settings',
      'Show Output',
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'asyncmon.daemonPath');
    } else if (choice === 'Show Output') {
      this.log.show();
    }
  }

  /** Shows the server's output channel. */
  showLog() {
    this.log.show();
  }

  get running(): boolean {
    return this.client !== undefined;
  }

  private async fail(problem: string): Promise<void> {
    this.problem = problem;
    await vscode.commands.executeCommand('setContext', 'asyncmon.server', 'missing');
    void this.explain();
  }
}
