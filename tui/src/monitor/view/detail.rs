//! The detail overlay (Enter): everything known about the selected task or failure, over the whole
//! screen, so nothing is cut to fit a pane.

use super::palette;
use super::{detail_lines, duration_us, state_label};
use crate::monitor::state::{MonitorState, Pane};
use crate::monitor::tasks;
use asyncmon_protocol::host::wording::frame_words;
use asyncmon_protocol::host::{Task, TaskState};
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

/// Draws the detail of the selected task (task pane) or failure (failure pane) over `area`.
pub fn render_detail_overlay(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let popup = Rect {
        x: area.x + 2.min(area.width / 8),
        y: area.y + 1.min(area.height / 8),
        width: area.width.saturating_sub(4.min(area.width / 4)),
        height: area.height.saturating_sub(2.min(area.height / 4)),
    };
    let (title, lines) = match state.pane {
        Pane::Tasks => match state.task_rows().get(state.selected_task) {
            Some(task) => (format!(" Task {} #{} ", task.name, task.id), task_lines(state, task)),
            None => (" Task ".to_string(), vec![Line::from("No task selected.")]),
        },
        Pane::Failures => match state.failure_rows().get(state.selected_failure) {
            Some(failure) => (format!(" Failure #{} ", failure.seq), detail_lines(state, failure, true)),
            None => (" Failure ".to_string(), vec![Line::from("No failure selected.")]),
        },
    };
    frame.render_widget(Clear, popup);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(title)
        .title_bottom(Line::from(" Esc closes ").fg(palette::MUTED))
        .border_style(Style::new().fg(palette::FOCUS));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), popup);
}

fn task_lines(state: &MonitorState, task: &Task) -> Vec<Line<'static>> {
    let label = |l: &str| Span::styled(format!("{l:<14}"), Style::new().fg(palette::MUTED));
    let (word, style) = state_label(task.state);
    let mut lines = vec![
        Line::from(vec![label("state"), Span::styled(word, style)]),
        Line::from(vec![label("spawned at"), Span::raw(task.spawned_at.to_string())]),
    ];
    let chain: Vec<String> = state
        .session
        .spawn_chain(task.epoch, task.id)
        .iter()
        .map(|t| format!("{} #{}", t.name, t.id))
        .collect();
    lines.push(Line::from(vec![label("spawn chain"), Span::raw(chain.join(" ← "))]));
    lines.extend(trace_lines(state, task));
    if let Some(bytes) = task.storage_bytes {
        let text = match task.future_bytes {
            Some(used) => {
                format!("{used} of {bytes} bytes (its future or output; the rest of its storage is unused)")
            }
            None => format!("{bytes} bytes"),
        };
        lines.push(Line::from(vec![label("storage"), Span::raw(text)]));
    }
    match task.stats {
        Some(stats) => {
            lines.push(Line::from(vec![label("polls"), Span::raw(stats.polls.to_string())]));
            lines.push(Line::from(vec![label("busy"), Span::raw(duration_us(stats.busy_us))]));
            lines.push(Line::from(vec![
                label("longest poll"),
                Span::raw(duration_us(u64::from(stats.max_poll_us))),
            ]));
            lines.push(Line::from(vec![
                label("self-wakes"),
                Span::raw(format!("{} ({}% of polls)", stats.self_wakes, stats.self_wake_percent())),
            ]));
            if let Some(idle) = tasks::idle_us(task, &state.seen, state.now_ms) {
                lines.push(Line::from(vec![
                    label("last polled"),
                    Span::raw(format!("{} ago", duration_us(idle))),
                ]));
            }
        }
        None => lines.push(Line::from(vec![
            label("polls"),
            Span::raw("not sampled (enable the agent's task-stats feature)").fg(palette::MUTED),
        ])),
    }
    for warning in tasks::warnings(&state.session).iter().filter(|w| w.task == Some((task.epoch, task.id))) {
        lines.push(Line::from(format!("⚠ {}", warning.text)).fg(palette::NOTICE));
    }
    let failures: Vec<_> = state
        .session
        .failures
        .iter()
        .filter(|f| f.epoch == task.epoch && f.task.as_ref().is_some_and(|t| t.id == task.id))
        .collect();
    for failure in failures {
        let what = failure.exception.as_ref().map_or(failure.message.clone(), |e| e.message.clone());
        lines.push(Line::from(format!("failure #{}: {what}", failure.seq)).fg(palette::FAILURE));
    }
    lines
}

/// Where a running task waits: its await trace, outermost future first, and since when; or why
/// there is none.
fn trace_lines(state: &MonitorState, task: &Task) -> Vec<Line<'static>> {
    let label = |l: &str| Span::styled(format!("{l:<14}"), Style::new().fg(palette::MUTED));
    let session = &state.session;
    if task.state != TaskState::Running || task.epoch != session.epoch {
        return Vec::new();
    }
    let Some(trace) = session.trace(task.id) else {
        let why = session.traces.unavailable.clone().unwrap_or_else(|| "not read yet".into());
        return vec![Line::from(vec![label("waiting at"), Span::raw(why).fg(palette::MUTED)])];
    };
    let since = session.waiting_since(task.id).map(|since| session.traces.at_ms.saturating_sub(since));
    let mut lines = vec![Line::from(vec![
        label("waiting at"),
        Span::raw(match since {
            Some(ms) => format!("for {} (outermost first)", duration_us(ms * 1000)),
            None => "(outermost first)".into(),
        }),
    ])];
    for frame in &trace.frames {
        let indent = "  ".repeat(usize::from(frame.depth));
        lines.push(Line::from(format!("  {indent}└ {}", frame_words(frame, None))));
    }
    lines
}
