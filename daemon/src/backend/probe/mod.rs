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

use super::elf::{find_rtt_symbol, symbol_address, RttSymbol};
use super::error::TargetError;
use super::process::Exit;
use super::rtt_channels::RttChannels;
use super::sink::Sink;
use super::transport::{AfterReset, Timing, Transport};
use crate::defmt_logs::TableLoad;
use crate::elf_memory::ElfMemory;
use crate::memory::TargetMemory;
use asyncmon_protocol::host::{LogLine, LogSource, SessionEvent, TargetDescription};
use core_memory::CoreMemory;
use probe_rs::flashing::{DownloadOptions, ElfOptions, FlashProgress, ProgressEvent};
use probe_rs::probe::list::Lister;
use probe_rs::{Permissions, Session};
use std::path::PathBuf;
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
    /// Where the firmware's doorbell static is, if it has one.
    doorbell: Option<u64>,
    strings: ElfMemory,
    defmt: TableLoad,
}

/// Checks the chip name and the ELF (its `_SEGGER_RTT` symbol), without touching a probe.
pub fn prepare(config: &ProbeConfig) -> Result<Prepared, TargetError> {
    let chip = chip::validate_chip(&config.chip).map_err(|e| TargetError::Firmware(e.to_string()))?;
    let rtt = find_rtt_symbol(&config.elf).map_err(|e| TargetError::Firmware(e.to_string()))?;
    let doorbell = symbol_address(&config.elf, asyncmon_protocol::doorbell::SYMBOL)
        .map_err(|e| TargetError::Firmware(e.to_string()))?;
    let strings = ElfMemory::open(&config.elf).map_err(|e| TargetError::Firmware(e.to_string()))?;
    let defmt = TableLoad::start(config.elf.clone());
    Ok(Prepared { chip, rtt, doorbell, strings, defmt })
}

/// A board through a debug probe, as the pump drives it.
pub struct Board {
    config: ProbeConfig,
    prepared: Prepared,
    started: Instant,
    session: Option<Session>,
    channels: Option<RttChannels>,
    /// Flash before the next start (the first only).
    flash_pending: bool,
    /// The firmware now running was flashed and started by this connection (it says hello by
    /// itself); otherwise it ran before and is asked to resync.
    flashed_now: bool,
    sink: Option<Sink>,
}

impl Board {
    /// A transport for `config`, checked by [`prepare`].
    pub fn new(config: ProbeConfig, prepared: Prepared) -> Self {
        let flash_pending = config.flash;
        Board {
            config,
            prepared,
            started: Instant::now(),
            session: None,
            channels: None,
            flash_pending,
            flashed_now: false,
            sink: None,
        }
    }

    fn say(&self, text: String) {
        tracing::info!("{text}");
        if let Some(sink) = &self.sink {
            let at_ms = self.started.elapsed().as_millis() as u64;
            sink.publish(SessionEvent::Log(LogLine::plain(at_ms, LogSource::Daemon, text)));
        }
    }

    /// Finds the probe and attaches to the chip.
    fn attach(&self) -> Result<Session, TargetError> {
        let lister = Lister::new();
        let probes = lister.list_all();
        let entries: Vec<select::ProbeEntry> = probes.iter().map(select::ProbeEntry::from).collect();
        let chosen = select::choose(&entries, self.config.probe.as_deref())
            .map_err(|e| TargetError::Unavailable(e.to_string()))?;
        let probe = probes[chosen].open().map_err(|e| {
            TargetError::Unavailable(format!("cannot open the probe {}: {e}", entries[chosen].selector()))
        })?;
        let chip = self.prepared.chip.clone();
        let session = if self.config.connect_under_reset {
            probe.attach_under_reset(chip.as_str(), Permissions::default())
        } else {
            probe.attach(chip.as_str(), Permissions::default())
        };
        let session =
            session.map_err(|e| TargetError::Unavailable(format!("cannot attach to the {chip}: {e}")))?;
        self.say(format!("attached to the {chip} through {}", entries[chosen].identifier));
        Ok(session)
    }

    /// Flashes, then resets and runs the core with a cleared RTT control block, so a stale block
    /// from the previous run is never found.
    fn flash(&self, session: &mut Session) -> Result<(), TargetError> {
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
        .map_err(|e| {
            TargetError::Unavailable(format!("flashing {} failed: {e}", self.config.elf.display()))
        })?;
        self.say(format!("flashed {}", self.config.elf.display()));
        let lost = |what: &str, e: &dyn std::fmt::Display| TargetError::Gone(format!("cannot {what}: {e}"));
        let mut core = session.core(0).map_err(|e| lost("reach the core", &e))?;
        core.reset_and_halt(Duration::from_secs(1)).map_err(|e| lost("reset the core", &e))?;
        CoreMemory::new(&mut core)
            .write(self.prepared.rtt.address, &[0; 16])
            .map_err(|e| lost("clear the RTT block", &e))?;
        core.run().map_err(|e| lost("start the core", &e))?;
        Ok(())
    }

    /// Runs `op` on the core's memory.
    fn with_memory<R>(
        &mut self,
        op: impl FnOnce(&mut dyn TargetMemory, &mut Option<RttChannels>) -> Result<R, TargetError>,
    ) -> Result<R, TargetError> {
        let session =
            self.session.as_mut().ok_or_else(|| TargetError::Gone("the board is not attached".into()))?;
        let mut core =
            session.core(0).map_err(|e| TargetError::Gone(format!("the probe connection broke: {e}")))?;
        op(&mut CoreMemory::new(&mut core), &mut self.channels)
    }
}

impl Transport for Board {
    fn describe(&self) -> TargetDescription {
        TargetDescription { backend: "probe-rs".into(), name: self.config.chip.clone() }
    }

    fn clock(&self) -> Instant {
        self.started
    }

    fn timing(&self) -> Timing {
        Timing::polled(self.config.poll_interval, self.config.attach_timeout)
    }

    fn connect(&mut self, sink: &Sink) -> Result<(), TargetError> {
        self.sink = Some(sink.clone());
        let mut session = self.attach()?;
        self.flashed_now = self.flash_pending;
        if self.flash_pending {
            self.flash(&mut session)?;
            self.flash_pending = false;
        }
        self.session = Some(session);
        Ok(())
    }

    fn open_link(&mut self) -> Result<bool, TargetError> {
        let (addr, width, started) = (self.prepared.rtt.address, self.prepared.rtt.width, self.started);
        let defmt = self.prepared.defmt.clone();
        self.with_memory(|memory, channels| {
            *channels = RttChannels::open(memory, addr, width, &defmt, started)?;
            Ok(channels.is_some())
        })
    }

    fn read(&mut self, bytes: &mut Vec<u8>, events: &mut Vec<SessionEvent>) -> Result<(), TargetError> {
        self.with_memory(|memory, channels| match channels {
            Some(channels) => channels.read(memory, bytes, events),
            None => Ok(()),
        })
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, TargetError> {
        let doorbell = self.prepared.doorbell;
        self.with_memory(|memory, channels| {
            let written = match channels {
                Some(channels) => channels.write(memory, data)?,
                None => 0,
            };
            // The command is in: pend the firmware's doorbell interrupt, if it named one.
            if let (1.., Some(at)) = (written, doorbell) {
                if let Err(e) = super::doorbell::ring_in_memory(memory, at) {
                    tracing::debug!(error = %e, "the firmware's doorbell did not ring; it finds the command on its own poll");
                }
            }
            Ok(written)
        })
    }

    fn strings(&mut self) -> &mut dyn TargetMemory {
        &mut self.prepared.strings
    }

    fn exited(&mut self) -> Option<Exit> {
        None
    }

    fn reset(&mut self) -> Result<AfterReset, TargetError> {
        self.channels = None;
        let session =
            self.session.as_mut().ok_or_else(|| TargetError::Gone("the board is not attached".into()))?;
        session
            .core(0)
            .and_then(|mut core| core.reset())
            .map_err(|e| TargetError::Gone(format!("cannot reset the core: {e}")))?;
        self.say("the board was reset".into());
        Ok(AfterReset::Relink)
    }

    fn disconnect(&mut self, sink: &Sink) {
        if let Some(channels) = self.channels.take() {
            channels.into_text().finish_in_background(sink.clone());
        }
        self.session = None;
    }

    fn ran_before_attach(&self) -> bool {
        !self.flashed_now
    }
}
