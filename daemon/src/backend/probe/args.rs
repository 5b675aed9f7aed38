//! The command-line arguments that name a board, shared by `asyncmond probe` and `asyncmon run`.

use super::ProbeConfig;
use std::path::PathBuf;
use std::time::Duration;

/// A board through a debug probe, as the command line names it.
#[derive(Debug, Clone, clap::Args)]
pub struct BoardArgs {
    /// The firmware's ELF.
    pub elf: PathBuf,
    /// The chip, as probe-rs names it (nRF52840_xxAA, STM32F411RETx, ...); not needed with a
    /// virtual probe, which knows its machine's.
    #[arg(long)]
    pub chip: Option<String>,
    /// The probe, VID:PID[:SERIAL] (hex); needed when several are plugged in (`asyncmon probes`).
    /// `qemu:mps2-an386` or `qemu:microbit` is a virtual probe plugged into a QEMU machine: the
    /// whole board path without a board.
    #[arg(long)]
    pub probe: Option<String>,
    /// Attach to the running firmware without flashing.
    #[arg(long)]
    pub no_flash: bool,
    /// Attach while holding the chip in reset.
    #[arg(long)]
    pub connect_under_reset: bool,
}

impl BoardArgs {
    /// The target configuration these arguments describe.
    pub fn config(self) -> ProbeConfig {
        ProbeConfig {
            chip: self.chip.unwrap_or_default(),
            probe: self.probe,
            elf: self.elf,
            flash: !self.no_flash,
            connect_under_reset: self.connect_under_reset,
            poll_interval: Duration::from_millis(10),
            attach_timeout: Duration::from_secs(5),
        }
    }
}
