//! Recordings: a session's events with their times, in a file that can be replayed.
//!
//! Layout: the 8-byte magic `ASYNCMON`, then length-prefixed MessagePack records (a 4-byte
//! big-endian length, then the record): first a [`RecordingHeader`], then one [`RecordedEvent`] per
//! event. Events carry resolved strings (task names, files, messages) and the firmware's hello with
//! its build id, so a recording needs neither the target nor its ELF.
//!
//! A recording from elsewhere is untrusted input: [`RecordingReader`] checks the magic and version,
//! refuses records over [`MAX_RECORD_BYTES`], and names the record and byte offset of anything it
//! cannot read.

use super::messages::{SessionEvent, TargetDescription};
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::string::{String, ToString};

/// The first bytes of every recording.
pub const RECORDING_MAGIC: &[u8; 8] = b"ASYNCMON";
/// The recording format version this crate writes and reads.
pub const RECORDING_VERSION: u16 = 1;
/// The largest record a reader accepts.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// What a recording is of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingHeader {
    /// [`RECORDING_VERSION`].
    pub version: u16,
    /// The target the session was recorded from.
    pub target: TargetDescription,
    /// When the recording started, in milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
}

/// One event and when it happened, in milliseconds since the recording started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// Milliseconds since the recording started.
    pub at_ms: u64,
    /// The event.
    pub event: SessionEvent,
}

/// Why a recording could not be read.
#[derive(Debug)]
pub enum RecordingError {
    /// The file could not be read.
    Io(io::Error),
    /// The file does not start with the magic.
    NotARecording,
    /// The file was written by another format version.
    UnsupportedVersion(u16),
    /// A record claims more than [`MAX_RECORD_BYTES`].
    Oversized {
        /// Which record (the header is 0).
        record: u64,
        /// Its byte offset.
        offset: u64,
        /// The length it claims.
        len: usize,
    },
    /// A record could not be decoded.
    Malformed {
        /// Which record (the header is 0).
        record: u64,
        /// Its byte offset.
        offset: u64,
        /// What the decoder said.
        reason: String,
    },
    /// The file ends in the middle of a record.
    Truncated {
        /// Which record.
        record: u64,
        /// Its byte offset.
        offset: u64,
    },
}

impl core::fmt::Display for RecordingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RecordingError::Io(e) => write!(f, "cannot read the recording: {e}"),
            RecordingError::NotARecording => write!(f, "not an asyncmon recording (the file does not start with ASYNCMON)"),
            RecordingError::UnsupportedVersion(v) => write!(
                f,
                "the recording is format v{v}, this asyncmon reads v{RECORDING_VERSION}: replay it with the asyncmon that made it"
            ),
            RecordingError::Oversized { record, offset, len } => write!(
                f,
                "record {record} at byte {offset} claims {len} bytes (at most {MAX_RECORD_BYTES}): the file is damaged or not a recording"
            ),
            RecordingError::Malformed { record, offset, reason } => {
                write!(f, "record {record} at byte {offset} cannot be read: {reason}")
            }
            RecordingError::Truncated { record, offset } => {
                write!(f, "the recording ends in the middle of record {record} at byte {offset}")
            }
        }
    }
}

impl std::error::Error for RecordingError {}

/// Writes a recording.
pub struct RecordingWriter<W: Write> {
    out: W,
}

impl<W: Write> RecordingWriter<W> {
    /// Starts a recording on `out` with `header`.
    pub fn new(mut out: W, header: &RecordingHeader) -> io::Result<Self> {
        out.write_all(RECORDING_MAGIC)?;
        let mut writer = RecordingWriter { out };
        writer.record(header)?;
        Ok(writer)
    }

    /// Appends one event.
    pub fn write(&mut self, event: &RecordedEvent) -> io::Result<()> {
        self.record(event)
    }

    /// Flushes what was written.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn record<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        let bytes =
            super::encode(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        self.out.write_all(&(bytes.len() as u32).to_be_bytes())?;
        self.out.write_all(&bytes)
    }
}

/// Reads a recording, checking everything it reads.
pub struct RecordingReader<R: Read> {
    input: R,
    record: u64,
    offset: u64,
    /// The recording's header.
    pub header: RecordingHeader,
}

impl<R: Read> RecordingReader<R> {
    /// Reads the magic and the header.
    pub fn new(mut input: R) -> Result<Self, RecordingError> {
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic).map_err(|_| RecordingError::NotARecording)?;
        if &magic != RECORDING_MAGIC {
            return Err(RecordingError::NotARecording);
        }
        let mut reader = RecordingReader {
            input,
            record: 0,
            offset: 8,
            header: RecordingHeader {
                version: 0,
                target: TargetDescription { backend: String::new(), name: String::new() },
                started_unix_ms: 0,
            },
        };
        let header: RecordingHeader =
            reader.next_record()?.ok_or(RecordingError::Truncated { record: 0, offset: 8 })?;
        if header.version != RECORDING_VERSION {
            return Err(RecordingError::UnsupportedVersion(header.version));
        }
        reader.header = header;
        Ok(reader)
    }

    /// The next event, `None` at the end of the recording.
    pub fn next_event(&mut self) -> Result<Option<RecordedEvent>, RecordingError> {
        self.next_record()
    }

    fn next_record<T: serde::de::DeserializeOwned>(&mut self) -> Result<Option<T>, RecordingError> {
        let (record, offset) = (self.record, self.offset);
        let mut len = [0u8; 4];
        match read_full(&mut self.input, &mut len)? {
            0 => return Ok(None),
            4 => {}
            _ => return Err(RecordingError::Truncated { record, offset }),
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_RECORD_BYTES {
            return Err(RecordingError::Oversized { record, offset, len });
        }
        let mut bytes = std::vec![0; len];
        if read_full(&mut self.input, &mut bytes)? != len {
            return Err(RecordingError::Truncated { record, offset });
        }
        self.record += 1;
        self.offset += 4 + len as u64;
        super::decode(&bytes).map(Some).map_err(|e| RecordingError::Malformed { record, offset, reason: e.0 })
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, RecordingError> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(RecordingError::Io(e)),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{LogLine, LogSource, TargetState};
    use std::vec::Vec;

    fn header() -> RecordingHeader {
        RecordingHeader {
            version: RECORDING_VERSION,
            target: TargetDescription { backend: "sim".into(), name: "demo".into() },
            started_unix_ms: 1,
        }
    }

    fn recording(events: &[RecordedEvent]) -> Vec<u8> {
        let mut writer = RecordingWriter::new(Vec::new(), &header()).unwrap();
        for e in events {
            writer.write(e).unwrap();
        }
        writer.out
    }

    fn events() -> Vec<RecordedEvent> {
        std::vec![
            RecordedEvent { at_ms: 0, event: SessionEvent::TargetState(TargetState::Attached) },
            RecordedEvent {
                at_ms: 5,
                event: SessionEvent::Log(LogLine::plain(5, LogSource::FirmwareStdout, "hi".into())),
            },
        ]
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<RecordedEvent>, RecordingError> {
        let mut reader = RecordingReader::new(bytes)?;
        let mut out = Vec::new();
        while let Some(e) = reader.next_event()? {
            out.push(e);
        }
        Ok(out)
    }

    #[test]
    fn events_come_back_as_written() {
        assert_eq!(read_all(&recording(&events())).unwrap(), events());
    }

    #[test]
    fn a_file_that_is_not_a_recording_says_so() {
        let err = read_all(b"{\"not\": \"a recording\"}").unwrap_err();
        assert_eq!(err.to_string(), "not an asyncmon recording (the file does not start with ASYNCMON)");
    }

    #[test]
    fn a_cut_file_names_the_record_and_offset() {
        let bytes = recording(&events());
        let err = read_all(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(matches!(err, RecordingError::Truncated { record: 2, .. }), "{err}");
    }

    #[test]
    fn an_oversized_record_is_refused_before_it_is_read() {
        let mut bytes = recording(&[]);
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        let err = read_all(&bytes).unwrap_err();
        assert!(err.to_string().contains("claims 4294967295 bytes"), "{err}");
    }

    #[test]
    fn garbage_in_a_record_is_malformed_not_a_panic() {
        let mut bytes = recording(&[]);
        bytes.extend_from_slice(&4u32.to_be_bytes());
        bytes.extend_from_slice(&[0xc1, 0xc1, 0xc1, 0xc1]);
        let err = read_all(&bytes).unwrap_err();
        assert!(matches!(err, RecordingError::Malformed { record: 1, .. }), "{err}");
    }

    #[test]
    fn another_format_version_is_named() {
        let mut h = header();
        h.version = 9;
        let writer = RecordingWriter::new(Vec::new(), &h).unwrap();
        let err = read_all(&writer.out).unwrap_err();
        assert!(err.to_string().contains("format v9, this asyncmon reads v1"), "{err}");
    }
}
