//! The failure pane: the list of failures and the selected one's detail.

use super::format::{seconds, short_path};
use super::palette;
use super::pane_block;
use crate::monitor::state::{MonitorState, Pane};
use crate::monitor::tasks;
use asyncmon_protocol::host::{Executor, Failure, FailurePath, TargetState};
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

pub(super) fn short_type(type_name: &str) -> &str {
    type_name.rsplit("::").next().unwrap_or(type_name)
}

pub(super) fn render_failures(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let failures = state.failure_rows();
    let session_warnings: Vec<String> = tasks::warnings(&state.session)
        .into_iter()
        .filter(|w| w.task.is_none())
        .map(|w| format!("⚠ {} ", w.text))
        .collect();
    let block = pane_block(format!(" Failures ({}) ", failures.len()), state.pane == Pane::Failures)
        .title_bottom(Line::from(session_warnings.concat()).fg(palette::NOTICE));
    let items: Vec<ListItem<'_>> = failures
        .iter()
        .map(|f| {
            let task = f.task.as_ref().map_or("-", |t| t.name.as_str());
            let kind = f.exception.as_ref().map_or("", |e| short_type(&e.type_name));
            let style = match f.path {
                FailurePath::Unretrieved | FailurePath::DuringShutdown | FailurePath::Panic => {
                    Style::new().fg(palette::FAILURE)
                }
                FailurePath::Awaited | FailurePath::Gathered => Style::new(),
            };
            // The number and the time never run together, however long either grows.
            let number = format!("#{}", f.seq);
            let time = seconds(f.at_ms);
            let gap = if number.len() >= 4 || time.len() >= 6 { " " } else { "" };
            ListItem::new(Line::from(vec![
                Span::styled(format!("{number:<4}{gap}"), Style::new().fg(palette::MUTED)),
                Span::raw(format!("{time:>6} ")),
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
    let label = |l: &str| Span::styled(format!("{l:<12}"), Style::new().fg(palette::MUTED));
    let mut lines = Vec::new();
    match &failure.exception {
        Some(e) => {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{}: ", short_type(&e.type_name)),
                    Style::new().fg(palette::FAILURE).bold(),
                ),
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

pub(super) fn render_detail(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
    let block = Block::new().borders(Borders::ALL).title(" Failure detail ");
    let lines = match state.failure_rows().get(state.selected_failure) {
        Some(failure) => detail_lines(state, failure, false),
        None => {
            let mut lines = vec![Line::from("No failures yet.").fg(palette::MUTED)];
            if state.session.executor == Executor::Embassy {
                // Said, not hidden: embassy tasks return `()`, so nothing else can fail.
                lines.push(Line::from("embassy executor: failures are panics").fg(palette::MUTED));
            }
            if let TargetState::Failed { reason } = &state.session.target_state {
                lines.push(Line::from(reason.clone()).fg(palette::FAILURE));
            }
            lines
        }
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}
