//! asyncmon's RTT control block, as agent and host both see it: its symbol, its id and its
//! channels' names.
//!
//! The agent's channels live in a control block of their own, [`SYMBOL`], not in `_SEGGER_RTT`: a
//! firmware keeps `defmt-rtt` (which owns `_SEGGER_RTT`) and every tool that reads it (`probe-rs
//! run`, `defmt-print`, SystemView) works beside asyncmon. The layout is SEGGER's; the id is
//! [`ID`], not SEGGER's, so a tool that scans RAM for `SEGGER RTT` never takes asyncmon's block for
//! the firmware's.

/// The symbol of asyncmon's control block.
pub const SYMBOL: &str = "_ASYNCMON_RTT";
/// The symbol of the firmware's own control block (`defmt-rtt`'s, `rtt-target`'s): the daemon reads
/// its log channels beside asyncmon's.
pub const SEGGER_SYMBOL: &str = "_SEGGER_RTT";
/// The id asyncmon's control block starts with once it is ready (written last, backwards).
pub const ID: &[u8; 16] = b"ASYNCMON RTT\0\0\0\0";
/// The id of a SEGGER RTT control block.
pub const SEGGER_ID: &[u8; 16] = b"SEGGER RTT\0\0\0\0\0\0";
/// The up channel of asyncmon's frames.
pub const UP_CHANNEL: &str = "asyncmon";
/// The up channel of the firmware's text logs (`asyncmon_agent::println!`).
pub const LOG_CHANNEL: &str = "log";
/// The up channel of defmt logs (defmt-rtt's name, and the agent's with its `defmt` feature).
pub const DEFMT_CHANNEL: &str = "defmt";
/// The down channel of the host's commands.
pub const DOWN_CHANNEL: &str = "asyncmon-control";
