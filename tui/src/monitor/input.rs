//! Keys to actions. Every key the monitor knows is listed in [`KEYS`], which the help line shows.

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
    /// Switch focus between the task table and the failure list.
    NextPane,
    /// Ask to stop the firmware (asks for confirmation first).
    Stop,
    /// Answer yes to the open question.
    Confirm,
    /// Answer no / close the open question.
    Cancel,
}

/// The keys and what they do, for the help line.
pub const KEYS: &[(&str, &str)] = &[("↑↓/jk", "move"), ("Tab", "pane"), ("s", "stop"), ("q", "quit")];

/// The action for `key`, if any.
pub fn action(key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Tab | KeyCode::BackTab => Action::NextPane,
        KeyCode::Char('s') => Action::Stop,
        KeyCode::Char('y') | KeyCode::Enter => Action::Confirm,
        KeyCode::Char('n') | KeyCode::Esc => Action::Cancel,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vim_keys_and_arrows_move_and_ctrl_c_quits() {
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        assert_eq!(action(key(KeyCode::Char('j'))), Some(Action::Down));
        assert_eq!(action(key(KeyCode::Up)), Some(Action::Up));
        assert_eq!(action(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(action(key(KeyCode::Char('x'))), None);
    }
}
