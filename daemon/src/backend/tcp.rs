//! The TCP RTT transport: the asyncmon channel's bytes as served by an RTT TCP server (OpenOCD's
//! `rtt server start PORT 0`, J-Link's RTT telnet port, probe-rs's), stop requests written back to
//! it (servers that carry the down channel forward them). Static strings are resolved from the
//! firmware's ELF. A server that goes away is reconnected by the pump, with backoff.

use super::error::TargetError;
use super::process::Exit;
use super::sink::Sink;
use super::transport::{AfterReset, Timing, Transport};
use crate::elf_memory::ElfMemory;
use crate::memory::TargetMemory;
use asyncmon_protocol::host::{SessionEvent, TargetDescription};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How to reach an RTT TCP server.
#[derive(Debug, Clone)]
pub struct TcpConfig {
    /// `HOST:PORT` of the server (loopback, usually).
    pub addr: String,
    /// The firmware's ELF, for string references.
    pub elf: PathBuf,
    /// The first wait before reconnecting; it doubles up to the pump's longest wait.
    pub initial_backoff: Duration,
}

/// How long one read waits for the server (the pump's only wait while it is quiet).
const READ_WAIT: Duration = Duration::from_millis(20);

/// The RTT TCP server transport.
pub struct Tcp {
    config: TcpConfig,
    strings: ElfMemory,
    stream: Option<TcpStream>,
    started: Instant,
}

impl Tcp {
    /// A transport for `config`, resolving strings from `strings` (the firmware's ELF).
    pub fn new(config: TcpConfig, strings: ElfMemory) -> Self {
        Tcp { config, strings, stream: None, started: Instant::now() }
    }

    fn gone(&self, what: impl std::fmt::Display) -> TargetError {
        TargetError::Gone(format!("the RTT server at {} went away: {what}", self.config.addr))
    }
}

impl Transport for Tcp {
    fn describe(&self) -> TargetDescription {
        TargetDescription { backend: "tcp".into(), name: self.config.addr.clone() }
    }

    fn clock(&self) -> Instant {
        self.started
    }

    fn timing(&self) -> Timing {
        Timing {
            poll_interval: Duration::ZERO,
            attach_timeout: Duration::from_secs(5),
            reconnect_backoff: self.config.initial_backoff,
            relink_backoff: Timing::RELINK_BACKOFF,
        }
    }

    fn connect(&mut self, _: &Sink) -> Result<(), TargetError> {
        let stream = TcpStream::connect(&self.config.addr).map_err(|e| {
            TargetError::Unavailable(format!(
                "cannot connect to the RTT server at {}: {e} (is OpenOCD's `rtt server start` running?)",
                self.config.addr
            ))
        })?;
        stream.set_read_timeout(Some(READ_WAIT)).map_err(|e| self.gone(e))?;
        tracing::info!(addr = %self.config.addr, "connected to the RTT server");
        self.stream = Some(stream);
        Ok(())
    }

    fn open_link(&mut self) -> Result<bool, TargetError> {
        Ok(self.stream.is_some())
    }

    fn read(&mut self, bytes: &mut Vec<u8>, _: &mut Vec<SessionEvent>) -> Result<(), TargetError> {
        let Some(stream) = self.stream.as_mut() else { return Ok(()) };
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) => Err(self.gone("the connection was closed")),
            Ok(n) => {
                bytes.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(self.gone(e)),
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, TargetError> {
        let Some(stream) = self.stream.as_mut() else { return Ok(0) };
        match stream.write_all(data) {
            Ok(()) => Ok(data.len()),
            Err(e) => Err(self.gone(e)),
        }
    }

    fn strings(&mut self) -> &mut dyn TargetMemory {
        &mut self.strings
    }

    fn exited(&mut self) -> Option<Exit> {
        None
    }

    fn reset(&mut self) -> Result<AfterReset, TargetError> {
        Err(TargetError::Unsupported(
            "an RTT server cannot reset the target: use the probe (or the board's reset button)".into(),
        ))
    }

    fn disconnect(&mut self, _: &Sink) {
        self.stream = None;
    }
}
