//! Rendering the monitor: a pure function of [`MonitorState`] (its clock included). No I/O.
//!
//! Layout, top to bottom: a title line, the task table (warnings first), the failure list beside
//! the selected failure's detail, the firmware's output and the link's problems, and a status line.
//! `l` gives the logs the whole middle; Enter opens the selected item's detail over everything.

use super::input::{KEYS, KEY_HINT};
use super::state::{Connection, MonitorState, Pane};
use super::tasks;
use asyncmon_protocol::host::wording::interrupt_summary;
use asyncmon_protocol::host::{
    Failure, FailurePath, LogLevel, LogLine, LogSource, SessionState, TargetState, Task, TaskOutcome,
    TaskRunState, TaskState,
};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap,
};
use ratatui::Frame;

/// Draws the whole monitor into `frame`.
pub fn render(frame: &mut Frame<'_>, state: &MonitorState) {
    let [title, tasks, middle, logs, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(30),
        Constraint::Min(8),
        Constraint::Length(5),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_title(frame, title, state);
    if state.logs_view {
        let whole = Rect { height: tasks.height + middle.height + logs.height, ..tasks };
        render_logs(frame, whole, state);
    } else {
        render_tasks(frame, tasks, state);
        let [failures, detail] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(middle);
        render_failures(frame, failures, state);
        render_detail(frame, detail, state);
        render_logs(frame, logs, state);
    }
    render_status(frame, status, state);
    if state.detail_open {
        super::detail::render_detail_overlay(frame, frame.area(), state);
    }
    if state.confirm_stop {
        render_confirm(frame, frame.area(), state.confirm_hard);
    }
    if state.show_help {
        render_help(frame, frame.area());
    }
}

fn render_title(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let s = &state.session;
    let firmware = match &s.firmware {
        Some(fw) => format!("{} {} │ epoch {} │", fw.name, fw.build_id, s.epoch),
        None => "no firmware hello yet".to_string(),
    };
    let line = Line::from(vec![
        Span::styled(" asyncmon ", Style::new().add_modifier(Modifier::BOLD).reversed()),
        Span::raw(format!(" {firmware} {}: {}", s.target.backend, short_path(&s.target.name))),
    ]);
    let hint = if state.filtering || !state.filter.is_empty() {
        let cursor = if state.filtering { "▏" } else { "" };
        Line::from(format!("filter: {}{cursor} ", state.filter)).fg(Color::Yellow).right_aligned()
    } else {
        Line::from(KEY_HINT).fg(Color::DarkGray).right_aligned()
    };
    let keys = hint;
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(keys.width() as u16 + 1)]).areas(area);
    frame.render_widget(Paragraph::new(line), left);
    frame.render_widget(Paragraph::new(keys), right);
}

fn pane_block(title: String, focused: bool) -> Block<'static> {
    let style = if focused { Style::new().fg(Color::Cyan) } else { Style::new() };
    Block::new().borders(Borders::ALL).border_style(style).title(title)
}

/// A task state's word and colour.
pub(crate) fn state_label(state: TaskState) -> (&'static str, Style) {
    match state {
        TaskState::Running => ("running", Style::new().fg(Color::Green)),
        TaskState::Finished(TaskOutcome::Completed) => ("done", Style::new().fg(Color::DarkGray)),
        TaskState::Finished(TaskOutcome::Failed) => ("failed", Style::new().fg(Color::Red)),
        TaskState::Finished(TaskOutcome::Cancelled) => ("cancelled", Style::new().fg(Color::Yellow)),
        TaskState::Finished(TaskOutcome::FailedDuringCleanup) => ("cleanup✗", Style::new().fg(Color::Red)),
        TaskState::Finished(TaskOutcome::DroppedAtDeadline) => ("dropped", Style::new().fg(Color::Red)),
        TaskState::Gone => ("gone", Style::new().fg(Color::DarkGray)),
    }
}

fn render_tasks(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
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
            block.title_bottom(Line::from(format!("⚠ {}{more} ", first.text)).fg(Color::Yellow))
        }
        None => block,
    };
    let table_area = block.inner(area);
    frame.render_widget(block, area);
    let warned = |t: &Task| warnings.iter().any(|w| w.task == Some((t.epoch, t.id)));
    let rows = state.task_rows().into_iter().map(|t| {
        let (label, style) = match (t.state, t.stats.map(|s| s.state)) {
            (TaskState::Running, Some(TaskRunState::Waiting)) => ("waiting", Style::new().fg(Color::Green)),
            (TaskState::Running, Some(TaskRunState::Ready)) => ("ready", Style::new().fg(Color::Cyan)),
            (TaskState::Running, Some(TaskRunState::Cancelling)) => {
                ("cancelling", Style::new().fg(Color::Yellow))
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
            row.style(Style::new().fg(Color::DarkGray))
        }
    });
    let widths = [
        Constraint::Length(4),
        Constraint::Length(14),
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

fn short_type(type_name: &str) -> &str {
    type_name.rsplit("::").next().unwrap_or(type_name)
}

fn render_failures(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let failures = state.failure_rows();
    let session_warnings: Vec<String> = tasks::warnings(&state.session)
        .into_iter()
        .filter(|w| w.task.is_none())
        .map(|w| format!("⚠ {} ", w.text))
        .collect();
    let block = pane_block(format!(" Failures ({}) ", failures.len()), state.pane == Pane::Failures)
        .title_bottom(Line::from(session_warnings.concat()).fg(Color::Yellow));
    let items: Vec<ListItem<'_>> = failures
        .iter()
        .map(|f| {
            let task = f.task.as_ref().map_or("-", |t| t.name.as_str());
            let kind = f.exception.as_ref().map_or("", |e| short_type(&e.type_name));
            let style = match f.path {
                FailurePath::Unretrieved | FailurePath::DuringShutdown | FailurePath::Panic => {
                    Style::new().fg(Color::Red)
                }
                FailurePath::Awaited | FailurePath::Gathered => Style::new(),
            };
            ListItem::new(Line::from(vec![
                Span::styled(format!("#{:<3}", f.seq), Style::new().fg(Color::DarkGray)),
                Span::raw(format!("{:>6} ", seconds(f.at_ms))),
                Span::styled(format!("{task} "), style),
                Span::raw(kind.to_string()),
            ]))
        })
        .collect();
    let list = List::new(items).block(block).highlight_style(Style::new().reversed());
    let mut list_state = ListState::default();
    if !failures.is_empty() {
        list_state.select(Some(state.selected_failure));
    }
    frame.render_stateful_widget(list, area, &mut list_state);
}

fn path_words(path: FailurePath) -> &'static str {
    match path {
        FailurePath::Unretrieved => "never retrieved → handler",
        FailurePath::Awaited => "retrieved by the task that awaited it",
        FailurePath::Gathered => "came out of a gather",
        FailurePath::DuringShutdown => "raised during shutdown → handler",
        FailurePath::Panic => "panic: the firmware halted",
    }
}

/// The lines describing a failure: the detail pane's (`full_paths` false: source paths shortened to
/// their last two components, so a firmware built outside the workspace, whose paths are absolute,
/// still leaves room for the spawn chain) and the overlay's (whole paths).
pub(crate) fn detail_lines(state: &MonitorState, failure: &Failure, full_paths: bool) -> Vec<Line<'static>> {
    let path = |location: String| if full_paths { location } else { short_path(&location) };
    let label = |l: &str| Span::styled(format!("{l:<12}"), Style::new().fg(Color::DarkGray));
    let mut lines = Vec::new();
    match &failure.exception {
        Some(e) => {
            lines.push(Line::from(vec![
                Span::styled(format!("{}: ", short_type(&e.type_name)), Style::new().fg(Color::Red).bold()),
                Span::raw(e.message.clone()),
            ]));
            if let Some(at) = &e.raised_at {
                lines.push(Line::from(vec![label("raised at"), Span::raw(path(at.to_string()))]));
            }
        }
        None => lines.push(Line::from(failure.message.clone())),
    }
    lines.push(Line::from(vec![label("path"), Span::raw(path_words(failure.path))]));
    if let Some(task) = &failure.task {
        lines.push(Line::from(vec![label("task"), Span::raw(format!("{} (#{})", task.name, task.id))]));
        lines.push(Line::from(vec![label("spawned at"), Span::raw(path(task.spawned_at.to_string()))]));
        let chain: Vec<String> =
            state.session.spawn_chain(failure.epoch, task.id).iter().map(|t| t.name.clone()).collect();
        let chain = if chain.is_empty() { task.name.clone() } else { chain.join(" ← ") };
        lines.push(Line::from(vec![label("spawn chain"), Span::raw(chain)]));
    }
    lines.push(Line::from(vec![label("handler"), Span::raw(failure.message.clone())]));
    lines
}

fn render_detail(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let block = Block::new().borders(Borders::ALL).title(" Failure detail ");
    let lines = match state.failure_rows().get(state.selected_failure) {
        Some(failure) => detail_lines(state, failure, false),
        None => {
            let mut lines = vec![Line::from("No failures yet.").fg(Color::DarkGray)];
            if let TargetState::Failed { reason } = &state.session.target_state {
                lines.push(Line::from(reason.clone()).fg(Color::Red));
            }
            lines
        }
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

/// A firmware log line: arrival time, level (defmt), text, and the statement that logged it.
fn log_line(l: &LogLine) -> Line<'static> {
    let style =
        if l.source == LogSource::FirmwareStderr { Style::new().fg(Color::Yellow) } else { Style::new() };
    let mut spans = vec![Span::styled(format!("{:>6} ", seconds(l.at_ms)), Style::new().fg(Color::DarkGray))];
    if let Some(level) = l.level {
        let color = match level {
            LogLevel::Error => Color::Red,
            LogLevel::Warn => Color::Yellow,
            LogLevel::Info => Color::Green,
            LogLevel::Debug | LogLevel::Trace => Color::DarkGray,
        };
        spans.push(Span::styled(format!("{:<5} ", level.as_str().to_uppercase()), Style::new().fg(color)));
    }
    spans.push(Span::styled(l.text.clone(), style));
    if let Some(at) = &l.location {
        let file = at.file.rsplit('/').next().unwrap_or(&at.file);
        spans.push(Span::styled(format!("  {file}:{}", at.line), Style::new().fg(Color::DarkGray)));
    }
    Line::from(spans)
}

fn render_logs(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let s = &state.session;
    let mut entries: Vec<(u64, Line<'static>)> = state
        .log_rows()
        .into_iter()
        .map(|l| (l.at_ms, log_line(l)))
        // Failures among the lines, so what led up to one is right above it.
        .chain(state.failure_rows().into_iter().map(|f| {
            let task = f.task.as_ref().map_or("-", |t| t.name.as_str());
            let what = match &f.exception {
                Some(e) => format!("{}: {}", short_type(&e.type_name), e.message),
                None => f.message.clone(),
            };
            (
                f.at_ms,
                Line::from(vec![
                    Span::styled(format!("{:>6} ", seconds(f.at_ms)), Style::new().fg(Color::DarkGray)),
                    Span::styled(format!("✗ {task} failed: {what}"), Style::new().fg(Color::Red)),
                ]),
            )
        }))
        .chain(state.problem_rows().into_iter().map(|p| {
            (
                p.at_ms,
                Line::from(vec![
                    Span::styled(format!("{:>6} ", seconds(p.at_ms)), Style::new().fg(Color::DarkGray)),
                    Span::styled(format!("⚠ {}", p.text), Style::new().fg(Color::Red)),
                ]),
            )
        }))
        .collect();
    entries.sort_by_key(|(at, _)| *at);
    let title = if state.logs_view { " Logs and problems (l: back) " } else { " Output and problems " };
    let block = Block::new().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The answer to a stop request goes first, wrapped so that no task's ending is cut off.
    let mut log_area = inner;
    if let Some(report) = &s.interrupt {
        let summary = interrupt_summary(report);
        let width = usize::from(inner.width.max(1));
        let height = (summary.chars().count().div_ceil(width) as u16).min(3).min(inner.height);
        let [top, rest] = Layout::vertical([Constraint::Length(height), Constraint::Fill(1)]).areas(inner);
        let summary = Paragraph::new(Line::from(summary).fg(Color::Yellow).bold()).wrap(Wrap { trim: true });
        frame.render_widget(summary, top);
        log_area = rest;
    }
    let skip = entries.len().saturating_sub(usize::from(log_area.height));
    let lines: Vec<Line<'static>> = entries.into_iter().skip(skip).map(|(_, l)| l).collect();
    frame.render_widget(Paragraph::new(lines), log_area);
}

fn render_status(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let s = &state.session;
    let (label, color) = match (&state.connection, &s.target_state) {
        (Connection::Lost(reason), _) => (format!("DISCONNECTED: {reason}"), Color::Red),
        (_, TargetState::Starting) => ("STARTING".to_string(), Color::Yellow),
        (_, TargetState::WaitingForControlBlock) => ("WAITING FOR RTT".to_string(), Color::Yellow),
        (_, TargetState::Attached) => ("ATTACHED".to_string(), Color::Green),
        (_, TargetState::Exited { description, .. }) => (format!("EXITED: {description}"), Color::Yellow),
        (_, TargetState::Failed { .. }) => ("FAILED (see detail)".to_string(), Color::Red),
    };
    let st = s.stats;
    let mut spans = vec![
        Span::styled(format!(" {label} "), Style::new().fg(Color::Black).bg(color)),
        Span::raw(format!(
            " frames {} ({:.0}/s) │ {} ({}/s) │ lost {} │ rejected {} ",
            st.frames,
            state.frames_per_sec,
            bytes(st.bytes),
            bytes(state.bytes_per_sec as u64),
            st.frames_lost_on_device,
            st.frames_rejected
        )),
    ];
    if let Some(notice) = &state.notice {
        spans.push(Span::styled(format!("│ {notice} "), Style::new().fg(Color::Yellow)));
    } else if let Some(id) = state.stop_sent.filter(|_| s.interrupt.is_none()) {
        spans.push(Span::styled(format!("│ stop #{id} sent… "), Style::new().fg(Color::Yellow)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The help's key column: " key" padded to this many characters.
const HELP_KEY_COLUMN: usize = 10;

fn render_help(frame: &mut Frame<'_>, area: Rect) {
    // As wide as the longest line (with the borders), or the screen; a line that does not fit
    // wraps under its description, never cut.
    let longest = KEYS.iter().map(|(_, what)| what.chars().count()).max().unwrap_or(0);
    let width = ((HELP_KEY_COLUMN + longest + 2) as u16).min(area.width);
    let text_width = usize::from(width.saturating_sub(2)).saturating_sub(HELP_KEY_COLUMN).max(8);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (key, what) in KEYS {
        for (i, part) in wrap_words(what, text_width).into_iter().enumerate() {
            let key = if i == 0 { format!(" {key:<9}") } else { " ".repeat(HELP_KEY_COLUMN) };
            lines.push(Line::from(vec![Span::raw(key).bold(), Span::raw(part)]));
        }
    }
    let height = (lines.len() as u16 + 3).min(area.height);
    let popup =
        Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    frame.render_widget(Clear, popup);
    lines.push(Line::from(" any key closes this help").fg(Color::DarkGray));
    let block = Block::new().borders(Borders::ALL).title(" Keys ").border_style(Style::new().fg(Color::Cyan));
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

/// `text` in lines of at most `width` characters, broken between words (a word longer than a line
/// is cut).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("never empty");
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(word.chars().take(width).collect());
        } else {
            if len > 0 {
                line.push(' ');
            }
            line.extend(word.chars().take(width - len.min(width)));
        }
    }
    lines
}

fn render_confirm(frame: &mut Frame<'_>, area: Rect, hard: bool) {
    let width = 46.min(area.width);
    let height = 4.min(area.height);
    let popup =
        Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    frame.render_widget(Clear, popup);
    let (question, title) = if hard {
        ("Drop every task now, without cleanup.", " Hard stop ")
    } else {
        ("The firmware will see KeyboardInterrupt.", " Stop ")
    };
    let text = vec![
        Line::from(question),
        Line::from(vec![
            Span::raw("Stop it? "),
            Span::raw("[y]es").bold(),
            Span::raw(" / "),
            Span::raw("[n]o").bold(),
        ]),
    ];
    let block = Block::new().borders(Borders::ALL).title(title).border_style(Style::new().fg(Color::Yellow));
    frame.render_widget(Paragraph::new(text).block(block), popup);
}

/// A duration in microseconds, in the unit that reads best, in at most six characters.
pub(crate) fn duration_us(us: u64) -> String {
    match us {
        0..1_000 => format!("{us}µs"),
        1_000..10_000 => format!("{:.1}ms", us as f64 / 1e3),
        10_000..1_000_000 => format!("{}ms", us / 1_000),
        1_000_000..10_000_000 => format!("{:.2}s", us as f64 / 1e6),
        10_000_000..3_600_000_000 => format!("{}s", us / 1_000_000),
        _ => format!("{}h", us / 3_600_000_000),
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
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

fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

/// A path shortened to its last two components, so it fits a column.
fn short_path(path: &str) -> String {
    let parts: Vec<&str> = path.rsplit('/').take(2).collect();
    if parts.len() < 2 || path.matches('/').count() < 2 {
        path.to_string()
    } else {
        format!("…/{}/{}", parts[1], parts[0])
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
