//! Overlays: the key help and the stop confirmation.

use super::palette;
use crate::monitor::input::KEYS;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

/// The help's key column: " key" padded to this many characters.
const HELP_KEY_COLUMN: usize = 10;

pub(super) fn render_help(frame: &mut Frame<'_>, area: Rect) {
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
    lines.push(Line::from(" any key closes this help").fg(palette::MUTED));
    let block =
        Block::new().borders(Borders::ALL).title(" Keys ").border_style(Style::new().fg(palette::FOCUS));
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

pub(super) fn render_confirm(frame: &mut Frame<'_>, area: Rect, hard: bool, embassy: bool) {
    let width = 46.min(area.width);
    let height = 4.min(area.height);
    let popup =
        Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    frame.render_widget(Clear, popup);
    let (question, title) = match (hard, embassy) {
        // embassy tasks cannot be cancelled: the firmware's stop hook decides, if it has one.
        (_, true) => ("The firmware's stop hook runs (embassy).", " Stop "),
        (true, false) => ("Drop every task now, without cleanup.", " Hard stop "),
        (false, false) => ("The firmware will see KeyboardInterrupt.", " Stop "),
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
    let block =
        Block::new().borders(Borders::ALL).title(title).border_style(Style::new().fg(palette::NOTICE));
    frame.render_widget(Paragraph::new(text).block(block), popup);
}
