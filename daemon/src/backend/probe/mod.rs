//! The probe-rs backend: a real board through a debug probe. Chooses the probe, attaches by chip
//! name, flashes the ELF with progress, resets and runs the core, and reads RTT through the same
//! RTT code as the simulator (our `TargetMemory` over a probe-rs `Core`). Strings are resolved from
//! the ELF. A probe that goes away is said in words and re-attached with backoff, without
//! flashing again.
//!
//! What can be checked without hardware is checked before anything touches a probe ([`prepare`]):
//! the chip name (with suggestions), the ELF and its `_SEGGER_RTT` symbol.

pub mod args;
mod board_memory;
pub mod chip;
mod core_memory;
pub mod counters;
pub mod firmware_check;
pub mod progress;
pub mod qemu_probe;
pub mod select;

use super::elf::{find_rtt_symbol, symbol_address, RttSymbol};
use super::error::TargetError;
use super::process::Exit;
use super::rtt_channels::{Blocks, RttChannels};
use super::sink::Sink;
use super::traces::DebugElf;
use super::transport::{AfterReset, Timing, Transport};
use crate::defmt_logs::TableLoad;
use crate::elf_memory::ElfMemory;
use crate::memory::TargetMemory;
use asyncmon_protocol::host::{LogLine, LogSource, SessionEvent, TargetDescription};
use board_memory::BoardMemory;
use core_memory::CoreMemory;
use probe_rs::config::Registry;
use probe_rs::flashing::{DownloadOptions, ElfOptions, FlashProgress, ProgressEvent};
use probe_rs::probe::list::Lister;
use probe_rs::{Permissions, Session};
use qemu_probe::{VirtualMachine, VirtualOwner};
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
    /// The QEMU machine behind a virtual probe (`--probe qemu:NAME`).
    virtual_machine: Option<VirtualMachine>,
    rtt: RttSymbol,
    /// Whether the firmware has asyncmon's channel or only defmt's.
    speaks: firmware_check::Speaks,
    /// Where the firmware's doorbell static is, if it has one.
    doorbell: Option<u64>,
    constants: ElfMemory,
    defmt: TableLoad,
}

/// Checks the chip name and the ELF (its `_SEGGER_RTT` symbol), without touching a probe.
pub fn prepare(config: &ProbeConfig) -> Result<Prepared, TargetError> {
    let virtual_machine = match config.probe.as_deref().and_then(qemu_probe::parse) {
        Some(parsed) => Some(parsed.map_err(TargetError::Unavailable)?),
        None => None,
    };
    let wanted = match (virtual_machine, config.chip.as_str()) {
        (Some(vm), "") => vm.chip,
        (None, "") => {
            return Err(TargetError::Firmware(
                "which chip is on the board? Name it with --chip (e.g. --chip nRF52840_xxAA; `probe-rs chip list` lists them)".into(),
            ))
        }
        (_, chip) => chip,
    };
    let chip = chip::validate_chip(wanted).map_err(|e| TargetError::Firmware(e.to_string()))?;
    if let Some(vm) = virtual_machine.filter(|vm| !vm.chip.eq_ignore_ascii_case(&chip)) {
        return Err(TargetError::Firmware(format!(
            "the virtual probe {}{} is plugged into a {}, not a {chip}: leave --chip out",
            qemu_probe::PREFIX,
            vm.machine.name,
            vm.chip
        )));
    }
    let rtt = find_rtt_symbol(&config.elf).map_err(|e| TargetError::Firmware(e.to_string()))?;
    let speaks = firmware_check::channels(&config.elf).map_err(|e| TargetError::Firmware(e.to_string()))?;
    if config.flash {
        let target =
            chip::registry().get_target_by_name(&chip).map_err(|e| TargetError::Firmware(e.to_string()))?;
        firmware_check::loads_within(&config.elf, &target)
            .map_err(|e| TargetError::Firmware(e.to_string()))?;
    }
    let doorbell = symbol_address(&config.elf, asyncmon_protocol::doorbell::SYMBOL)
        .map_err(|e| TargetError::Firmware(e.to_string()))?;
    let constants =
        ElfMemory::open_read_only(&config.elf).map_err(|e| TargetError::Firmware(e.to_string()))?;
    let defmt = TableLoad::start(config.elf.clone());
    Ok(Prepared { chip, virtual_machine, rtt, speaks, doorbell, constants, defmt })
}

/// A board through a debug probe, as the pump drives it.
pub struct Board {
    config: ProbeConfig,
    prepared: Prepared,
    started: Instant,
    /// The session while attached, and the ELF's constants.
    memory: BoardMemory,
    channels: Option<RttChannels>,
    /// Flash before the next start (the first only).
    flash_pending: bool,
    /// The firmware now running was flashed and started by this connection (it says hello by
    /// itself); otherwise it ran before and is asked to resync.
    flashed_now: bool,
    sink: Option<Sink>,
    /// Where probes come from: the USB drivers, or the virtual probe's lister (its machine started
    /// at the first connect, and kept until the board ends).
    virtual_owner: Option<VirtualOwner>,
    /// The doorbell's first ring was said.
    doorbell_said: bool,
    registry: Registry,
}

impl Board {
    /// A transport for `config`, checked by [`prepare`].
    pub fn new(config: ProbeConfig, mut prepared: Prepared) -> Self {
        let flash_pending = config.flash;
        let constants = std::mem::replace(&mut prepared.constants, ElfMemory::empty());
        Board {
            config,
            prepared,
            started: Instant::now(),
            memory: BoardMemory::new(constants),
            channels: None,
            flash_pending,
            flashed_now: false,
            sink: None,
            virtual_owner: None,
            doorbell_said: false,
            registry: chip::registry(),
        }
    }

    /// Probe-rs's lister: every USB probe, or the one virtual probe (starting its machine).
    fn lister(&mut self) -> Result<Lister, TargetError> {
        let Some(vm) = self.prepared.virtual_machine else { return Ok(Lister::new()) };
        if self.virtual_owner.is_none() {
            let preloaded = (!self.config.flash).then_some(self.config.elf.as_path());
            self.virtual_owner = Some(VirtualOwner::start(vm, preloaded).map_err(TargetError::Unavailable)?);
        }
        let owner = self.virtual_owner.as_ref().expect("just started");
        Ok(Lister::with_lister(Box::new(owner.lister())))
    }

    fn say(&self, text: String) {
        tracing::info!("{text}");
        if let Some(sink) = &self.sink {
            let at_ms = self.started.elapsed().as_millis() as u64;
            sink.publish(SessionEvent::Log(LogLine::plain(at_ms, LogSource::Daemon, text)));
        }
    }

    /// Finds the probe and attaches to the chip.
    fn attach(&mut self) -> Result<Session, TargetError> {
        // A virtual probe's lister lists just that one.
        let selector = if self.prepared.virtual_machine.is_some() { None } else { self.config.probe.clone() };
        let probes = self.lister()?.list_all();
        let entries: Vec<select::ProbeEntry> = probes.iter().map(select::ProbeEntry::from).collect();
        let chosen = select::choose(&entries, selector.as_deref())
            .map_err(|e| TargetError::Unavailable(e.to_string()))?;
        let probe = probes[chosen].open().map_err(|e| {
            TargetError::Unavailable(format!("cannot open the probe {}: {e}", entries[chosen].selector()))
        })?;
        let chip = self.prepared.chip.clone();
        let session = if self.config.connect_under_reset {
            probe.attach_under_reset_with_registry(chip.as_str(), Permissions::default(), &self.registry)
        } else {
            probe.attach_with_registry(chip.as_str(), Permissions::default(), &self.registry)
        };
        let session =
            session.map_err(|e| TargetError::Unavailable(format!("cannot attach to the {chip}: {e}")))?;
        self.say(format!("attached to the {chip} through {}", entries[chosen].identifier));
        Ok(session)
    }

    /// Flashes, then resets and runs the core with a cleared RTT control block, so a stale block
    /// from the previous run is never found.
    fn flash(&self, session: &mut Session) -> Result<(), TargetError> {
        let view = std::cell::RefCell::new(progress::FlashProgressView::default());
        let mut last = Instant::now();
        let progress = FlashProgress::new(|event: ProgressEvent| {
            let mut view = view.borrow_mut();
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
        // The bars as they ended, however fast that was.
        for line in view.borrow().lines() {
            self.say(line);
        }
        self.say(format!("flashed {}", self.config.elf.display()));
        restart(session, self.prepared.rtt.address)
    }

    /// Runs `op` on the core's memory.
    fn with_memory<R>(
        &mut self,
        op: impl FnOnce(&mut dyn TargetMemory, &mut Option<RttChannels>) -> Result<R, TargetError>,
    ) -> Result<R, TargetError> {
        let session = self
            .memory
            .session
            .as_mut()
            .ok_or_else(|| TargetError::Gone("the board is not attached".into()))?;
        let mut core =
            session.core(0).map_err(|e| TargetError::Gone(format!("the probe connection broke: {e}")))?;
        op(&mut CoreMemory::new(&mut core), &mut self.channels)
    }
}

/// Resets and halts the core, clears the RTT control block's id (so the link never opens on the
/// block the firmware left before the reset) and lets the core run.
fn restart(session: &mut Session, control_block: u64) -> Result<(), TargetError> {
    let lost = |what: &str, e: &dyn std::fmt::Display| TargetError::Gone(format!("cannot {what}: {e}"));
    let mut core = session.core(0).map_err(|e| lost("reach the core", &e))?;
    core.reset_and_halt(Duration::from_secs(1)).map_err(|e| lost("reset the core", &e))?;
    CoreMemory::new(&mut core).write(control_block, &[0; 16]).map_err(|e| lost("clear the RTT block", &e))?;
    core.run().map_err(|e| lost("start the core", &e))?;
    Ok(())
}

impl Transport for Board {
    fn describe(&self) -> TargetDescription {
        TargetDescription { backend: "probe-rs".into(), name: self.prepared.chip.clone() }
    }

    fn clock(&self) -> Instant {
        self.started
    }

    fn timing(&self) -> Timing {
        Timing::polled(self.config.poll_interval, self.config.attach_timeout)
    }

    fn connect(&mut self, sink: &Sink) -> Result<(), TargetError> {
        self.sink = Some(sink.clone());
        if self.prepared.speaks == firmware_check::Speaks::DefmtOnly {
            self.say(format!(
                "{} logs with defmt but has no asyncmon channel: its defmt logs are shown, but tasks, failures and stops need asyncmon-agent (or asyncmon-embassy for an embassy firmware), set up where the firmware sets up RTT",
                self.config.elf.display()
            ));
        }
        let mut session = self.attach()?;
        self.flashed_now = self.flash_pending;
        if self.flash_pending {
            self.flash(&mut session)?;
            self.flash_pending = false;
        }
        self.memory.session = Some(session);
        Ok(())
    }

    fn open_link(&mut self) -> Result<bool, TargetError> {
        let (blocks, started) = (Blocks::of(&self.prepared.rtt, 0), self.started);
        let defmt = self.prepared.defmt.clone();
        let logs_only = self.prepared.speaks == firmware_check::Speaks::DefmtOnly;
        self.with_memory(|memory, channels| {
            *channels = if logs_only {
                RttChannels::open_logs(memory, blocks, &defmt, started)?
            } else {
                RttChannels::open(memory, blocks, &defmt, started)?
            };
            Ok(channels.is_some())
        })
    }

    fn read(&mut self, bytes: &mut Vec<u8>, events: &mut Vec<SessionEvent>) -> Result<(), TargetError> {
        counters::ProbeCounters::add(&counters::COUNTERS.polls, 1);
        let read = self.with_memory(|memory, channels| match channels {
            Some(channels) => channels.read(memory, bytes, events),
            None => Ok(()),
        });
        match read {
            // A virtual board whose firmware exited took its RAM along: that is its exit, which
            // `exited` tells, not a probe that broke.
            Err(TargetError::Gone(_)) if self.virtual_owner.as_ref().is_some_and(VirtualOwner::ending) => {
                Ok(())
            }
            other => other,
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, TargetError> {
        let doorbell = self.prepared.doorbell;
        // A virtual board's serial port, where its firmware's doorbell is (a board on a desk has
        // its doorbell's interrupt pended through the probe).
        let mut serial = self.virtual_owner.as_ref().map(VirtualOwner::serial_line);
        let (written, rang) = self.with_memory(|memory, channels| {
            let written = match channels {
                Some(channels) => channels.write(memory, data)?,
                None => 0,
            };
            // The command is in: ring the firmware's doorbell, if it named one.
            let mut rang = false;
            if let (1.., Some(at)) = (written, doorbell) {
                let serial = serial.as_mut().map(|s| s as &mut dyn super::doorbell::SerialLine);
                match super::doorbell::ring(memory, at, serial) {
                    Ok(done) => rang = done,
                    Err(e) => {
                        tracing::debug!(error = %e, "the firmware's doorbell did not ring; it finds the command on its own poll")
                    }
                }
            }
            Ok((written, rang))
        })?;
        if rang && !self.doorbell_said {
            self.doorbell_said = true;
            let how = if self.virtual_owner.is_some() {
                "a byte on the virtual board's serial port"
            } else {
                "its interrupt pended through the probe"
            };
            self.say(format!("the firmware's doorbell rang: it is rung after each command ({how})"));
        }
        Ok(written)
    }

    fn strings(&mut self) -> &mut dyn TargetMemory {
        &mut self.memory
    }

    fn debug_elf(&self) -> Option<DebugElf> {
        Some(DebugElf { path: self.config.elf.clone(), bias: 0 })
    }

    fn exited(&mut self) -> Option<Exit> {
        // A virtual board's QEMU ends when the firmware exits (semihosting); a real board runs on.
        self.virtual_owner.as_ref().and_then(VirtualOwner::exited)
    }

    fn reset(&mut self) -> Result<AfterReset, TargetError> {
        self.channels = None;
        let session = self
            .memory
            .session
            .as_mut()
            .ok_or_else(|| TargetError::Gone("the board is not attached".into()))?;
        restart(session, self.prepared.rtt.address)?;
        self.say("the board was reset".into());
        Ok(AfterReset::Relink)
    }

    fn disconnect(&mut self, sink: &Sink) {
        if let Some(channels) = self.channels.take() {
            channels.into_text().finish_in_background(sink.clone());
        }
        self.memory.session = None;
    }

    fn ran_before_attach(&self) -> bool {
        !self.flashed_now
    }
}
