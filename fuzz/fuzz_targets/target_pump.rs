//! The target pump against a transport that does whatever the fuzzer says, in any order: works,
//! finds no block, finds a corrupt block, loses the target, cannot serve the firmware, returns
//! garbage or frames, exits, and stop and reset requests in between.
//!
//! Checked (by `scripted::play`): the pump never panics; it never publishes `Attached` while the
//! link is not open, and after the link breaks its first word is a state that is not `Attached`;
//! and once the transport behaves again, it recovers by itself (the firmware's hello arrives).

#![no_main]

use asyncmon_daemon::backend::scripted::{hello_frame, play, Step};
use asyncmon_daemon::backend::TargetCommand;
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let mut steps = Vec::new();
    let mut bytes = data.iter().copied();
    while let Some(op) = bytes.next() {
        if steps.len() >= 64 {
            break;
        }
        steps.push(match op % 10 {
            0 => Step::Fine,
            1 => Step::NotThere,
            2 => Step::Corrupt,
            3 => Step::Gone,
            4 => Step::Unusable,
            5 => Step::Exit,
            6 => {
                let len = usize::from(bytes.next().unwrap_or(0) % 32);
                Step::Bytes(bytes.by_ref().take(len).collect())
            }
            7 => Step::Bytes(hello_frame()),
            8 => Step::Command(TargetCommand::Stop { request_id: u32::from(op), hard: op & 0x80 != 0 }),
            _ => Step::Command(TargetCommand::Reset),
        });
    }
    let reset_relinks = data.first().is_some_and(|b| b & 1 == 1);
    play(steps, reset_relinks, Duration::from_secs(10));
});
