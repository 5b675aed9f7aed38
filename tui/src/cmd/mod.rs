//! The subcommands of `asyncmon`, one module each.

pub mod attach;
pub mod demo;
pub mod device;
pub mod export;
pub mod monitor;
pub mod probes;
pub mod ps;
pub mod qemu;
pub mod replay;
pub mod reset;
pub mod run;
pub mod stop;
