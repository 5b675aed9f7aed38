//! Keys to actions. Every key the monitor knows is listed in [`KEYS`], which the help shows.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the monitor.
    Quit,
    /// Move the selection up.
    Up,
    /// Move the selection down.
    Down,
    /// Move on: tasks, failures, the logs full screen, tasks again.
    NextPane,
    /// Ask to stop the firmware (asks for confirmation first; during a shutdown, a hard stop).
    Stop,
    /// Answer yes to the open question.
    Confirm,
    /// Answer no / close the open question.
    Cancel,
    /// Show or hide the help.
    Help,
    /// Start typing a filter.
    StartFilter,
    /// A character of the filter.
    FilterChar(char),
    /// Delete the filter's last character.
    FilterBackspace,
    /// Stop typing the filter (it stays applied).
    EndFilter,
    /// Switch the task pane between the table and the spawn tree.
    ToggleTree,
    /// Sort the task table by the next column.
    NextSort,
    /// Reverse the task table's order.
    ReverseSort,
    /// Open (or close) the detail of the selected task or failure; answers yes to a question.
    Detail,
    /// Show the logs full screen, or go back.
    ToggleLogs,
}

/// The keys and what they do, for the help.
pub const KEYS: &[(&str, &str)] = &[
    ("↑↓ / j k", "move the selection"),
    ("Tab", "tasks → failures → logs (full screen) → tasks"),
    ("Enter", "detail of the selected task or failure (Esc closes)"),
    ("t", "tasks as a table or as the spawn tree"),
    ("o / O", "sort tasks by the next column / reverse the order"),
    ("l", "the firmware's logs full screen, or back"),
    ("/", "filter tasks, failures and logs by text (Enter or Esc ends typing)"),
    ("s", "stop the firmware: KeyboardInterrupt (during a shutdown: hard stop)"),
    ("y / n", "answer a question"),
    ("?", "this help"),
    ("q", "quit"),
];

/// The short key list for the title line.
pub const KEY_HINT: &str = "? help · s stop · q quit";

/// The action for `key`; `filtering` when the user is typing a filter.
pub fn action(key: KeyEvent, filtering: bool) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if filtering {
        return match key.code {
            KeyCode::Enter | KeyCode::Esc => Some(Action::EndFilter),
            KeyCode::Backspace => Some(Action::FilterBackspace),
            KeyCode::Char(c) => Some(Action::FilterChar(c)),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Tab | KeyCode::BackTab => Action::NextPane,
        KeyCode::Char('s') => Action::Stop,
        KeyCode::Char('y') => Action::Confirm,
        KeyCode::Enter => Action::Detail,
        KeyCode::Char('o') => Action::NextSort,
        KeyCode::Char('O') => Action::ReverseSort,
        KeyCode::Char('l') => Action::ToggleLogs,
        KeyCode::Char('n') | KeyCode::Esc => Action::Cancel,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Char('t') => Action::ToggleTree,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn vim_keys_and_arrows_move_and_ctrl_c_quits() {
        assert_eq!(action(key(KeyCode::Char('j')), false), Some(Action::Down));
        assert_eq!(action(key(KeyCode::Up), false), Some(Action::Up));
        assert_eq!(
            action(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL), false),
            Some(Action::Quit)
        );
        assert_eq!(action(key(KeyCode::Char('x')), false), None);
    }

    #[test]
    fn while_filtering_letters_are_text_not_commands() {
        assert_eq!(action(key(KeyCode::Char('q')), true), Some(Action::FilterChar('q')));
        assert_eq!(action(key(KeyCode::Esc), true), Some(Action::EndFilter));
        assert_eq!(action(key(KeyCode::Backspace), true), Some(Action::FilterBackspace));
    }

    #[test]
    fn the_help_lists_every_key_that_does_something() {
        // Every one-character key in the help does something ("y / n" checks y).
        for (k, _) in KEYS {
            let first = k.split(' ').next().unwrap();
            let mut chars = first.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                assert!(action(key(KeyCode::Char(c)), false).is_some(), "{k}");
            }
        }
        assert_eq!(action(key(KeyCode::Tab), false), Some(Action::NextPane));
    }
}
