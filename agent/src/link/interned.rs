//! Short ids for static strings: the first time a task name, file path or type name is sent, a
//! `DefineText` frame gives it an id, and later frames carry only the id.
//!
//! The table is a static of its own, apart from the link's state, so that firmware that interns
//! nothing (an observer of embassy, whose frames carry no strings) does not keep it.

use super::channel::Link;
use asyncmon_protocol::device::{DeviceMessage, Text};
use core::cell::RefCell;
use critical_section::Mutex;

/// How many static strings get short ids; later ones travel as plain references.
pub(crate) const MAX_INTERNED: usize = 64;

/// Interned strings by (address, length); the index is the id.
static INTERNED: Mutex<RefCell<heapless::Vec<(usize, usize), MAX_INTERNED>>> =
    Mutex::new(RefCell::new(heapless::Vec::new()));

/// A short reference to `s`: its id, defining it first when it is new. Falls back to the plain
/// static reference when the table is full or the definition could not be written, so the host can
/// always resolve what it gets.
pub(crate) fn intern(link: &mut Link, s: &'static str) -> Text<'static> {
    let key = (s.as_ptr() as usize, s.len());
    critical_section::with(|cs| {
        let mut interned = INTERNED.borrow_ref_mut(cs);
        if let Some(id) = interned.iter().position(|k| *k == key) {
            return Text::Interned(id as u16);
        }
        if interned.is_full() {
            return Text::from_static(s);
        }
        let id = interned.len() as u16;
        if link.send(&DeviceMessage::DefineText { id, text: Text::from_static(s) }) {
            let _ = interned.push(key);
            Text::Interned(id)
        } else {
            Text::from_static(s)
        }
    })
}

/// Forgets every id (the host that knew them is gone, or lost their definitions).
pub(crate) fn forget() {
    critical_section::with(|cs| INTERNED.borrow_ref_mut(cs).clear());
}
