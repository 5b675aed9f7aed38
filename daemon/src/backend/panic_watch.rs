//! Seeing that the firmware panicked, for the pump: the agent's panic frame, or the line of a panic
//! handler that is not asyncmon's (panic-probe's defmt line, [`crate::panic_line`]) — then the task
//! that was running is read from target memory (the observer keeps its id in
//! [`RUNNING_TASK_SYMBOL`]) and the panic becomes the session's failure, as the agent's frame does.
//! Either way the firmware has halted: the pump says so ([`TargetState::Halted`]) and sends it
//! nothing more until a reset or a new hello.

use super::elf::symbol_address;
use super::traces::DebugElf;
use crate::device_link::DeviceLink;
use crate::memory::TargetMemory;
use crate::panic_line::panic_in;
use asyncmon_protocol::device::{NO_RUNNING_TASK, RUNNING_TASK_SYMBOL};
use asyncmon_protocol::host::{wording, FailurePath, SessionEvent, TargetState};

/// Whether the firmware halted, and how it was seen.
#[derive(Debug, Default)]
pub struct PanicWatch {
    halted: bool,
}

impl PanicWatch {
    /// Whether the firmware halted (a panic was seen since the link opened or it last said hello).
    pub fn halted(&self) -> bool {
        self.halted
    }

    /// The target was reset, or the link opened anew: whatever halted is gone.
    pub fn forget(&mut self) {
        self.halted = false;
    }

    /// Looks at the log lines in `events`: the first panic line of a firmware that had not halted
    /// becomes its panic failure, named after the task that was running (read through `mem` with
    /// `elf`'s symbols), and is appended to `events` after the lines.
    pub fn logs(
        &mut self,
        events: &mut Vec<SessionEvent>,
        link: &mut DeviceLink,
        mem: &mut dyn TargetMemory,
        elf: Option<&DebugElf>,
    ) {
        if self.halted {
            return;
        }
        let panic = events.iter().find_map(|event| match event {
            SessionEvent::Log(line) => panic_in(line),
            _ => None,
        });
        if let Some(panic) = panic {
            let task = elf.and_then(|elf| running_task(elf, mem));
            events.push(link.panic_seen(&panic, task, mem));
        }
    }

    /// Looks at the events about to be published: after a panic (a failure on the panic path) the
    /// halt follows it, in words; a new hello ends the halt (the firmware restarted by itself).
    /// Returns the state to publish after `events`, if one changed.
    pub fn after(&mut self, events: &[SessionEvent]) -> Option<TargetState> {
        let mut state = None;
        for event in events {
            match event {
                SessionEvent::Failure(failure) if failure.path == FailurePath::Panic && !self.halted => {
                    self.halted = true;
                    state = Some(TargetState::Halted { reason: wording::halted_words(failure) });
                }
                SessionEvent::SessionStarted { .. } if self.halted => {
                    self.halted = false;
                    state = Some(TargetState::Attached);
                }
                _ => {}
            }
        }
        state
    }
}

/// The observed task being polled when the firmware halted, from target memory.
fn running_task(elf: &DebugElf, mem: &mut dyn TargetMemory) -> Option<u32> {
    let at = symbol_address(&elf.path, RUNNING_TASK_SYMBOL).ok().flatten()?.wrapping_add(elf.bias);
    let mut bytes = [0u8; 4];
    mem.read(at, &mut bytes).ok()?;
    Some(u32::from_le_bytes(bytes)).filter(|&task| task != NO_RUNNING_TASK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncmon_protocol::host::{Failure, LogLevel, LogLine, LogSource};

    fn panic_failure() -> SessionEvent {
        SessionEvent::Failure(Failure {
            seq: 1,
            epoch: 1,
            at_ms: 0,
            message: "the firmware panicked".into(),
            exception: None,
            task: None,
            path: FailurePath::Panic,
        })
    }

    #[test]
    fn a_panic_halts_once_and_a_new_hello_ends_the_halt() {
        let mut watch = PanicWatch::default();
        let halted = watch.after(&[panic_failure()]);
        assert_eq!(halted, Some(TargetState::Halted { reason: "panic".into() }));
        assert!(watch.halted());
        assert_eq!(watch.after(&[panic_failure()]), None, "said once");
        let hello = SessionEvent::SessionStarted {
            epoch: 2,
            firmware: asyncmon_protocol::host::FirmwareInfo {
                name: "fw".into(),
                build_id: "1".into(),
                protocol_version: 1,
            },
        };
        assert_eq!(watch.after(&[hello]), Some(TargetState::Attached));
        assert!(!watch.halted());
    }

    #[test]
    fn a_panic_line_becomes_the_panic_failure_once() {
        let mut watch = PanicWatch::default();
        let mut link = DeviceLink::new(std::time::Instant::now());
        let mut mem = crate::memory::FakeMemory { base: 0, bytes: Vec::new() };
        let line = LogLine {
            level: Some(LogLevel::Error),
            ..LogLine::plain(1, LogSource::Defmt, "panicked at src/main.rs:3:4:\nboom".into())
        };
        let mut events = vec![SessionEvent::Log(line.clone())];
        watch.logs(&mut events, &mut link, &mut mem, None);
        let Some(SessionEvent::Failure(failure)) = events.last() else { panic!("{events:?}") };
        assert_eq!(failure.path, FailurePath::Panic);
        assert_eq!(failure.exception.as_ref().unwrap().message, "boom");
        assert!(watch.after(&events).is_some());
        // Its tail (defmt's double print) is not a second panic.
        let mut events = vec![SessionEvent::Log(line)];
        watch.logs(&mut events, &mut link, &mut mem, None);
        assert_eq!(events.len(), 1);
    }
}
