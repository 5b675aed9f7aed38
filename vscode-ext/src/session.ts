// The `asyncmon/session` notification turned into what the editor shows: the status bar item, the
// context keys, the task view's items, and the message when a session ends. Pure.

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

/** What a user is told when there is nothing to stop. */
export const NO_SESSION = 'asyncmon: no session running — Start demo or Run ELF…';

/** Whether the firmware runs: the stop button is shown only then. */
export function sessionRunning(s: SessionSummary | undefined): boolean {
  return !!s && s.connected && ['starting', 'waiting', 'attached'].includes(s.state);
}

/** The status bar item: what it says, its tooltip, and what a screen reader says. */
export function statusText(s: SessionSummary): { text: string; tooltip: string; label: string } {
  const failures = s.failures === 1 ? '1 failure' : `${s.failures} failures`;
  const icon = s.failures > 0 ? '$(error)' : sessionRunning(s) ? '$(pulse)' : '$(debug-stop)';
  const firmware = s.firmware ?? 'no firmware yet';
  return {
    text: `${icon} ${firmware}: ${s.state} · ${failures}`,
    tooltip:
      `asyncmon — ${s.target}\n${s.stateText}, session ${s.epoch}` +
      `${s.interrupt ? `\n${s.interrupt}` : ''}\nClick to show the failures in the Problems panel.`,
    label: `asyncmon ${firmware} ${s.state}, session ${s.epoch}, ${failures}`,
  };
}

/** What to tell the user when a running session has just ended, or `undefined`. */
export function sessionEnded(
  before: SessionSummary | undefined,
  now: SessionSummary,
): { text: string; warning: boolean } | undefined {
  if (!sessionRunning(before) || sessionRunning(now)) return undefined;
  const firmware = now.firmware ?? before?.firmware ?? 'the firmware';
  if (!now.connected) return { text: 'asyncmon: the daemon has ended; the session is over.', warning: true };
  if (now.state === 'failed') return { text: `asyncmon: ${now.target} failed: ${now.stateText}`, warning: true };
  if (now.state === 'halted') {
    return { text: `asyncmon: ${firmware} ${now.stateText} — asyncmon reset starts it again`, warning: true };
  }
  if (now.interrupt) return { text: `asyncmon: ${firmware} stopped — ${now.interrupt}`, warning: false };
  return { text: `asyncmon: ${firmware} ended: ${now.stateText}`, warning: false };
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
  halted: 'debug-pause',
};

/** The task view's rows: running tasks first, each with its state and failures. */
export function taskItems(s: SessionSummary | undefined): TaskItem[] {
  if (!s || !s.connected) return [];
  const order = (t: TaskSummary) => (t.state === 'running' ? 0 : 1);
  return [...s.tasks]
    .sort((a, b) => order(a) - order(b) || a.id - b.id)
    .map((t) => ({
      label: `${t.name} #${t.id}`,
      description: t.failures > 0 ? `${t.state} · ${t.failures} failed` : t.state,
      icon: ICONS[t.state] ?? 'circle-outline',
    }));
}
