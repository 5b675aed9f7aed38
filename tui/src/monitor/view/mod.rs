//! Rendering the monitor: a pure function of [`MonitorState`] (its clock included). No I/O.
//!
//! Layout, top to bottom: a title line, the task table (warnings first), the failure list beside
//! the selected failure's detail, the firmware's output and the link's problems, and a status line.
//! `l` gives the logs the whole middle; Enter opens the selected item's detail over everything.
//!
//! One file a part of the screen (as tokio-console's `view/`): [`task_pane`] (the task table and the
//! spawn tree), [`failures`] (the failure list and its detail), [`logs`], [`help`] (the key help and
//! the stop confirmation), and [`format`] (durations, sizes, paths in few characters).

mod detail;
mod failures;
mod format;
mod help;
mod logs;
mod palette;
mod task_pane;

use crate::monitor::input::KEY_HINT;
use crate::monitor::state::{Connection, MonitorState, Overlay};
use asyncmon_protocol::host::{Executor, TargetState, TaskOutcome, TaskState};
pub(crate) use failures::detail_lines;
use failures::{render_detail, render_failures};
pub(crate) use format::duration_us;
use format::{bytes, short_path};
use help::{render_confirm, render_help};
use logs::render_logs;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use task_pane::render_tasks;

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
    match state.overlay {
        Overlay::Detail => detail::render_detail_overlay(frame, frame.area(), state),
        Overlay::ConfirmStop { hard } => {
            render_confirm(frame, frame.area(), hard, state.session.executor == Executor::Embassy)
        }
        Overlay::Help => render_help(frame, frame.area()),
        Overlay::Filter | Overlay::None => {}
    }
}

fn render_title(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let s = &state.session;
    let executor = match (s.executor, s.executor_load) {
        (Executor::Agent, _) => String::new(),
        (Executor::Embassy, None) => " embassy │".to_string(),
        (Executor::Embassy, Some(load)) => format!(" embassy, idle {:.0}% │", load.idle_percent()),
    };
    let firmware = match &s.firmware {
        Some(fw) => format!("{} {} │ epoch {} │{executor}", fw.name, fw.build_id, s.epoch),
        None if executor.is_empty() => "no firmware hello yet".to_string(),
        None => format!("no firmware hello yet │{executor}"),
    };
    let line = Line::from(vec![
        Span::styled(" asyncmon ", Style::new().add_modifier(Modifier::BOLD).reversed()),
        Span::raw(format!(" {firmware} {}: {}", s.target.backend, short_path(&s.target.name))),
    ]);
    let hint = if state.filtering() || !state.filter.is_empty() {
        let cursor = if state.filtering() { "▏" } else { "" };
        Line::from(format!("filter: {}{cursor} ", state.filter)).fg(palette::NOTICE).right_aligned()
    } else {
        Line::from(KEY_HINT).fg(palette::MUTED).right_aligned()
    };
    let keys = hint;
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(keys.width() as u16 + 1)]).areas(area);
    frame.render_widget(Paragraph::new(line), left);
    frame.render_widget(Paragraph::new(keys), right);
}

fn pane_block(title: String, focused: bool) -> Block<'static> {
    let style = if focused { Style::new().fg(palette::FOCUS) } else { Style::new() };
    Block::new().borders(Borders::ALL).border_style(style).title(title)
}

/// A task state's word and colour.
pub(crate) fn state_label(state: TaskState) -> (&'static str, Style) {
    match state {
        TaskState::Running => ("running", Style::new().fg(palette::GOOD)),
        TaskState::Finished(TaskOutcome::Completed) => ("done", Style::new().fg(palette::MUTED)),
        TaskState::Finished(TaskOutcome::Failed) => ("failed", Style::new().fg(palette::FAILURE)),
        TaskState::Finished(TaskOutcome::Cancelled) => ("cancelled", Style::new().fg(palette::NOTICE)),
        TaskState::Finished(TaskOutcome::FailedDuringCleanup) => {
            ("cleanup✗", Style::new().fg(palette::FAILURE))
        }
        TaskState::Finished(TaskOutcome::DroppedAtDeadline) => ("dropped", Style::new().fg(palette::FAILURE)),
        TaskState::Gone => ("gone", Style::new().fg(palette::MUTED)),
        TaskState::Halted => ("halted", Style::new().fg(palette::FAILURE)),
    }
}

fn render_status(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let s = &state.session;
    let (label, color) = match (&state.connection, &s.target_state) {
        (Connection::Lost(reason), _) => (format!("DISCONNECTED: {reason}"), palette::FAILURE),
        (_, TargetState::Starting) => ("STARTING".to_string(), palette::NOTICE),
        (_, TargetState::WaitingForControlBlock) => ("WAITING FOR RTT".to_string(), palette::NOTICE),
        (_, TargetState::Attached) => ("ATTACHED".to_string(), palette::GOOD),
        (_, TargetState::Exited { description, .. }) => (format!("EXITED: {description}"), palette::NOTICE),
        (_, TargetState::Failed { .. }) => ("FAILED (see detail)".to_string(), palette::FAILURE),
        (_, TargetState::Halted { reason }) => (format!("HALTED: {reason}"), palette::FAILURE),
    };
    let st = s.stats;
    let mut spans = vec![
        Span::styled(format!(" {label} "), Style::new().fg(palette::ON_BADGE).bg(color)),
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
        spans.push(Span::styled(format!("│ {notice} "), Style::new().fg(palette::NOTICE)));
    } else if let Some(answer) = &s.stop_handled {
        spans.push(Span::styled(format!("│ {answer} "), Style::new().fg(palette::NOTICE)));
    } else if let Some(id) = state.stop_sent.filter(|_| s.interrupt.is_none()) {
        spans.push(Span::styled(format!("│ stop #{id} sent… "), Style::new().fg(palette::NOTICE)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
