// The `asyncmon/session` notification turned into what the editor shows: the status bar item, the
// context key that shows the stop button, and the task view's items. Pure.

/** A task, as `asyncmond lsp` sends it. */
export interface TaskSummary {
  id: number;
  name: string;
  state: string;
  failures: number;
}

/** The session, as `asyncmond lsp` sends it (`asyncmon/session`). */
export interface SessionSummary {
  connected: boolean;
  target: string;
  state: string;
  stateText: string;
  epoch: number;
  firmware: string | null;
  failures: number;
  tasks: TaskSummary[];
  interrupt: string | null;
}

/** Whether a session runs: the stop button and the status bar item are shown only then. */
export function sessionRunning(s: SessionSummary | undefined): boolean {
  return !!s && s.connected && ['starting', 'waiting', 'attached'].includes(s.state);
}

/** The status bar item's text and tooltip. */
export function statusText(s: SessionSummary): { text: string; tooltip: string } {
  const failures = s.failures === 1 ? '1 failure' : `${s.failures} failures`;
  const icon = s.failures > 0 ? '$(error)' : '$(pulse)';
  const firmware = s.firmware ?? 'no firmware yet';
  return {
    text: `${icon} ${firmware}: ${s.state} · ${failures}`,
    tooltip: `asyncmon — ${s.target}\n${s.stateText}, epoch ${s.epoch}${s.interrupt ? `\n${s.interrupt}` : ''}`,
  };
}

/** A row of the task view. */
export interface TaskItem {
  label: string;
  description: string;
  icon: string;
}

const ICONS: Record<string, string> = {
  running: 'sync',
  completed: 'check',
  failed: 'error',
  cancelled: 'circle-slash',
  failedDuringCleanup: 'error',
  dropped: 'trash',
  gone: 'history',
};

/** The task view's rows: running tasks first, each with its state and failures. */
export function taskItems(s: SessionSummary | undefined): TaskItem[] {
  if (!s) return [];
  const order = (t: TaskSummary) => (t.state === 'running' ? 0 : 1);
  return [...s.tasks]
    .sort((a, b) => order(a) - order(b) || a.id - b.id)
    .map((t) => ({
      label: `${t.name} #${t.id}`,
      description: t.failures > 0 ? `${t.state} · ${t.failures} failed` : t.state,
      icon: ICONS[t.state] ?? 'circle-outline',
    }));
}
