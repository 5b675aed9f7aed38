//! The TCP RTT backend: the asyncmon channel's bytes as served by an RTT TCP server (OpenOCD's
//! `rtt server start PORT 0`, J-Link's RTT telnet port, probe-rs's), stop requests written back to
//! it (servers that carry the down channel forward them). Static strings are resolved from the
//! firmware's ELF. When the server goes away, the daemon says so, keeps its clients and reconnects
//! with backoff.

use super::TargetCommand;
use crate::device_link::DeviceLink;
use crate::elf_memory::ElfMemory;
use crate::hub::Hub;
use asyncmon_protocol::host::{Problem, SessionEvent, TargetState};
use asyncmon_protocol::HostCommand;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to reach an RTT TCP server.
#[derive(Debug, Clone)]
pub struct TcpConfig {
    /// `HOST:PORT` of the server (loopback, usually).
    pub addr: String,
    /// The firmware's ELF, for string references.
    pub elf: PathBuf,
    /// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
    pub initial_backoff: Duration,
}

/// The longest wait between two connection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Serves the TCP target on a thread of its own, resolving strings from `memory` (the ELF).
pub fn spawn(
    config: TcpConfig,
    memory: ElfMemory,
    hub: Arc<Hub>,
    commands: Receiver<TargetCommand>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("asyncmon-tcp".into())
        .spawn(move || Tcp { config, hub, commands, memory, started: Instant::now() }.run())
        .expect("spawning the TCP target thread")
}

struct Tcp {
    config: TcpConfig,
    hub: Arc<Hub>,
    commands: Receiver<TargetCommand>,
    memory: ElfMemory,
    started: Instant,
}

impl Tcp {
    fn problem(&self, text: String) {
        tracing::warn!("{text}");
        let at_ms = self.started.elapsed().as_millis() as u64;
        self.hub.publish(SessionEvent::Problem(Problem { at_ms, text }));
    }

    fn run(mut self) {
        let mut link = DeviceLink::new(self.started);
        let mut backoff = super::Backoff::new(self.config.initial_backoff, MAX_BACKOFF);
        loop {
            self.hub.publish(SessionEvent::TargetState(TargetState::Starting));
            match TcpStream::connect(&self.config.addr) {
                Ok(stream) => {
                    backoff.reset();
                    self.hub.publish(SessionEvent::TargetState(TargetState::Attached));
                    tracing::info!(addr = %self.config.addr, "connected to the RTT server");
                    match self.serve(stream, &mut link) {
                        Ok(()) => return,
                        Err(reason) => {
                            let lost = link.discard_partial_frame();
                            let partial = if lost > 0 {
                                format!(" ({lost} bytes of a frame lost)")
                            } else {
                                String::new()
                            };
                            self.problem(format!(
                                "the RTT server at {} went away: {reason}{partial}; reconnecting",
                                self.config.addr
                            ));
                        }
                    }
                }
                Err(e) => {
                    let wait = backoff.next();
                    let reason = format!(
                        "cannot connect to the RTT server at {}: {e}; retrying in {wait:.1?} (is OpenOCD's `rtt server start` running?)",
                        self.config.addr
                    );
                    self.problem(reason.clone());
                    self.hub.publish(SessionEvent::TargetState(TargetState::Failed { reason }));
                    if !self.wait(wait) {
                        return;
                    }
                }
            }
        }
    }

    /// Waits `time`, answering commands; `false` when the daemon shuts down.
    fn wait(&self, time: Duration) -> bool {
        super::wait_detached(&self.commands, time, || {
            self.problem("the RTT server is not connected: the request was not sent".into())
        })
    }

    /// Reads frames and writes commands until the daemon shuts down (`Ok`) or the connection
    /// breaks (`Err`).
    fn serve(&mut self, mut stream: TcpStream, link: &mut DeviceLink) -> Result<(), String> {
        stream.set_read_timeout(Some(Duration::from_millis(20))).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4096];
        let mut events = Vec::new();
        loop {
            match self.commands.try_recv() {
                Ok(TargetCommand::Shutdown) | Err(TryRecvError::Disconnected) => return Ok(()),
                Ok(TargetCommand::Stop { request_id, hard }) => {
                    let command = if hard {
                        HostCommand::HardStop { request_id }
                    } else {
                        HostCommand::Stop { request_id }
                    };
                    stream.write_all(&super::control_frame(&command)).map_err(|e| e.to_string())?;
                }
                Ok(TargetCommand::Reset) => self.problem(
                    "an RTT server cannot reset the target: use the probe (or the board's reset button)"
                        .into(),
                ),
                Err(TryRecvError::Empty) => {}
            }
            match stream.read(&mut buf) {
                Ok(0) => return Err("the connection was closed".into()),
                Ok(n) => {
                    link.ingest(&buf[..n], &mut self.memory, &mut events);
                    for event in events.drain(..) {
                        self.hub.publish(event);
                    }
                    self.hub.publish(SessionEvent::Stats(link.stats()));
                    if link.take_resync_request() {
                        stream
                            .write_all(&super::control_frame(&HostCommand::Resync))
                            .map_err(|e| e.to_string())?;
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}
