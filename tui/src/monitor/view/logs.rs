//! The log pane: the firmware's text and defmt lines and the link's problems, by time.

use super::failures::short_type;
use super::format::seconds;
use super::palette;
use crate::monitor::state::MonitorState;
use asyncmon_protocol::host::wording::interrupt_summary;
use asyncmon_protocol::host::{LogLevel, LogLine, LogSource};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

/// A firmware log line: arrival time, level (defmt), text, and the statement that logged it.
fn log_line(l: &LogLine) -> Line<'static> {
    let style =
        if l.source == LogSource::FirmwareStderr { Style::new().fg(palette::NOTICE) } else { Style::new() };
    let mut spans = vec![Span::styled(format!("{:>6} ", seconds(l.at_ms)), Style::new().fg(palette::MUTED))];
    if let Some(level) = l.level {
        let color = match level {
            LogLevel::Error => palette::FAILURE,
            LogLevel::Warn => palette::NOTICE,
            LogLevel::Info => palette::GOOD,
            LogLevel::Debug | LogLevel::Trace => palette::MUTED,
        };
        spans.push(Span::styled(format!("{:<5} ", level.as_str().to_uppercase()), Style::new().fg(color)));
    }
    spans.push(Span::styled(l.text.clone(), style));
    if let Some(at) = &l.location {
        let file = at.file.rsplit('/').next().unwrap_or(&at.file);
        spans.push(Span::styled(format!("  {file}:{}", at.line), Style::new().fg(palette::MUTED)));
    }
    Line::from(spans)
}

pub(super) fn render_logs(frame: &mut Frame<'_>, area: Rect, state: &MonitorState) {
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
                    Span::styled(format!("{:>6} ", seconds(f.at_ms)), Style::new().fg(palette::MUTED)),
                    Span::styled(format!("✗ {task} failed: {what}"), Style::new().fg(palette::FAILURE)),
                ]),
            )
        }))
        .chain(state.problem_rows().into_iter().map(|p| {
            (
                p.at_ms,
                Line::from(vec![
                    Span::styled(format!("{:>6} ", seconds(p.at_ms)), Style::new().fg(palette::MUTED)),
                    Span::styled(format!("⚠ {}", p.text), Style::new().fg(palette::FAILURE)),
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
        let summary =
            Paragraph::new(Line::from(summary).fg(palette::NOTICE).bold()).wrap(Wrap { trim: true });
        frame.render_widget(summary, top);
        log_area = rest;
    }
    let skip = entries.len().saturating_sub(usize::from(log_area.height));
    let lines: Vec<Line<'static>> = entries.into_iter().skip(skip).map(|(_, l)| l).collect();
    frame.render_widget(Paragraph::new(lines), log_area);
}
