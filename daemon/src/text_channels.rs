//! The firmware's log channels: every RTT up channel other than asyncmon's is read and published as
//! log lines, so the firmware's own logs show beside its tasks (only one tool can hold a probe, so
//! asyncmon must show them). The channel named "defmt" is decoded with the ELF's defmt table; the
//! others are text.

use crate::backend::Sink;
use crate::defmt_logs::{DefmtLogs, TableLoad, DEFMT_CHANNEL};
use crate::memory::TargetMemory;
use crate::rtt::{ChannelDescriptor, ControlBlock, RttError, UpChannel};
use asyncmon_protocol::host::{LogLine, LogSource, Problem, SessionEvent};
use std::time::{Duration, Instant};

/// The longest line kept; longer ones are cut and marked.
const MAX_LINE: usize = 1024;
/// How long a log channel that made no sense is left alone before it is looked at again.
const RETRY_BROKEN: Duration = Duration::from_millis(500);

/// How a channel's bytes become lines.
enum Decoding {
    /// Text: the bytes after the last newline.
    Text(Vec<u8>),
    /// defmt frames.
    Defmt(DefmtLogs),
}

struct TextChannel {
    desc: ChannelDescriptor,
    /// `None` while the channel makes no sense (its offsets outside its buffer, say): the other
    /// channels, asyncmon's first, go on without it.
    up: Option<UpChannel>,
    retry_at: Instant,
    decoding: Decoding,
}

/// Readers for every log channel of a control block.
pub struct TextChannels {
    channels: Vec<TextChannel>,
    started: Instant,
}

impl TextChannels {
    /// Attaches to every up channel with a buffer of `blocks` (asyncmon's control block and the
    /// firmware's own) except `skip` (the asyncmon channel). The "defmt" channel is decoded with the
    /// table `defmt` is reading from the firmware's ELF.
    pub fn attach(
        mem: &mut dyn TargetMemory,
        blocks: &[&ControlBlock],
        skip: &str,
        started: Instant,
        defmt: &TableLoad,
    ) -> Self {
        let channels = blocks
            .iter()
            .flat_map(|block| block.up.iter())
            .filter(|c| c.name != skip && c.buffer != 0)
            .map(|desc| {
                let decoding = if desc.name == DEFMT_CHANNEL {
                    Decoding::Defmt(DefmtLogs::new(defmt.clone()))
                } else {
                    Decoding::Text(Vec::new())
                };
                let up = UpChannel::attach(mem, desc).ok();
                TextChannel { desc: desc.clone(), up, retry_at: Instant::now() + RETRY_BROKEN, decoding }
            })
            .collect();
        TextChannels { channels, started }
    }

    /// Reads every channel; complete lines become log events. A channel that makes no sense is
    /// reported once (as a problem event), skipped, and read again once it is sane. Returns
    /// whether anything was read.
    pub fn read(&mut self, mem: &mut dyn TargetMemory, out: &mut Vec<SessionEvent>) -> bool {
        let now = Instant::now();
        let at_ms = self.started.elapsed().as_millis() as u64;
        let mut any = false;
        let mut bytes = Vec::new();
        for channel in &mut self.channels {
            if channel.up.is_none() {
                if now < channel.retry_at {
                    continue;
                }
                match UpChannel::attach(mem, &channel.desc) {
                    Ok(up) => {
                        channel.up = Some(up);
                        out.push(problem(
                            at_ms,
                            format!("RTT log channel {:?} is readable again", channel.desc.name),
                        ));
                    }
                    Err(_) => {
                        channel.retry_at = now + RETRY_BROKEN;
                        continue;
                    }
                }
            }
            let Some(up) = channel.up.as_mut() else { continue };
            let result = match &mut channel.decoding {
                Decoding::Text(partial) => {
                    let before = partial.len();
                    let result = up.read(mem, partial);
                    any |= partial.len() > before;
                    while let Some(end) = partial.iter().position(|&b| b == b'\n') {
                        let line: Vec<u8> = partial.drain(..=end).collect();
                        let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
                        out.push(self::line(at_ms, text));
                    }
                    if partial.len() > MAX_LINE {
                        let text = format!("{}…", String::from_utf8_lossy(partial));
                        partial.clear();
                        out.push(self::line(at_ms, text));
                    }
                    result
                }
                Decoding::Defmt(logs) => {
                    bytes.clear();
                    let result = up.read(mem, &mut bytes);
                    any |= !bytes.is_empty();
                    logs.push(&bytes, at_ms, out);
                    result
                }
            };
            if let Err(e) = result {
                // Unreadable memory means the target is going: asyncmon's own channel says so.
                if !matches!(e, RttError::Memory { .. }) {
                    out.push(problem(
                        at_ms,
                        format!(
                            "RTT log channel {:?}: {e}; its lines are skipped until it is sane again",
                            channel.desc.name
                        ),
                    ));
                }
                channel.up = None;
                channel.retry_at = now + RETRY_BROKEN;
            }
        }
        any
    }
}

impl TextChannels {
    /// The target is gone: defmt lines still waiting for their table (a debug build's takes
    /// seconds to read) are decoded when it is there, on a thread of their own, and published to
    /// `sink` with the time they arrived. Nothing read from the target is dropped.
    pub fn finish_in_background(self, sink: Sink) {
        let waiting: Vec<DefmtLogs> = self
            .channels
            .into_iter()
            .filter_map(|c| match c.decoding {
                Decoding::Defmt(logs) if logs.is_waiting() => Some(logs),
                _ => None,
            })
            .collect();
        if waiting.is_empty() {
            return;
        }
        let started = self.started;
        let _ = std::thread::Builder::new().name("asyncmon-defmt-finish".into()).spawn(move || {
            for logs in waiting {
                for event in logs.finish(std::time::Duration::from_secs(120), started) {
                    sink.publish(event);
                }
            }
        });
    }
}

fn problem(at_ms: u64, text: String) -> SessionEvent {
    SessionEvent::Problem(Problem { at_ms, text })
}

fn line(at_ms: u64, text: String) -> SessionEvent {
    SessionEvent::Log(LogLine::plain(at_ms, LogSource::RttText, text))
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
        let no_defmt = TableLoad::ready(Ok(None));
        let mut text = TextChannels::attach(&mut mem, &[&block], "asyncmon", Instant::now(), &no_defmt);
        let mut skipped = TextChannels::attach(&mut mem, &[&block], "up", Instant::now(), &no_defmt);
        assert!(skipped.channels.is_empty());
        let mut events = Vec::new();
        crate::rtt::channel_tests_support::target_writes(&mut mem, &desc, b"blinky: on\nblin");
        text.read(&mut mem, &mut events);
        crate::rtt::channel_tests_support::target_writes(&mut mem, &desc, b"ky: off\r\n");
        text.read(&mut mem, &mut events);
        let lines: Vec<_> = events
            .iter()
            .map(|e| match e {
                SessionEvent::Log(l) => l.text.clone(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(lines, ["blinky: on", "blinky: off"]);
        assert!(!skipped.read(&mut mem, &mut events));
    }

    #[test]
    fn a_log_channel_that_makes_no_sense_is_said_once_skipped_and_read_again_when_sane() {
        let mut mem = crate::rtt::channel_tests_support::fake_rtt(PointerWidth::Four, 32, 8);
        let block = ControlBlock::read(&mut mem, 0x1000, PointerWidth::Four).unwrap();
        let desc = block.up_channel("up").unwrap().clone();
        let no_defmt = TableLoad::ready(Ok(None));
        let mut text = TextChannels::attach(&mut mem, &[&block], "asyncmon", Instant::now(), &no_defmt);
        let texts = |events: &[SessionEvent]| -> Vec<String> {
            events
                .iter()
                .map(|e| match e {
                    SessionEvent::Log(l) => l.text.clone(),
                    SessionEvent::Problem(p) => format!("problem: {}", p.text),
                    _ => panic!(),
                })
                .collect()
        };
        let mut events = Vec::new();
        PointerWidth::Four.write(&mut mem, desc.write_offset_addr(), 4000).unwrap();
        text.read(&mut mem, &mut events);
        text.read(&mut mem, &mut events);
        let said = texts(&events);
        assert_eq!(said.len(), 1, "said once: {said:?}");
        assert!(
            said[0].contains(r#"RTT log channel "up""#) && said[0].contains("write offset 4000"),
            "{said:?}"
        );
        // Sane again: the channel is looked at after a while and its lines flow.
        PointerWidth::Four.write(&mut mem, desc.write_offset_addr(), 0).unwrap();
        crate::rtt::channel_tests_support::target_writes(&mut mem, &desc, b"back\n");
        events.clear();
        std::thread::sleep(RETRY_BROKEN);
        text.read(&mut mem, &mut events);
        let said = texts(&events);
        assert!(said[0].contains("readable again") && said[1] == "back", "{said:?}");
    }
}
