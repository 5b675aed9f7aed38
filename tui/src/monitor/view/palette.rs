//! The monitor's colours, named by what they mean, in one place: a pane says "a failure" or "muted",
//! never "red", so the screen stays consistent and one change recolours it.

use ratatui::style::Color;

/// A failure, a fault, an error: failed tasks, exceptions, error log lines, a lost daemon.
pub const FAILURE: Color = Color::Red;
/// Something to notice: warnings, a cancel, an exit, the filter, the stop dialog.
pub const NOTICE: Color = Color::Yellow;
/// Healthy: running tasks, an attached target, info log lines.
pub const GOOD: Color = Color::Green;
/// Secondary text: times, ids, paths, hints, finished tasks.
pub const MUTED: Color = Color::DarkGray;
/// The focused pane's border, the help's, the detail's.
pub const FOCUS: Color = Color::Cyan;
/// Text on a coloured badge (the target's state in the title).
pub const ON_BADGE: Color = Color::Black;
