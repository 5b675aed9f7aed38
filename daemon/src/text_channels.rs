//! The firmware's text channels: every RTT up channel other than asyncmon's is read as text and
//! published as log lines, so the firmware's own logs show beside its tasks (only one tool can hold
//! a probe, so asyncmon must show them).

use crate::memory::TargetMemory;
use crate::rtt::{ControlBlock, RttError, UpChannel};
use asyncmon_protocol::host::{LogLine, LogSource, SessionEvent};
use std::time::Instant;

/// The longest line kept; longer ones are cut and marked.
const MAX_LINE: usize = 1024;

struct TextChannel {
    up: UpChannel,
    partial: Vec<u8>,
}

/// Readers for every text channel of a control block.
pub struct TextChannels {
    channels: Vec<TextChannel>,
    started: Instant,
}

impl TextChannels {
    /// Attaches to every up channel with a buffer except `skip` (the asyncmon channel).
    pub fn attach(mem: &mut dyn TargetMemory, block: &ControlBlock, skip: &str, started: Instant) -> Self {
        let channels = block
            .up
            .iter()
            .filter(|c| c.name != skip && c.buffer != 0)
            .filter_map(|c| UpChannel::attach(mem, c).ok())
            .map(|up| TextChannel { up, partial: Vec::new() })
            .collect();
        TextChannels { channels, started }
    }

    /// Reads every channel; complete lines become log events. Returns whether anything was read.
    pub fn read(
        &mut self,
        mem: &mut dyn TargetMemory,
        out: &mut Vec<SessionEvent>,
    ) -> Result<bool, RttError> {
        let mut any = false;
        for channel in &mut self.channels {
            let before = channel.partial.len();
            channel.up.read(mem, &mut channel.partial)?;
            any |= channel.partial.len() > before;
            while let Some(end) = channel.partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = channel.partial.drain(..=end).collect();
                let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
                out.push(self::line(self.started, text));
            }
            if channel.partial.len() > MAX_LINE {
                let text = format!("{}…", String::from_utf8_lossy(&channel.partial));
                channel.partial.clear();
                out.push(self::line(self.started, text));
            }
        }
        Ok(any)
    }
}

fn line(started: Instant, text: String) -> SessionEvent {
    SessionEvent::Log(LogLine {
        at_ms: started.elapsed().as_millis() as u64,
        source: LogSource::RttText,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtt::PointerWidth;

    #[test]
    fn lines_split_across_reads_come_out_whole_and_the_asyncmon_channel_is_skipped() {
        // The fake block's channel "up" is the text channel here; skip a name it does not have.
        let mut mem = crate::rtt::channel_tests_support::fake_rtt(PointerWidth::Eight, 32, 8);
        let block = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Eight).unwrap();
        let desc = block.up_channel("up").unwrap().clone();
        let mut text = TextChannels::attach(&mut mem, &block, "asyncmon", Instant::now());
        let mut skipped = TextChannels::attach(&mut mem, &block, "up", Instant::now());
        assert!(skipped.channels.is_empty());
        let mut events = Vec::new();
        crate::rtt::channel_tests_support::target_writes(&mut mem, &desc, b"blinky: on\nblin");
        text.read(&mut mem, &mut events).unwrap();
        crate::rtt::channel_tests_support::target_writes(&mut mem, &desc, b"ky: off\r\n");
        text.read(&mut mem, &mut events).unwrap();
        let lines: Vec<_> = events
            .iter()
            .map(|e| match e {
                SessionEvent::Log(l) => l.text.clone(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(lines, ["blinky: on", "blinky: off"]);
        assert!(!skipped.read(&mut mem, &mut events).unwrap());
    }
}
