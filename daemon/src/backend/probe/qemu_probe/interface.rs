//! probe-rs's side of the virtual probe: a [`DebugProbe`] with an ARM debug interface whose one
//! memory access port is the QEMU guest's bus — plain memory through [`VirtualBoard`], the core's
//! debug registers through their emulation ([`DebugRegisters`]). probe-rs's `Session` runs on it
//! unchanged: attach, the loader, reset and halt, run, memory reads.

use super::board::VirtualBoard;
use super::scs::DebugRegisters;
use probe_rs::architecture::arm::ap::CSW;
use probe_rs::architecture::arm::dp::{DpAddress, DpRegisterAddress};
use probe_rs::architecture::arm::memory::ArmMemoryInterface;
use probe_rs::architecture::arm::sequences::ArmDebugSequence;
use probe_rs::architecture::arm::{
    ArmDebugInterface, ArmError, DapProbe, FullyQualifiedApAddress, SwdSequence, SwoAccess, SwoConfig,
};
use probe_rs::probe::{DebugProbe, DebugProbeError, Probe, WireProtocol};
use probe_rs::MemoryInterface;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

/// A QEMU machine and its core's debug registers: what stays when a probe is unplugged.
pub struct VirtualTarget {
    /// The machine.
    pub board: VirtualBoard,
    /// Its debug registers.
    pub registers: DebugRegisters,
}

/// The machine a virtual probe is plugged into, shared with the lister that started it.
pub type SharedTarget = Arc<Mutex<VirtualTarget>>;

/// A virtual debug probe plugged into a QEMU machine.
#[derive(Debug)]
pub struct QemuProbe {
    name: String,
    target: Shared,
    speed_khz: u32,
}

/// The target, with a `Debug` that probe-rs's traits ask for.
#[derive(Clone)]
struct Shared(SharedTarget);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VirtualTarget")
    }
}

impl QemuProbe {
    /// A probe plugged into `target`, called `name`.
    pub fn new(name: String, target: SharedTarget) -> Self {
        QemuProbe { name, target: Shared(target), speed_khz: 4000 }
    }
}

fn lock(target: &Shared) -> MutexGuard<'_, VirtualTarget> {
    target.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn failed(message: String) -> ArmError {
    ArmError::Probe(DebugProbeError::Other(message))
}

impl DebugProbe for QemuProbe {
    fn get_name(&self) -> &str {
        &self.name
    }

    fn speed_khz(&self) -> u32 {
        self.speed_khz
    }

    fn set_speed(&mut self, speed_khz: u32) -> Result<u32, DebugProbeError> {
        self.speed_khz = speed_khz;
        Ok(speed_khz)
    }

    fn attach(&mut self) -> Result<(), DebugProbeError> {
        lock(&self.target).board.reconnect().map_err(DebugProbeError::Other)
    }

    fn detach(&mut self) -> Result<(), probe_rs::Error> {
        Ok(())
    }

    fn target_reset(&mut self) -> Result<(), DebugProbeError> {
        use super::scs::CoreAccess;
        lock(&self.target).board.reset(false).map_err(DebugProbeError::Other)
    }

    fn target_reset_assert(&mut self) -> Result<(), DebugProbeError> {
        use super::scs::CoreAccess;
        lock(&self.target).board.halt().map_err(DebugProbeError::Other)
    }

    fn target_reset_deassert(&mut self) -> Result<(), DebugProbeError> {
        Ok(())
    }

    fn select_protocol(&mut self, protocol: WireProtocol) -> Result<(), DebugProbeError> {
        match protocol {
            WireProtocol::Swd => Ok(()),
            other => Err(DebugProbeError::UnsupportedProtocol(other)),
        }
    }

    fn active_protocol(&self) -> Option<WireProtocol> {
        Some(WireProtocol::Swd)
    }

    fn has_arm_interface(&self) -> bool {
        true
    }

    fn try_get_arm_debug_interface<'probe>(
        self: Box<Self>,
        _sequence: Arc<dyn ArmDebugSequence>,
    ) -> Result<Box<dyn ArmDebugInterface + 'probe>, (Box<dyn DebugProbe>, ArmError)> {
        Ok(Box::new(QemuArmInterface { probe: self, dp: None }))
    }

    fn into_probe(self: Box<Self>) -> Box<dyn DebugProbe> {
        self
    }
}

/// The probe's ARM debug interface: one debug port, one memory access port (the core's bus).
#[derive(Debug)]
struct QemuArmInterface {
    probe: Box<QemuProbe>,
    dp: Option<DpAddress>,
}

impl SwdSequence for QemuArmInterface {
    fn swj_sequence(&mut self, _bit_len: u8, _bits: u64) -> Result<(), DebugProbeError> {
        Ok(())
    }

    fn swj_pins(&mut self, _pin_out: u32, _pin_select: u32, _pin_wait: u32) -> Result<u32, DebugProbeError> {
        Err(DebugProbeError::CommandNotSupportedByProbe { command_name: "swj_pins" })
    }
}

impl SwoAccess for QemuArmInterface {
    fn enable_swo(&mut self, _config: &SwoConfig) -> Result<(), ArmError> {
        Err(ArmError::Probe(DebugProbeError::CommandNotSupportedByProbe { command_name: "SWO" }))
    }

    fn disable_swo(&mut self) -> Result<(), ArmError> {
        Ok(())
    }

    fn read_swo_timeout(&mut self, _timeout: std::time::Duration) -> Result<Vec<u8>, ArmError> {
        Ok(Vec::new())
    }
}

impl probe_rs::architecture::arm::DapAccess for QemuArmInterface {
    fn read_raw_dp_register(&mut self, _dp: DpAddress, _addr: DpRegisterAddress) -> Result<u32, ArmError> {
        Err(ArmError::Probe(DebugProbeError::CommandNotSupportedByProbe { command_name: "raw DP access" }))
    }

    fn write_raw_dp_register(
        &mut self,
        _dp: DpAddress,
        _addr: DpRegisterAddress,
        _value: u32,
    ) -> Result<(), ArmError> {
        Err(ArmError::Probe(DebugProbeError::CommandNotSupportedByProbe { command_name: "raw DP access" }))
    }

    fn read_raw_ap_register(&mut self, _ap: &FullyQualifiedApAddress, _addr: u64) -> Result<u32, ArmError> {
        Err(ArmError::Probe(DebugProbeError::CommandNotSupportedByProbe { command_name: "raw AP access" }))
    }

    fn write_raw_ap_register(
        &mut self,
        _ap: &FullyQualifiedApAddress,
        _addr: u64,
        _value: u32,
    ) -> Result<(), ArmError> {
        Err(ArmError::Probe(DebugProbeError::CommandNotSupportedByProbe { command_name: "raw AP access" }))
    }

    fn try_dap_probe(&self) -> Option<&dyn DapProbe> {
        None
    }

    fn try_dap_probe_mut(&mut self) -> Option<&mut dyn DapProbe> {
        None
    }
}

impl ArmDebugInterface for QemuArmInterface {
    fn reinitialize(&mut self) -> Result<(), ArmError> {
        Ok(())
    }

    fn access_ports(&mut self, dp: DpAddress) -> Result<BTreeSet<FullyQualifiedApAddress>, ArmError> {
        Ok(BTreeSet::from([FullyQualifiedApAddress::v1_with_dp(dp, 0)]))
    }

    fn close(self: Box<Self>) -> Probe {
        Probe::from_specific_probe(self.probe)
    }

    fn select_debug_port(&mut self, dp: DpAddress) -> Result<(), ArmError> {
        self.dp = Some(dp);
        Ok(())
    }

    fn current_debug_port(&self) -> Option<DpAddress> {
        self.dp
    }

    fn memory_interface(
        &mut self,
        access_port_address: &FullyQualifiedApAddress,
    ) -> Result<Box<dyn ArmMemoryInterface + '_>, ArmError> {
        Ok(Box::new(QemuMemoryAp { ap: access_port_address.clone(), interface: self }))
    }
}

/// The memory access port: the guest's bus.
struct QemuMemoryAp<'a> {
    ap: FullyQualifiedApAddress,
    interface: &'a mut QemuArmInterface,
}

impl QemuMemoryAp<'_> {
    fn read_bytes(&mut self, address: u64, buf: &mut [u8]) -> Result<(), ArmError> {
        let mut target = lock(&self.interface.probe.target);
        let VirtualTarget { board, registers } = &mut *target;
        let emulated = (address & !3..address + buf.len() as u64).step_by(4).any(DebugRegisters::covers);
        if !emulated {
            return board.read(address, buf).map_err(failed);
        }
        // Word by word where an emulated register is among the words.
        for (index, chunk) in buf.chunks_mut(4).enumerate() {
            let at = address + 4 * index as u64;
            if DebugRegisters::covers(at) {
                let value = registers.read(board, at).map_err(failed)?;
                chunk.copy_from_slice(&value.to_le_bytes()[..chunk.len()]);
            } else {
                board.read(at, chunk).map_err(failed)?;
            }
        }
        Ok(())
    }

    fn write_bytes(&mut self, address: u64, data: &[u8]) -> Result<(), ArmError> {
        let mut target = lock(&self.interface.probe.target);
        let VirtualTarget { board, registers } = &mut *target;
        let emulated = (address & !3..address + data.len() as u64).step_by(4).any(DebugRegisters::covers);
        if !emulated {
            return board.write(address, data).map_err(failed);
        }
        for (index, chunk) in data.chunks(4).enumerate() {
            let at = address + 4 * index as u64;
            if DebugRegisters::covers(at) && chunk.len() == 4 {
                let value = u32::from_le_bytes(chunk.try_into().expect("four bytes"));
                registers.write(board, at, value).map_err(failed)?;
            } else {
                board.write(at, chunk).map_err(failed)?;
            }
        }
        Ok(())
    }
}

impl MemoryInterface<ArmError> for QemuMemoryAp<'_> {
    fn supports_native_64bit_access(&mut self) -> bool {
        false
    }

    fn read_64(&mut self, address: u64, data: &mut [u64]) -> Result<(), ArmError> {
        let mut bytes = vec![0; data.len() * 8];
        self.read_bytes(address, &mut bytes)?;
        for (word, chunk) in data.iter_mut().zip(bytes.chunks_exact(8)) {
            *word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        }
        Ok(())
    }

    fn read_32(&mut self, address: u64, data: &mut [u32]) -> Result<(), ArmError> {
        let mut bytes = vec![0; data.len() * 4];
        self.read_bytes(address, &mut bytes)?;
        for (word, chunk) in data.iter_mut().zip(bytes.chunks_exact(4)) {
            *word = u32::from_le_bytes(chunk.try_into().expect("four bytes"));
        }
        Ok(())
    }

    fn read_16(&mut self, address: u64, data: &mut [u16]) -> Result<(), ArmError> {
        let mut bytes = vec![0; data.len() * 2];
        self.read_bytes(address, &mut bytes)?;
        for (word, chunk) in data.iter_mut().zip(bytes.chunks_exact(2)) {
            *word = u16::from_le_bytes(chunk.try_into().expect("two bytes"));
        }
        Ok(())
    }

    fn read_8(&mut self, address: u64, data: &mut [u8]) -> Result<(), ArmError> {
        self.read_bytes(address, data)
    }

    fn write_64(&mut self, address: u64, data: &[u64]) -> Result<(), ArmError> {
        let bytes: Vec<u8> = data.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.write_bytes(address, &bytes)
    }

    fn write_32(&mut self, address: u64, data: &[u32]) -> Result<(), ArmError> {
        let bytes: Vec<u8> = data.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.write_bytes(address, &bytes)
    }

    fn write_16(&mut self, address: u64, data: &[u16]) -> Result<(), ArmError> {
        let bytes: Vec<u8> = data.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.write_bytes(address, &bytes)
    }

    fn write_8(&mut self, address: u64, data: &[u8]) -> Result<(), ArmError> {
        self.write_bytes(address, data)
    }

    fn supports_8bit_transfers(&self) -> Result<bool, ArmError> {
        Ok(true)
    }

    fn flush(&mut self) -> Result<(), ArmError> {
        Ok(())
    }
}

impl ArmMemoryInterface for QemuMemoryAp<'_> {
    fn fully_qualified_address(&self) -> FullyQualifiedApAddress {
        self.ap.clone()
    }

    fn base_address(&mut self) -> Result<u64, ArmError> {
        // No ROM table: the component base a Cortex-M's would point to.
        Ok(0xE00F_F000)
    }

    fn get_arm_debug_interface(&mut self) -> Result<&mut dyn ArmDebugInterface, DebugProbeError> {
        Ok(self.interface)
    }

    fn generic_status(&mut self) -> Result<CSW, ArmError> {
        Err(ArmError::Probe(DebugProbeError::CommandNotSupportedByProbe { command_name: "CSW" }))
    }
}
