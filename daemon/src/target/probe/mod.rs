//! The probe-rs backend: a real board through a debug probe. Chooses the probe, attaches by chip
//! name, flashes the ELF with progress, resets and runs the core, and reads RTT through the same
//! RTT code as the simulator (our `TargetMemory` over a probe-rs `Core`). Strings are resolved from
//! the ELF. A probe that goes away is said in words and re-attached with backoff, without
//! flashing again.
//!
//! What can be checked without hardware is checked before anything touches a probe ([`prepare`]):
//! the chip name (with suggestions), the ELF and its `_SEGGER_RTT` symbol.

pub mod args;
pub mod chip;
mod core_memory;
pub mod progress;
pub mod select;

use super::elf::{find_rtt_symbol, RttSymbol};
use super::TargetCommand;
use crate::defmt_logs::TableLoad;
use crate::device_link::DeviceLink;
use crate::elf_memory::ElfMemory;
use crate::hub::Hub;
use crate::rtt::{ControlBlock, DownChannel, UpChannel};
use crate::text_channels::TextChannels;
use asyncmon_protocol::host::{LogLine, LogSource, Problem, SessionEvent, TargetState};
use asyncmon_protocol::HostCommand;
use core_memory::CoreMemory;
use probe_rs::flashing::{DownloadOptions, ElfOptions, FlashProgress, ProgressEvent};
use probe_rs::probe::list::Lister;
use probe_rs::{Permissions, Session};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to reach a board.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// The chip, as probe-rs names it (`nRF52840_xxAA`).
    pub chip: String,
    /// `VID:PID[:SERIAL]` of the probe; needed when several are plugged in.
    pub probe: Option<String>,
    /// The firmware's ELF.
    pub elf: PathBuf,
    /// Flash the ELF before running (`--no-flash` attaches to what runs).
    pub flash: bool,
    /// Attach while holding the chip in reset.
    pub connect_under_reset: bool,
    /// How long to wait between RTT reads when no data came (probe-rs run uses 100 ms).
    pub poll_interval: Duration,
    /// How long to wait for the firmware to create its RTT control block.
    pub attach_timeout: Duration,
}

/// What was checked before any probe was touched.
pub struct Prepared {
    chip: String,
    rtt: RttSymbol,
    strings: ElfMemory,
    defmt: TableLoad,
}

/// Checks the chip name and the ELF (its `_SEGGER_RTT` symbol), without touching a probe.
pub fn prepare(config: &ProbeConfig) -> Result<Prepared, String> {
    let chip = chip::validate_chip(&config.chip).map_err(|e| e.to_string())?;
    let rtt = find_rtt_symbol(&config.elf)?;
    let strings = ElfMemory::open(&config.elf)?;
    let defmt = TableLoad::start(config.elf.clone());
    Ok(Prepared { chip, rtt, strings, defmt })
}

/// Serves the board on a thread of its own.
pub fn spawn(
    config: ProbeConfig,
    prepared: Prepared,
    hub: Arc<Hub>,
    commands: Receiver<TargetCommand>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("asyncmon-probe".into())
        .spawn(move || Board { config, prepared, hub, commands, started: Instant::now() }.run())
        .expect("spawning the probe thread")
}

struct Board {
    config: ProbeConfig,
    prepared: Prepared,
    hub: Arc<Hub>,
    commands: Receiver<TargetCommand>,
    started: Instant,
}

/// Why serving the board ended.
enum End {
    Shutdown,
    /// The probe or the link broke: re-attach after a while.
    Lost(String),
}

const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Board {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn problem(&self, text: String) {
        tracing::warn!("{text}");
        self.hub.publish(SessionEvent::Problem(Problem { at_ms: self.now_ms(), text }));
    }

    fn say(&self, text: String) {
        tracing::info!("{text}");
        self.hub.publish(SessionEvent::Log(LogLine::plain(self.now_ms(), LogSource::Daemon, text)));
    }

    fn run(self) {
        let mut link = DeviceLink::new(self.started);
        let mut flash = self.config.flash;
        let mut backoff = super::Backoff::new(Duration::from_millis(200), MAX_BACKOFF);
        loop {
            self.hub.publish(SessionEvent::TargetState(TargetState::Starting));
            let end = match self.attach() {
                Ok(mut session) => {
                    backoff.reset();
                    match self.start(&mut session, std::mem::take(&mut flash)) {
                        Ok(()) => self.serve(&mut session, &mut link),
                        Err(reason) => End::Lost(reason),
                    }
                }
                Err(reason) => End::Lost(reason),
            };
            match end {
                End::Shutdown => return,
                End::Lost(reason) => {
                    link.discard_partial_frame();
                    let wait = backoff.next();
                    self.problem(format!("{reason}; trying again in {wait:.1?}"));
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
            self.problem("the board is not attached: the request was not sent".into())
        })
    }

    /// Finds the probe and attaches to the chip.
    fn attach(&self) -> Result<Session, String> {
        let lister = Lister::new();
        let probes = lister.list_all();
        let entries: Vec<select::ProbeEntry> = probes.iter().map(select::ProbeEntry::from).collect();
        let chosen = select::choose(&entries, self.config.probe.as_deref())?;
        let probe = probes[chosen]
            .open()
            .map_err(|e| format!("cannot open the probe {}: {e}", entries[chosen].selector()))?;
        let chip = self.prepared.chip.clone();
        let session = if self.config.connect_under_reset {
            probe.attach_under_reset(chip.as_str(), Permissions::default())
        } else {
            probe.attach(chip.as_str(), Permissions::default())
        };
        let session = session.map_err(|e| format!("cannot attach to the {chip}: {e}"))?;
        self.say(format!("attached to the {chip} through {}", entries[chosen].identifier));
        Ok(session)
    }

    /// Flashes (when asked), then resets and runs the core with a cleared RTT control block, so a
    /// stale block from the previous run is never found.
    fn start(&self, session: &mut Session, flash: bool) -> Result<(), String> {
        if !flash {
            return Ok(());
        }
        let mut view = progress::FlashProgressView::default();
        let mut last = Instant::now();
        let progress = FlashProgress::new(|event: ProgressEvent| {
            if view.on_event(&event) && last.elapsed() > Duration::from_millis(100) {
                last = Instant::now();
                for line in view.lines() {
                    self.say(line);
                }
            }
        });
        let mut options = DownloadOptions::default();
        options.progress = progress;
        options.verify = true;
        probe_rs::flashing::download_file_with_options(
            session,
            &self.config.elf,
            probe_rs::flashing::ElfLoader(ElfOptions::default()),
            options,
        )
        .map_err(|e| format!("flashing {} failed: {e}", self.config.elf.display()))?;
        self.say(format!("flashed {}", self.config.elf.display()));
        let mut core = session.core(0).map_err(|e| format!("cannot reach the core: {e}"))?;
        core.reset_and_halt(Duration::from_secs(1)).map_err(|e| format!("cannot reset the core: {e}"))?;
        let mut memory = CoreMemory::new(&mut core);
        use crate::memory::TargetMemory;
        memory
            .write(self.prepared.rtt.address, &[0; 16])
            .map_err(|e| format!("cannot clear the RTT block: {e}"))?;
        core.run().map_err(|e| format!("cannot start the core: {e}"))?;
        Ok(())
    }

    /// Finds the control block, then reads frames and writes commands.
    fn serve(&self, session: &mut Session, link: &mut DeviceLink) -> End {
        let addr = self.prepared.rtt.address;
        let width = self.prepared.rtt.width;
        let deadline = Instant::now() + self.config.attach_timeout;
        let (mut up, mut down, mut text) = loop {
            let found = session.core(0).map_err(|e| e.to_string()).and_then(|mut core| {
                let mut memory = CoreMemory::new(&mut core);
                match ControlBlock::is_initialised(&mut memory, addr) {
                    Ok(true) => {
                        let block =
                            ControlBlock::read(&mut memory, addr, width).map_err(|e| e.to_string())?;
                        let up = block.up_channel("asyncmon").map_err(|e| e.to_string())?.clone();
                        let down = block.down_channel("asyncmon-control").map_err(|e| e.to_string())?.clone();
                        let up = UpChannel::attach(&mut memory, &up).map_err(|e| e.to_string())?;
                        let text = TextChannels::attach(
                            &mut memory,
                            &block,
                            "asyncmon",
                            self.started,
                            &self.prepared.defmt,
                        );
                        Ok(Some((up, DownChannel::attach(&down), text)))
                    }
                    Ok(false) => Ok(None),
                    Err(e) => Err(e.to_string()),
                }
            });
            match found {
                Ok(Some(channels)) => break channels,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(self.config.poll_interval),
                Ok(None) => {
                    return End::Lost(format!(
                        "the firmware did not create its RTT control block at {addr:#x} within {:.1?}: does it call asyncmon_agent::link::init?",
                        self.config.attach_timeout
                    ))
                }
                Err(e) => return End::Lost(format!("cannot read RTT: {e}")),
            }
        };
        self.hub.publish(SessionEvent::TargetState(TargetState::Attached));
        // A firmware that was already running has said hello long ago: ask it to start over.
        let mut outgoing =
            if self.config.flash { Vec::new() } else { super::control_frame(&HostCommand::Resync) };
        let mut bytes = Vec::new();
        let mut events = Vec::new();
        let mut strings = &self.prepared.strings;
        loop {
            match self.commands.try_recv() {
                Ok(TargetCommand::Shutdown) | Err(TryRecvError::Disconnected) => return End::Shutdown,
                Ok(TargetCommand::Stop { request_id, hard }) => {
                    let command = if hard {
                        HostCommand::HardStop { request_id }
                    } else {
                        HostCommand::Stop { request_id }
                    };
                    outgoing.extend_from_slice(&super::control_frame(&command));
                }
                Ok(TargetCommand::Reset) => {
                    if let Err(e) = session.core(0).and_then(|mut core| core.reset()) {
                        return End::Lost(format!("cannot reset the core: {e}"));
                    }
                    self.say("the board was reset".into());
                    return End::Lost("the board was reset: re-attaching RTT".into());
                }
                Err(TryRecvError::Empty) => {}
            }
            bytes.clear();
            let io = session.core(0).map_err(|e| e.to_string()).and_then(|mut core| {
                let mut memory = CoreMemory::new(&mut core);
                if !outgoing.is_empty() {
                    let n = down.write(&mut memory, &outgoing).map_err(|e| e.to_string())?;
                    outgoing.drain(..n);
                }
                up.read(&mut memory, &mut bytes).map_err(|e| e.to_string())?;
                text.read(&mut memory, &mut events).map_err(|e| e.to_string())
            });
            if let Err(e) = io {
                return End::Lost(format!("the probe connection broke: {e}"));
            }
            for event in events.drain(..) {
                self.hub.publish(event);
            }
            if !bytes.is_empty() {
                link.ingest(&bytes, &mut strings, &mut events);
                for event in events.drain(..) {
                    self.hub.publish(event);
                }
                self.hub.publish(SessionEvent::Stats(link.stats()));
                if link.take_resync_request() {
                    outgoing.extend_from_slice(&super::control_frame(&HostCommand::Resync));
                }
            } else {
                std::thread::sleep(self.config.poll_interval);
            }
        }
    }
}
