//! The command-line arguments that name a firmware on a QEMU machine, shared by `asyncmond qemu`
//! and `asyncmon qemu` (which also serves as a cargo runner: cargo appends the ELF's path).

use super::machine;
use super::QemuConfig;
use std::path::PathBuf;
use std::time::Duration;

/// A firmware on a QEMU machine, as the command line names it.
#[derive(Debug, Clone, clap::Args)]
pub struct QemuArgs {
    /// The QEMU machine the firmware is built for: mps2-an386 (Cortex-M4F), mps2-an385
    /// (Cortex-M3), microbit (Cortex-M0) or virt (RISC-V, RV32IMAC).
    #[arg(long, default_value = "mps2-an386")]
    pub machine: String,
    /// Let instructions drive the guest's clock (QEMU's -icount, e.g. `shift=4,sleep=off`): runs
    /// repeat exactly, but time no longer follows the wall clock.
    #[arg(long, value_name = "OPTIONS")]
    pub icount: Option<String>,
    /// Seconds the firmware has to create its RTT control block.
    #[arg(long, default_value_t = 5.0)]
    pub attach_timeout: f64,
    /// The firmware's ELF, built for the machine (with asyncmon-agent linked).
    pub elf: PathBuf,
}

impl QemuArgs {
    /// The target configuration these arguments describe; an unknown machine is an error that
    /// lists the known ones.
    pub fn config(self) -> Result<QemuConfig, String> {
        let mut config = QemuConfig::new(self.elf, machine::find(&self.machine)?);
        config.icount = self.icount;
        config.attach_timeout = Duration::from_secs_f64(self.attach_timeout.max(0.0));
        Ok(config)
    }
}
