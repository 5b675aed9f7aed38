//! The firmware's defmt logs: the bytes of the RTT channel named "defmt", decoded with the table and
//! source locations in the firmware's ELF (`defmt-decoder`, the crate probe-rs uses), published as
//! log lines with their level, device timestamp and the statement that logged them.

use asyncmon_protocol::host::{Location, LogLevel, LogLine, LogSource, SessionEvent};
use defmt_decoder::{DecodeError, Encoding, Locations, Table};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The RTT up channel `rtt-target` puts defmt's frames on (the agent's `defmt` feature names it).
pub const DEFMT_CHANNEL: &str = "defmt";

/// The most undecoded bytes kept while waiting for a frame's end; more means the stream is not
/// defmt (or not this ELF's), and it is dropped.
const MAX_PENDING: usize = 64 * 1024;

/// The most bytes kept while the table is still being read (a debug build's DWARF takes seconds):
/// the channel is still drained, so the firmware drops nothing, and the lines come out once the
/// table is there.
const MAX_WAITING: usize = 4 * 1024 * 1024;

/// What reading a table gave: the table, no defmt in this firmware, or why it cannot be read.
pub type TableResult = Result<Option<Arc<DefmtTable>>, String>;

/// A firmware's defmt table, read on a thread of its own so that attaching never waits for it.
#[derive(Clone, Debug)]
pub struct TableLoad(Arc<OnceLock<TableResult>>);

impl TableLoad {
    /// Starts reading the table of the ELF at `path`.
    pub fn start(path: PathBuf) -> TableLoad {
        let load = TableLoad(Arc::new(OnceLock::new()));
        let cell = load.0.clone();
        let spawned = std::thread::Builder::new().name("asyncmon-defmt-table".into()).spawn(move || {
            let _ = cell.set(DefmtTable::from_path(&path));
        });
        if let Err(e) = spawned {
            let _ = load.0.set(Err(format!("cannot start reading the defmt table: {e}")));
        }
        load
    }

    /// A table that is already read.
    pub fn ready(result: TableResult) -> TableLoad {
        TableLoad(Arc::new(OnceLock::from(result)))
    }

    /// The table, once read.
    pub fn get(&self) -> Option<&TableResult> {
        self.0.get()
    }
}
/// What a firmware's ELF says about its defmt logs: the format strings and where each is logged.
/// Read once per ELF; every attach to that firmware decodes with it.
pub struct DefmtTable {
    table: Table,
    locations: Locations,
}

impl std::fmt::Debug for DefmtTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DefmtTable").field("locations", &self.locations.len()).finish_non_exhaustive()
    }
}

impl DefmtTable {
    /// Reads the defmt table and locations from `elf`. `Ok(None)` when the firmware does not use
    /// defmt (no `.defmt` section); an error when it does in a way asyncmon cannot decode.
    pub fn from_elf(elf: &[u8]) -> Result<Option<Arc<DefmtTable>>, String> {
        let table = match Table::parse(elf) {
            Ok(Some(table)) => table,
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("the firmware's defmt table cannot be read: {e}")),
        };
        if table.encoding() == Encoding::Raw {
            return Err(
                "the firmware uses defmt's raw encoding, which cannot be resynchronised after a lost byte; \
                 asyncmon decodes defmt's default (rzcobs): drop the `encoding-raw` feature"
                    .into(),
            );
        }
        // Without debug info the lines still decode; they just carry no location.
        let locations = table.get_locations(elf).unwrap_or_default();
        Ok(Some(Arc::new(DefmtTable { table, locations })))
    }

    /// Reads the ELF at `path` and its table (see [`DefmtTable::from_elf`]).
    pub fn from_path(path: &std::path::Path) -> Result<Option<Arc<DefmtTable>>, String> {
        let elf = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_elf(&elf)
    }
}

/// A decoder for one attach's defmt stream.
#[derive(Debug)]
pub struct DefmtLogs {
    table: TableLoad,
    /// Bytes after the last complete frame.
    pending: Vec<u8>,
    /// What arrived while the table was being read, with when it arrived.
    waiting: Vec<(u64, Vec<u8>)>,
    /// Whether the user was told that these logs cannot be shown.
    said_unreadable: bool,
}

impl DefmtLogs {
    /// A decoder that starts with nothing pending.
    pub fn new(table: TableLoad) -> DefmtLogs {
        DefmtLogs { table, pending: Vec::new(), waiting: Vec::new(), said_unreadable: false }
    }

    /// Takes the bytes read from the channel; every complete frame becomes a log line, stamped
    /// `at_ms`. A frame that does not decode becomes a line saying so: nothing disappears silently.
    pub fn push(&mut self, bytes: &[u8], at_ms: u64, out: &mut Vec<SessionEvent>) {
        let table = match self.table.get() {
            None => {
                let waiting: usize = self.waiting.iter().map(|(_, b)| b.len()).sum();
                if waiting + bytes.len() > MAX_WAITING {
                    out.push(Self::problem(at_ms, "defmt: 4 MiB arrived before the table was read; dropped"));
                    self.waiting.clear();
                }
                if !bytes.is_empty() {
                    self.waiting.push((at_ms, bytes.to_vec()));
                }
                return;
            }
            Some(Ok(Some(table))) => table.clone(),
            Some(Ok(None)) | Some(Err(_)) if self.said_unreadable => return,
            Some(Ok(None)) => {
                self.said_unreadable = true;
                self.waiting = Vec::new();
                let text = "the firmware has a defmt channel but its ELF has no .defmt table: defmt logs are not shown";
                return out.push(Self::problem(at_ms, text));
            }
            Some(Err(e)) => {
                self.said_unreadable = true;
                self.waiting = Vec::new();
                return out.push(Self::problem(at_ms, &format!("defmt logs are not shown: {e}")));
            }
        };
        // Lines that arrived while the table was read keep the time they arrived.
        for (arrived_ms, bytes) in std::mem::take(&mut self.waiting) {
            self.decode(&table, &bytes, arrived_ms, out);
        }
        self.decode(&table, bytes, at_ms, out);
    }

    /// Whether lines are waiting for the table.
    pub fn is_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Waits (at most `timeout`) for the table, then decodes what was waiting for it.
    pub fn finish(mut self, timeout: std::time::Duration, started: std::time::Instant) -> Vec<SessionEvent> {
        let deadline = std::time::Instant::now() + timeout;
        while self.table.get().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let mut out = Vec::new();
        self.push(&[], started.elapsed().as_millis() as u64, &mut out);
        out
    }

    fn decode(&mut self, table: &DefmtTable, bytes: &[u8], at_ms: u64, out: &mut Vec<SessionEvent>) {
        self.pending.extend_from_slice(bytes);
        // rzcobs frames end with a zero byte: decode up to the last one, keep the rest.
        let Some(last_end) = self.pending.iter().rposition(|&b| b == 0) else {
            if self.pending.len() > MAX_PENDING {
                self.pending.clear();
                out.push(Self::problem(at_ms, "defmt: 64 KiB without a frame end dropped"));
            }
            return;
        };
        let mut decoder = table.table.new_stream_decoder();
        decoder.received(&self.pending[..=last_end]);
        loop {
            match decoder.decode() {
                Ok(frame) => {
                    let location = table.locations.get(&frame.index()).map(|l| Location {
                        file: l.file.display().to_string(),
                        line: l.line as u32,
                        column: 0,
                    });
                    out.push(SessionEvent::Log(LogLine {
                        at_ms,
                        source: LogSource::Defmt,
                        text: frame.display_message().to_string(),
                        level: frame.level().and_then(|l| LogLevel::parse(l.as_str())),
                        location,
                        device_time: frame.display_timestamp().map(|t| t.to_string()),
                    }));
                }
                Err(DecodeError::UnexpectedEof) => break,
                Err(DecodeError::Malformed) => out.push(Self::problem(
                    at_ms,
                    "defmt: a frame that does not match the ELF's table was skipped",
                )),
            }
        }
        drop(decoder);
        self.pending.drain(..=last_end);
    }

    fn problem(at_ms: u64, text: &str) -> SessionEvent {
        SessionEvent::Log(LogLine {
            level: Some(LogLevel::Warn),
            ..LogLine::plain(at_ms, LogSource::Daemon, text.into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_elf_without_defmt_has_no_decoder() {
        // This test binary does not link defmt.
        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(DefmtTable::from_elf(&elf).unwrap().is_none());
    }

    #[test]
    fn a_file_that_is_not_an_elf_is_an_error_in_words() {
        let err = DefmtTable::from_elf(b"not an elf").unwrap_err();
        assert!(err.contains("defmt table cannot be read"), "{err}");
    }
}
