//! The subcommands of `asyncmon`, one module each.

pub mod attach;
pub mod demo;
pub mod device;
pub mod monitor;
pub mod replay;
pub mod reset;
pub mod stop;
