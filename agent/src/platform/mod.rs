//! How the executor sleeps when nothing is ready, and how a wake gets it up again.

#[cfg(feature = "std")]
mod std_clock;
#[cfg(feature = "std")]
mod std_thread;
#[cfg(feature = "std")]
pub(crate) use std_thread::{signal, sleep_unless};

#[cfg(all(feature = "cortex-m", not(feature = "std")))]
mod cortex_m;
#[cfg(all(feature = "cortex-m", not(feature = "std")))]
pub(crate) use cortex_m::{signal, sleep_unless};

#[cfg(all(feature = "riscv", not(any(feature = "std", feature = "cortex-m"))))]
mod riscv_hart;
#[cfg(all(feature = "riscv", not(any(feature = "std", feature = "cortex-m"))))]
pub(crate) use riscv_hart::{signal, sleep_unless};

#[cfg(not(any(feature = "std", feature = "cortex-m", feature = "riscv")))]
mod spin;
#[cfg(not(any(feature = "std", feature = "cortex-m", feature = "riscv")))]
pub(crate) use spin::{signal, sleep_unless};
