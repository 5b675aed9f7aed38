// What the editor shows of the session: the status bar item (state and failures; a click opens the
// Problems panel), the context keys behind the stop button and the tasks view's welcome text, the
// tasks view, and a notification when a session ends (the KeyboardInterrupt summary).

import * as vscode from 'vscode';
import { SessionSummary, sessionEnded, sessionRunning, statusText, taskItems } from './session';

/** The tasks view, fed by `asyncmon/session`; empty (so its welcome text shows) with no session. */
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

/** The session as the editor shows it. */
export class SessionView implements vscode.Disposable {
  private readonly status = vscode.window.createStatusBarItem('asyncmon.session', vscode.StatusBarAlignment.Left, 50);
  private readonly tasks = new TaskTree();
  private readonly registration = vscode.window.registerTreeDataProvider('asyncmon.tasks', this.tasks);
  private last: SessionSummary | undefined;

  constructor() {
    this.status.name = 'asyncmon session';
    this.status.command = 'workbench.actions.view.problems';
  }

  /** The session as last reported. */
  get session(): SessionSummary | undefined {
    return this.last;
  }

  /** Whether the firmware runs now. */
  get running(): boolean {
    return sessionRunning(this.last);
  }

  /** Shows a new `asyncmon/session` notification. */
  update(session: SessionSummary) {
    const ended = sessionEnded(this.last, session);
    this.last = session;
    void vscode.commands.executeCommand('setContext', 'asyncmon.sessionRunning', sessionRunning(session));
    void vscode.commands.executeCommand('setContext', 'asyncmon.connected', session.connected);
    const { text, tooltip, label } = statusText(session);
    this.status.text = text;
    this.status.tooltip = tooltip;
    this.status.accessibilityInformation = { label };
    if (session.connected) this.status.show();
    else this.status.hide();
    this.tasks.update(session);
    if (ended?.warning) void vscode.window.showWarningMessage(ended.text);
    else if (ended) void vscode.window.showInformationMessage(ended.text);
  }

  dispose() {
    this.status.dispose();
    this.registration.dispose();
  }
}
