//! A virtual debug probe plugged into a QEMU machine: `--probe qemu:mps2-an386` (or
//! `qemu:microbit`) rehearses the whole board path — probe-rs's `Session`, its loader, reset and
//! halt, RTT reads and writes, the doorbell — without a board, and is how CI tests that path.
//!
//! The probe comes from a [`QemuLister`], given to probe-rs's `Lister` as a real probe's driver
//! would be, so the board backend's code is the same for both. Behind it: the machine
//! ([`board`]), its core's debug registers emulated ([`scs`]) over QEMU's gdbstub
//! ([`crate::backend::qemu::gdb`]), and
//! probe-rs's traits ([`interface`]). What it cannot prove: USB transfers and a real chip's timing.

mod board;
mod interface;
mod scs;

use crate::backend::qemu::machine::{self, Machine};
use interface::{QemuProbe, SharedTarget, VirtualTarget};
use probe_rs::probe::list::{ProbeListItem, ProbeLister};
use probe_rs::probe::{DebugProbe, DebugProbeError, DebugProbeInfo, DebugProbeSelector, Probe, ProbeFactory};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};

/// The target description of the machines probe-rs has no chip for.
pub const TARGETS_YAML: &str = include_str!("mps2-an386.yaml");

/// A machine a virtual probe can be plugged into, and the chip probe-rs attaches to there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtualMachine {
    /// The QEMU machine.
    pub machine: &'static Machine,
    /// The chip's name for probe-rs.
    pub chip: &'static str,
}

/// The `--probe` prefix of a virtual probe.
pub const PREFIX: &str = "qemu:";

/// The machines, with their chips.
const CHIPS: &[(&str, &str)] = &[("mps2-an386", "qemu-mps2-an386"), ("microbit", "nRF51822_xxAA")];

/// What `--probe qemu:NAME` names: `None` when the selector is not a virtual probe's, an error
/// when it is one of a machine that has none.
pub fn parse(selector: &str) -> Option<Result<VirtualMachine, String>> {
    let name = selector.strip_prefix(PREFIX)?;
    let found = CHIPS
        .iter()
        .find(|(machine, _)| *machine == name)
        .and_then(|(name, chip)| machine::find(name).ok().map(|machine| VirtualMachine { machine, chip }));
    Some(found.ok_or_else(|| {
        let known: Vec<String> = CHIPS.iter().map(|(machine, _)| format!("{PREFIX}{machine}")).collect();
        format!("there is no virtual probe {selector:?}; there are: {}", known.join(", "))
    }))
}

/// The machines started for virtual probes, by the serial number their probe is listed with.
static TARGETS: LazyLock<Mutex<HashMap<String, Weak<Mutex<VirtualTarget>>>>> =
    LazyLock::new(Default::default);
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// probe-rs's driver for virtual probes: opens the probe of a machine a [`QemuLister`] started.
#[derive(Debug)]
struct QemuProbes;

static QEMU_PROBES: QemuProbes = QemuProbes;

impl std::fmt::Display for QemuProbes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("asyncmon virtual probe (QEMU)")
    }
}

impl ProbeFactory for QemuProbes {
    fn open(&self, selector: &DebugProbeSelector) -> Result<Box<dyn DebugProbe>, DebugProbeError> {
        let serial = selector.serial_number.as_deref().unwrap_or_default();
        let targets = TARGETS.lock().unwrap_or_else(|p| p.into_inner());
        let target = targets.get(serial).and_then(Weak::upgrade).ok_or_else(|| {
            DebugProbeError::ProbeCouldNotBeCreated(probe_rs::probe::ProbeCreationError::NotFound)
        })?;
        let name = format!("QEMU {} (virtual probe)", serial.split('#').next().unwrap_or(serial));
        Ok(Box::new(QemuProbe::new(name, target)))
    }

    fn list_probes(&self) -> Vec<ProbeListItem> {
        Vec::new()
    }
}

/// A machine started for a virtual probe; it ends when this is dropped.
pub struct VirtualOwner {
    serial: String,
    target: SharedTarget,
}

/// A virtual board's first serial port, held beside its probe.
pub struct VirtualSerial(SharedTarget);

impl crate::backend::doorbell::SerialLine for VirtualSerial {
    fn send_byte(&mut self) -> std::io::Result<()> {
        let mut target = self.0.lock().map_err(|_| std::io::Error::other("the virtual board is gone"))?;
        target.board.send_serial_byte()
    }
}

/// The lister of one virtual probe, for probe-rs's `Lister`.
#[derive(Debug)]
pub struct QemuLister {
    serial: String,
    target: Holder,
}

struct Holder(SharedTarget);

impl std::fmt::Debug for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VirtualTarget")
    }
}

impl VirtualOwner {
    /// Starts `machine`: empty and halted, or already running `preloaded` (a board flashed
    /// before, for `--no-flash`).
    pub fn start(machine: VirtualMachine, preloaded: Option<&Path>) -> Result<Self, String> {
        let board = board::VirtualBoard::start(machine.machine, preloaded)?;
        let registers =
            if preloaded.is_some() { scs::DebugRegisters::running() } else { scs::DebugRegisters::halted() };
        let target = Arc::new(Mutex::new(VirtualTarget { board, registers }));
        let serial = format!("{}#{}", machine.machine.name, NEXT_SERIAL.fetch_add(1, Ordering::Relaxed));
        TARGETS.lock().unwrap_or_else(|p| p.into_inner()).insert(serial.clone(), Arc::downgrade(&target));
        Ok(VirtualOwner { serial, target })
    }

    /// A lister that lists this machine's probe.
    pub fn lister(&self) -> QemuLister {
        QemuLister { serial: self.serial.clone(), target: Holder(self.target.clone()) }
    }

    /// How QEMU ended, once it has (the firmware's semihosting exit code).
    pub fn exited(&self) -> Option<crate::backend::process::Exit> {
        self.target.lock().ok()?.board.exited()
    }

    /// The machine's first serial port, where the firmware's doorbell is rung.
    pub fn serial_line(&self) -> VirtualSerial {
        VirtualSerial(self.target.clone())
    }

    /// Whether QEMU has ended or is ending (see `VirtualBoard::ending`).
    pub fn ending(&self) -> bool {
        self.target.lock().map(|mut t| t.board.ending()).unwrap_or(true)
    }
}

impl Drop for VirtualOwner {
    fn drop(&mut self) {
        TARGETS.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.serial);
    }
}

impl QemuLister {
    fn info(&self) -> DebugProbeInfo {
        let name = self.target.0.lock().map(|t| t.board.machine().name).unwrap_or("?");
        DebugProbeInfo::new(
            format!("QEMU {name} (asyncmon virtual probe)"),
            0,
            0,
            Some(self.serial.clone()),
            &QEMU_PROBES,
            None,
            false,
        )
    }
}

impl ProbeLister for QemuLister {
    fn open(&self, selector: &DebugProbeSelector) -> Result<Probe, DebugProbeError> {
        QEMU_PROBES.open(selector).map(Probe::from_specific_probe)
    }

    fn list_with_access(&self, selector: Option<&DebugProbeSelector>) -> Vec<ProbeListItem> {
        let plugged = self.target.0.lock().map(|t| t.board.plugged()).unwrap_or(false);
        if !plugged {
            return Vec::new();
        }
        let info = self.info();
        if selector.is_some_and(|s| !s.matches_probe(&info)) {
            return Vec::new();
        }
        vec![ProbeListItem::accessible(info)]
    }
}

/// Pulls the cable of every virtual probe in this process (`false`), or plugs them back in: a
/// probe that goes away mid-session and comes back, rehearsed (the machines run on meanwhile).
pub fn set_cables(plugged: bool) {
    let targets: Vec<SharedTarget> =
        TARGETS.lock().unwrap_or_else(|p| p.into_inner()).values().filter_map(Weak::upgrade).collect();
    for target in targets {
        if let Ok(mut target) = target.lock() {
            target.board.set_cable(plugged);
        }
    }
}
