//! asyncmond: the daemon that owns a target, reads its asyncmon frames and serves clients.
//!
//! * [`memory`] and [`rtt`]: target memory access and the host side of SEGGER RTT.
//! * [`target`]: the targets (the simulator: a firmware built for the host, run as a child process).
//! * [`device_link`]: device-link frames to session events (strings resolved, versions checked).
//! * [`hub`]: the session model and the event fan-out to clients.
//! * [`server`]: the local socket clients connect to; [`client`]: the other end of it.
//! * [`daemon`]: puts them together.

pub mod await_trace;
pub mod backend;
pub mod client;
pub mod daemon;
pub mod dap;
pub mod defmt_logs;
pub mod device_link;
pub mod elf_memory;
pub mod embassy_pools;
pub mod export;
pub mod host_codec;
pub mod hub;
pub mod lsp;
pub mod memory;
pub mod outputs;
pub mod owned_daemon;
pub mod panic_line;
pub mod poll_slices;
pub mod roll_call;
pub mod rtt;
pub mod server;
pub mod socket_path;
pub mod source_paths;
pub mod text_channels;
