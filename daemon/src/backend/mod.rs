//! Backends: the targets the daemon reads frames from and sends stop requests to.
//!
//! Every live target runs in one [`pump`] over a small [`transport`]: the simulated board
//! ([`sim`]: a firmware built for the host, run as a child process whose RTT control block is read
//! out of its memory), a QEMU machine running real firmware ([`qemu`]: its RAM shared through a
//! file), a board through a debug probe ([`probe`]), and an RTT TCP server ([`tcp`]).
//! A [`replay`] publishes a recording instead. Backends publish through an [`EventSink`] and take
//! [`TargetCommand`]s; they know nothing of the daemon's clients.

mod backoff;
pub mod command;
mod config;
pub mod doorbell;
mod elf;
pub mod error;
pub mod exe_strings;
mod panic_watch;
pub mod probe;
pub mod process;
pub mod pump;
pub mod qemu;
pub mod replay;
pub mod rtt_channels;
pub mod scripted;
pub mod sim;
pub mod sink;
pub mod spec;
pub mod tcp;
pub mod traces;
pub mod transport;

pub use backoff::Backoff;
pub use command::TargetCommand;
pub use config::TargetConfig;
pub use elf::{
    find_rtt_symbol, locate_executable, locate_in_process, runtime_address, symbol_address, LocateError,
    Located, RttSymbol,
};
pub use error::TargetError;
pub use sink::{EventSink, Sink};
