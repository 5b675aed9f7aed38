//! The Cortex-M debug registers a probe drives, emulated over a core that can halt, run, step, reset
//! and give its registers ([`CoreAccess`]; QEMU does not model them): DHCSR (halt, step, run and
//! the status bits probe-rs polls), DCRSR/DCRDR (core registers), DEMCR (halt after reset), AIRCR's
//! SYSRESETREQ, DFSR, the breakpoint unit (FP_CTRL, FP_COMPn: hardware breakpoints of the core)
//! and DWT_CTRL (no watchpoints). Pure logic: tested against a fake core below.

/// What the emulated registers need of a core.
pub trait CoreAccess {
    /// Whether it is halted (a breakpoint it hit halts it too).
    fn is_halted(&mut self) -> Result<bool, String>;
    /// Halts it.
    fn halt(&mut self) -> Result<(), String>;
    /// Lets it run.
    fn resume(&mut self) -> Result<(), String>;
    /// Executes one instruction.
    fn step(&mut self) -> Result<(), String>;
    /// Resets the whole system; halted afterwards at the reset vector when `halt` is set,
    /// else running.
    fn reset(&mut self, halt: bool) -> Result<(), String>;
    /// Reads the register named as QEMU's gdbstub names it (`r0`, `sp`, `xpsr`, `msp`, `d3`);
    /// `None` when the core has no such register.
    fn read_register(&mut self, name: &str) -> Result<Option<u64>, String>;
    /// Writes it; `false` when there is no such register.
    fn write_register(&mut self, name: &str, value: u64) -> Result<bool, String>;
    /// Sets or clears a hardware breakpoint.
    fn breakpoint(&mut self, address: u64, set: bool) -> Result<(), String>;
    /// Reads the half-word at `address` (an instruction).
    fn read_u16(&mut self, address: u64) -> Result<u16, String>;
}

/// DHCSR, DCRSR, DCRDR, DEMCR.
pub const DHCSR: u64 = 0xE000_EDF0;
const DCRSR: u64 = 0xE000_EDF4;
const DCRDR: u64 = 0xE000_EDF8;
const DEMCR: u64 = 0xE000_EDFC;
const AIRCR: u64 = 0xE000_ED0C;
const DFSR: u64 = 0xE000_ED30;
const FP_CTRL: u64 = 0xE000_2000;
const FP_REMAP: u64 = 0xE000_2004;
const FP_COMP0: u64 = 0xE000_2008;
const DWT_CTRL: u64 = 0xE000_1000;

/// How many hardware breakpoints the emulated unit offers.
const BREAKPOINTS: usize = 4;

const C_DEBUGEN: u32 = 1 << 0;
const C_HALT: u32 = 1 << 1;
const C_STEP: u32 = 1 << 2;
const C_MASKINTS: u32 = 1 << 3;
const S_REGRDY: u32 = 1 << 16;
const S_HALT: u32 = 1 << 17;
const S_RETIRE_ST: u32 = 1 << 24;
const S_RESET_ST: u32 = 1 << 25;
const DBGKEY: u32 = 0xA05F << 16;
const VC_CORERESET: u32 = 1 << 0;
const SYSRESETREQ: u32 = 1 << 2;
const VECTKEY: u32 = 0x05FA << 16;
/// DFSR.HALTED: the core halted on a debug request or a step.
const DFSR_HALTED: u32 = 1 << 0;
/// DFSR.BKPT: the core hit a breakpoint.
const DFSR_BKPT: u32 = 1 << 1;

/// The emulated registers' state.
#[derive(Debug, Default)]
pub struct DebugRegisters {
    /// DHCSR's control bits (C_DEBUGEN, C_MASKINTS).
    control: u32,
    dcrdr: u32,
    demcr: u32,
    dfsr: u32,
    /// A reset happened since DHCSR was last read.
    reset_seen: bool,
    fp_enabled: bool,
    fp_comp: [u32; BREAKPOINTS],
    /// Whether the core was halted when last asked: a halt found on a later read was a breakpoint.
    halted_before: bool,
    /// A breakpoint set at the `BKPT` a routine returns to (see [`DebugRegisters::resume`]).
    return_trap: Option<u64>,
}

impl DebugRegisters {
    /// The registers of a core that a debugger has halted (QEMU started with `-S`: debug on).
    pub fn halted() -> Self {
        DebugRegisters { control: C_DEBUGEN, halted_before: true, ..Default::default() }
    }

    /// The registers of a core that runs with nobody debugging it.
    pub fn running() -> Self {
        DebugRegisters::default()
    }

    /// Whether `address` is one of the emulated registers (4 bytes at a time).
    pub fn covers(address: u64) -> bool {
        matches!(address, DHCSR | DCRSR | DCRDR | DEMCR | AIRCR | DFSR | FP_CTRL | FP_REMAP | DWT_CTRL)
            || (FP_COMP0..FP_COMP0 + 4 * BREAKPOINTS as u64).contains(&address)
            || (0xE000_1004..0xE000_1100).contains(&address)
    }

    /// Reads the register at `address`.
    pub fn read(&mut self, core: &mut dyn CoreAccess, address: u64) -> Result<u32, String> {
        Ok(match address {
            DHCSR => {
                let halted = core.is_halted()?;
                if halted && !self.halted_before {
                    self.dfsr |= DFSR_BKPT;
                    self.clear_return_trap(core)?;
                }
                self.halted_before = halted;
                let mut value = self.control | S_REGRDY | S_RETIRE_ST;
                if halted {
                    value |= S_HALT | C_HALT;
                }
                if std::mem::take(&mut self.reset_seen) {
                    value |= S_RESET_ST;
                }
                value
            }
            DCRDR => self.dcrdr,
            DEMCR => self.demcr,
            DFSR => self.dfsr,
            // The AIRCR's key reads back inverted; nothing else of it matters to a probe.
            AIRCR => 0xFA05_0000,
            // NUM_CODE = 4 comparators, no literal ones, revision 0 (Cortex-M0/M3/M4 style), KEY.
            FP_CTRL => ((BREAKPOINTS as u32) << 4) | u32::from(self.fp_enabled),
            a if (FP_COMP0..FP_COMP0 + 4 * BREAKPOINTS as u64).contains(&a) => {
                self.fp_comp[((a - FP_COMP0) / 4) as usize]
            }
            // No DWT comparators (NUMCOMP = 0) and nothing else in the DWT.
            _ => 0,
        })
    }

    /// Writes `value` to the register at `address`.
    pub fn write(&mut self, core: &mut dyn CoreAccess, address: u64, value: u32) -> Result<(), String> {
        match address {
            DHCSR if value & 0xFFFF_0000 == DBGKEY => self.write_dhcsr(core, value)?,
            DCRSR => self.write_dcrsr(core, value)?,
            DCRDR => self.dcrdr = value,
            DEMCR => self.demcr = value,
            DFSR => self.dfsr &= !value,
            AIRCR if value & 0xFFFF_0000 == VECTKEY && value & SYSRESETREQ != 0 => {
                let halt = self.demcr & VC_CORERESET != 0 && self.control & C_DEBUGEN != 0;
                core.reset(halt)?;
                self.reset_seen = true;
                self.halted_before = halt;
                if halt {
                    self.dfsr |= DFSR_HALTED;
                }
                // A reset clears the breakpoint unit.
                self.clear_breakpoints(core)?;
            }
            FP_CTRL if value & 0b10 != 0 => {
                self.fp_enabled = value & 1 != 0;
                self.apply_breakpoints(core)?;
            }
            a if (FP_COMP0..FP_COMP0 + 4 * BREAKPOINTS as u64).contains(&a) => {
                let index = ((a - FP_COMP0) / 4) as usize;
                if let Some(old) = breakpoint_address(self.fp_comp[index]).filter(|_| self.fp_enabled) {
                    core.breakpoint(old, false)?;
                }
                self.fp_comp[index] = value;
                if let Some(new) = breakpoint_address(value).filter(|_| self.fp_enabled) {
                    core.breakpoint(new, true)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn write_dhcsr(&mut self, core: &mut dyn CoreAccess, value: u32) -> Result<(), String> {
        self.control = value & (C_DEBUGEN | C_MASKINTS);
        if value & C_DEBUGEN == 0 {
            // Debug off: the core runs, its breakpoints no longer halt it.
            self.clear_breakpoints(core)?;
            self.clear_return_trap(core)?;
            core.resume()?;
            self.halted_before = false;
        } else if value & C_HALT != 0 {
            core.halt()?;
            self.clear_return_trap(core)?;
            self.dfsr |= DFSR_HALTED;
            self.halted_before = true;
        } else if value & C_STEP != 0 {
            core.step()?;
            self.dfsr |= DFSR_HALTED;
            self.halted_before = true;
        } else {
            self.resume(core)?;
        }
        Ok(())
    }

    /// Lets a debugged core run. A `BKPT` halts such a core; QEMU takes it as a fault instead. The
    /// one place a probe relies on it — a routine it calls returning to a `BKPT` at its link
    /// register, as probe-rs's flash algorithms do — is watched with a hardware breakpoint.
    fn resume(&mut self, core: &mut dyn CoreAccess) -> Result<(), String> {
        if self.halted_before {
            if let Some(lr) = core.read_register("lr")? {
                let at = lr & !1;
                if self.return_trap.is_none() && core.read_u16(at).is_ok_and(|insn| insn >> 8 == 0xBE) {
                    core.breakpoint(at, true)?;
                    self.return_trap = Some(at);
                }
            }
        }
        core.resume()?;
        self.halted_before = false;
        Ok(())
    }

    fn clear_return_trap(&mut self, core: &mut dyn CoreAccess) -> Result<(), String> {
        if let Some(at) = self.return_trap.take() {
            let kept = self.fp_enabled && self.fp_comp.iter().any(|c| breakpoint_address(*c) == Some(at));
            if !kept {
                core.breakpoint(at, false)?;
            }
        }
        Ok(())
    }

    fn write_dcrsr(&mut self, core: &mut dyn CoreAccess, value: u32) -> Result<(), String> {
        let selector = value & 0x7F;
        let write = value & (1 << 16) != 0;
        if write {
            write_core_register(core, selector, self.dcrdr)
        } else {
            self.dcrdr = read_core_register(core, selector)?;
            Ok(())
        }
    }

    fn apply_breakpoints(&mut self, core: &mut dyn CoreAccess) -> Result<(), String> {
        for comp in self.fp_comp {
            if let Some(address) = breakpoint_address(comp) {
                core.breakpoint(address, self.fp_enabled)?;
            }
        }
        Ok(())
    }

    fn clear_breakpoints(&mut self, core: &mut dyn CoreAccess) -> Result<(), String> {
        if self.fp_enabled {
            for comp in self.fp_comp {
                if let Some(address) = breakpoint_address(comp) {
                    core.breakpoint(address, false)?;
                }
            }
        }
        self.fp_comp = [0; BREAKPOINTS];
        self.fp_enabled = false;
        Ok(())
    }
}

/// The instruction address of an FP_COMP value (revision 0: COMP in bits 28:2, REPLACE says which
/// half-word; bit 0 enables it).
fn breakpoint_address(comp: u32) -> Option<u64> {
    if comp & 1 == 0 {
        return None;
    }
    let word = u64::from(comp & 0x1FFF_FFFC);
    Some(match comp >> 30 {
        0b10 => word + 2,
        _ => word,
    })
}

/// The gdbstub name of DCRSR's register selector, for the plain registers.
fn register_name(selector: u32) -> Option<String> {
    Some(match selector {
        0..=12 => format!("r{selector}"),
        13 => "sp".into(),
        14 => "lr".into(),
        15 => "pc".into(),
        16 => "xpsr".into(),
        17 => "msp".into(),
        18 => "psp".into(),
        0x21 => "fpscr".into(),
        _ => return None,
    })
}

/// CONTROL, FAULTMASK, BASEPRI, PRIMASK: one DCRSR selector (20), one byte each.
const SPECIAL: [(&str, u32); 4] = [("primask", 0), ("basepri", 8), ("faultmask", 16), ("control", 24)];

fn read_core_register(core: &mut dyn CoreAccess, selector: u32) -> Result<u32, String> {
    if selector == 20 {
        let mut value = 0;
        for (name, shift) in SPECIAL {
            value |= (core.read_register(name)?.unwrap_or(0) as u32 & 0xFF) << shift;
        }
        return Ok(value);
    }
    if (0x40..0x60).contains(&selector) {
        let s = selector - 0x40;
        let d = core.read_register(&format!("d{}", s / 2))?.unwrap_or(0);
        return Ok((d >> (32 * (s % 2))) as u32);
    }
    match register_name(selector) {
        Some(name) => Ok(core.read_register(&name)?.unwrap_or(0) as u32),
        None => Ok(0),
    }
}

fn write_core_register(core: &mut dyn CoreAccess, selector: u32, value: u32) -> Result<(), String> {
    if selector == 20 {
        for (name, shift) in SPECIAL {
            core.write_register(name, u64::from((value >> shift) & 0xFF))?;
        }
        return Ok(());
    }
    if (0x40..0x60).contains(&selector) {
        let s = selector - 0x40;
        let name = format!("d{}", s / 2);
        let d = core.read_register(&name)?.unwrap_or(0);
        let shift = 32 * (s % 2);
        let d = (d & !(0xFFFF_FFFFu64 << shift)) | (u64::from(value) << shift);
        core.write_register(&name, d)?;
        return Ok(());
    }
    if let Some(name) = register_name(selector) {
        core.write_register(&name, u64::from(value))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    #[derive(Default)]
    struct FakeCore {
        halted: bool,
        registers: HashMap<String, u64>,
        breakpoints: BTreeSet<u64>,
        resets: Vec<bool>,
        steps: usize,
        memory: HashMap<u64, u16>,
    }

    impl CoreAccess for FakeCore {
        fn is_halted(&mut self) -> Result<bool, String> {
            Ok(self.halted)
        }
        fn halt(&mut self) -> Result<(), String> {
            self.halted = true;
            Ok(())
        }
        fn resume(&mut self) -> Result<(), String> {
            self.halted = false;
            Ok(())
        }
        fn step(&mut self) -> Result<(), String> {
            self.steps += 1;
            self.halted = true;
            Ok(())
        }
        fn reset(&mut self, halt: bool) -> Result<(), String> {
            self.resets.push(halt);
            self.halted = halt;
            Ok(())
        }
        fn read_register(&mut self, name: &str) -> Result<Option<u64>, String> {
            Ok(self.registers.get(name).copied())
        }
        fn write_register(&mut self, name: &str, value: u64) -> Result<bool, String> {
            self.registers.insert(name.into(), value);
            Ok(true)
        }
        fn breakpoint(&mut self, address: u64, set: bool) -> Result<(), String> {
            if set {
                self.breakpoints.insert(address);
            } else {
                self.breakpoints.remove(&address);
            }
            Ok(())
        }
        fn read_u16(&mut self, address: u64) -> Result<u16, String> {
            self.memory.get(&address).copied().ok_or_else(|| format!("{address:#x} unmapped"))
        }
    }

    #[test]
    fn dhcsr_halts_steps_and_runs_the_core_and_reports_it() {
        let (mut core, mut regs) = (FakeCore::default(), DebugRegisters::running());
        regs.write(&mut core, DHCSR, DBGKEY | C_DEBUGEN | C_HALT).unwrap();
        assert!(core.halted);
        let dhcsr = regs.read(&mut core, DHCSR).unwrap();
        assert_ne!(dhcsr & S_HALT, 0);
        assert_ne!(dhcsr & S_REGRDY, 0);
        regs.write(&mut core, DHCSR, DBGKEY | C_DEBUGEN | C_STEP).unwrap();
        assert_eq!(core.steps, 1);
        regs.write(&mut core, DHCSR, DBGKEY | C_DEBUGEN).unwrap();
        assert!(!core.halted);
        assert_eq!(regs.read(&mut core, DHCSR).unwrap() & S_HALT, 0);
        // Without the key nothing happens.
        regs.write(&mut core, DHCSR, C_DEBUGEN | C_HALT).unwrap();
        assert!(!core.halted);
    }

    #[test]
    fn core_registers_go_through_dcrsr_and_dcrdr() {
        let (mut core, mut regs) = (FakeCore::default(), DebugRegisters::halted());
        core.registers.insert("pc".into(), 0x1234);
        core.registers.insert("d1".into(), 0x4040_0000_3F80_0000);
        regs.write(&mut core, DCRSR, 15).unwrap();
        assert_eq!(regs.read(&mut core, DCRDR).unwrap(), 0x1234);
        regs.write(&mut core, DCRSR, 0x43).unwrap(); // s3: the high half of d1
        assert_eq!(regs.read(&mut core, DCRDR).unwrap(), 0x4040_0000);
        regs.write(&mut core, DCRDR, 0x2000_1000).unwrap();
        regs.write(&mut core, DCRSR, (1 << 16) | 13).unwrap();
        assert_eq!(core.registers["sp"], 0x2000_1000);
        regs.write(&mut core, DCRDR, 0x0100_0001).unwrap(); // CONTROL 1, PRIMASK 1
        regs.write(&mut core, DCRSR, (1 << 16) | 20).unwrap();
        assert_eq!((core.registers["control"], core.registers["primask"]), (1, 1));
    }

    #[test]
    fn a_system_reset_halts_at_the_vector_only_with_reset_catch_and_is_seen_once() {
        let (mut core, mut regs) = (FakeCore::default(), DebugRegisters::halted());
        regs.write(&mut core, DEMCR, VC_CORERESET).unwrap();
        regs.write(&mut core, AIRCR, VECTKEY | SYSRESETREQ).unwrap();
        assert_eq!(core.resets, [true]);
        assert_ne!(regs.read(&mut core, DHCSR).unwrap() & S_RESET_ST, 0);
        assert_eq!(regs.read(&mut core, DHCSR).unwrap() & S_RESET_ST, 0);
        regs.write(&mut core, DEMCR, 0).unwrap();
        regs.write(&mut core, AIRCR, VECTKEY | SYSRESETREQ).unwrap();
        assert_eq!(core.resets, [true, false]);
        // A write without the key is no reset.
        regs.write(&mut core, AIRCR, SYSRESETREQ).unwrap();
        assert_eq!(core.resets.len(), 2);
    }

    #[test]
    fn the_breakpoint_unit_sets_the_cores_breakpoints_and_a_hit_is_a_breakpoint_halt() {
        let (mut core, mut regs) = (FakeCore::default(), DebugRegisters::running());
        assert_eq!(regs.read(&mut core, FP_CTRL).unwrap() >> 4 & 0xF, 4);
        regs.write(&mut core, FP_CTRL, 0b11).unwrap();
        regs.write(&mut core, FP_COMP0 + 4, 0x0000_0100 | (0b10 << 30) | 1).unwrap();
        assert_eq!(core.breakpoints, BTreeSet::from([0x102]));
        assert_eq!(regs.read(&mut core, DHCSR).unwrap() & S_HALT, 0);
        core.halted = true; // the core ran into it
        assert_ne!(regs.read(&mut core, DHCSR).unwrap() & S_HALT, 0);
        assert_ne!(regs.read(&mut core, DFSR).unwrap() & DFSR_BKPT, 0);
        regs.write(&mut core, FP_COMP0 + 4, 0).unwrap();
        assert!(core.breakpoints.is_empty());
    }

    #[test]
    fn a_routine_returning_to_a_bkpt_halts_there_as_on_silicon() {
        let (mut core, mut regs) = (FakeCore::default(), DebugRegisters::halted());
        core.memory.insert(0x2000_0000, 0xBE00);
        core.registers.insert("lr".into(), 0x2000_0001);
        regs.write(&mut core, DHCSR, DBGKEY | C_DEBUGEN).unwrap();
        assert_eq!(core.breakpoints, BTreeSet::from([0x2000_0000]));
        core.halted = true; // the routine returned
        assert_ne!(regs.read(&mut core, DHCSR).unwrap() & S_HALT, 0);
        assert!(core.breakpoints.is_empty(), "the trap is gone once it caught the return");
        // A return address that is no BKPT sets nothing.
        core.registers.insert("lr".into(), 0x0000_0101);
        core.memory.insert(0x100, 0x4770);
        regs.write(&mut core, DHCSR, DBGKEY | C_DEBUGEN).unwrap();
        assert!(core.breakpoints.is_empty());
    }
}
