//! The task pane: the task table (state, polls, storage, where each task waits) or the spawn tree.

use super::format::{bytes, duration_us, short_path};
use super::palette;
use super::{pane_block, state_label};
use crate::monitor::state::{MonitorState, Pane};
use crate::monitor::tasks;
use asyncmon_protocol::host::{SessionState, Task, TaskRunState, TaskState};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

/// The NAME column's usual width, and the widest it grows to for a long name.
const NAME_WIDTH: u16 = 14;
const MAX_NAME_WIDTH: u16 = 40;
/// The other columns but WAITING AT (with the table's one-cell gaps), and the least WAITING AT keeps.
const FIXED_COLUMNS: u16 = 4 + 10 + 9 + 6 + 6 + 6 + 9 + 8;
const MIN_WAITING_AT: u16 = 24;

pub(super) fn render_tasks(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let s = &state.session;
    let running = s.tasks.iter().filter(|t| t.state == TaskState::Running).count();
    let block = pane_block(
        format!(" Tasks ({running} running, {} shown) ", s.tasks.len()),
        state.pane == Pane::Tasks,
    );
    let parent_name = |t: &Task| match t.parent {
        None => "-".to_string(),
        Some(p) => s
            .tasks
            .iter()
            .rev()
            .find(|c| c.epoch == t.epoch && c.id == p)
            .map_or_else(|| format!("#{p}"), |c| c.name.clone()),
    };
    if state.tree {
        return render_tree(frame, area, state);
    }
    // Task warnings: the first on the pane's bottom edge (the task detail lists a task's own); the
    // session-wide ones (failures never retrieved) go on the failure list's.
    let warnings: Vec<tasks::Warning> =
        tasks::warnings(s).into_iter().filter(|w| w.task.is_some() && state.matches(&w.text)).collect();
    let block = match warnings.first() {
        Some(first) => {
            let more = match warnings.len() {
                1 => String::new(),
                n => format!(" (+{} more, Enter on a ⚠ task)", n - 1),
            };
            block.title_bottom(Line::from(format!("⚠ {}{more} ", first.text)).fg(palette::NOTICE))
        }
        None => block,
    };
    let table_area = block.inner(area);
    frame.render_widget(block, area);
    let warned = |t: &Task| warnings.iter().any(|w| w.task == Some((t.epoch, t.id)));
    let shown = state.task_rows();
    // Names are shown whole where the terminal has room: the column grows past its usual 14 for a
    // long name, as long as WAITING AT keeps room of its own.
    let longest = shown.iter().map(|t| t.name.chars().count() + if warned(t) { 2 } else { 0 }).max();
    let room = table_area.width.saturating_sub(FIXED_COLUMNS + MIN_WAITING_AT);
    let name_width =
        (longest.unwrap_or(0) as u16).clamp(NAME_WIDTH, MAX_NAME_WIDTH).min(room).max(NAME_WIDTH);
    let rows = shown.into_iter().map(|t| {
        let (label, style) = match (t.state, t.stats.map(|s| s.state)) {
            (TaskState::Running, Some(TaskRunState::Waiting)) => ("waiting", Style::new().fg(palette::GOOD)),
            (TaskState::Running, Some(TaskRunState::Ready)) => ("ready", Style::new().fg(palette::FOCUS)),
            (TaskState::Running, Some(TaskRunState::Cancelling)) => {
                ("cancelling", Style::new().fg(palette::NOTICE))
            }
            (state, _) => state_label(state),
        };
        let stats = t.stats;
        let name = if warned(t) { format!("⚠ {}", t.name) } else { t.name.clone() };
        let row = Row::new(vec![
            Cell::from(t.id.to_string()),
            Cell::from(name),
            Cell::from(label).style(style),
            Cell::from(parent_name(t)),
            Cell::from(stats.map_or_else(String::new, |s| s.polls.to_string())),
            Cell::from(stats.map_or_else(String::new, |s| duration_us(s.busy_us))),
            Cell::from(tasks::idle_us(t, &state.seen, state.now_ms).map_or_else(String::new, duration_us)),
            Cell::from(storage(t)),
            Cell::from(waiting_at(s, t)),
        ]);
        if t.state == TaskState::Running {
            row
        } else {
            row.style(Style::new().fg(palette::MUTED))
        }
    });
    let widths = [
        Constraint::Length(4),
        Constraint::Length(name_width),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    let arrow = if state.sort_reverse { "▲" } else { "▼" };
    let header =
        ["ID", "NAME", "STATE", "PARENT", "POLLS", "BUSY", "IDLE", "STORAGE", "WAITING AT"].map(|h| {
            if h == state.sort.header() {
                Cell::from(format!("{h}{arrow}"))
            } else {
                Cell::from(h)
            }
        });
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(Style::new().bold()))
        .row_highlight_style(Style::new().reversed());
    let mut table_state = TableState::default();
    if state.pane == Pane::Tasks && !s.tasks.is_empty() {
        table_state.select(Some(state.selected_task));
    }
    frame.render_stateful_widget(table, table_area, &mut table_state);
}

/// The spawn tree of the current epoch: each task under the task that spawned it, failed and
/// cancelled tasks marked.
fn render_tree(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let s = &state.session;
    let shown = state.task_rows();
    let epoch_tasks: Vec<&Task> = s.tasks.iter().filter(|t| t.epoch == s.epoch).collect();
    let mut lines: Vec<Line<'static>> = Vec::new();
    fn walk(task: &Task, depth: usize, all: &[&Task], shown: &[&Task], lines: &mut Vec<Line<'static>>) {
        if shown.iter().any(|t| std::ptr::eq(*t, task)) {
            let (label, style) = state_label(task.state);
            let indent =
                if depth == 0 { String::new() } else { format!("{}└─ ", "   ".repeat(depth - 1)) };
            lines.push(Line::from(vec![
                Span::raw(format!("{indent}{} #{} ", task.name, task.id)),
                Span::styled(label, style),
            ]));
        }
        for child in all.iter().filter(|t| t.parent == Some(task.id) && t.id != task.id) {
            walk(child, depth + 1, all, shown, lines);
        }
    }
    for root in epoch_tasks.iter().filter(|t| t.parent.is_none_or(|p| !epoch_tasks.iter().any(|o| o.id == p)))
    {
        walk(root, 0, &epoch_tasks, &shown, &mut lines);
    }
    let block = pane_block(format!(" Spawn tree, epoch {} ", s.epoch), state.pane == Pane::Tasks);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The STORAGE cell: what the task's future needs of what its storage reserves ("72/256"), or the
/// reservation alone from agents that do not say.
fn storage(task: &Task) -> String {
    let compact = |n: u32| if n < 10_000 { n.to_string() } else { format!("{}K", n / 1024) };
    match (task.future_bytes, task.storage_bytes) {
        (Some(used), Some(reserved)) => format!("{}/{}", compact(used), compact(reserved)),
        (None, Some(reserved)) => bytes(u64::from(reserved)),
        _ => String::new(),
    }
}

/// The WAITING AT cell: where a running task is suspended — its innermost `.await` and the async
/// fn it is in (`…/src/app.rs:42 read_sensor`) — from the await traces; why not, when there is
/// none.
fn waiting_at(session: &SessionState, task: &Task) -> String {
    if task.state != TaskState::Running || task.epoch != session.epoch {
        return String::new();
    }
    let Some(trace) = session.trace(task.id) else {
        return match &session.traces.unavailable {
            Some(_) => "(no trace: see its detail)".into(),
            None => "-".into(),
        };
    };
    match trace.innermost_await() {
        Some(frame) => {
            let at = frame
                .location
                .as_ref()
                .map_or_else(String::new, |l| short_path(&format!("{}:{}", l.file, l.line)));
            let function = frame.function.split('<').next().unwrap_or_default();
            let function = function.rsplit("::").next().unwrap_or(function);
            format!("{at} {function}")
        }
        None => trace.innermost().map_or_else(|| "-".into(), |f| f.function.clone()),
    }
}
