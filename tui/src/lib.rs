//! `asyncmon`: the terminal monitor and command line for asyncmond.
//!
//! * [`monitor`]: the ratatui monitor, split the way tokio-console is: [`monitor::state`] (the model,
//!   fed only by host-link messages and keys), [`monitor::view`] (pure rendering of the state),
//!   [`monitor::input`] (keys to actions) and [`monitor::run`] (the loop: one event, then one draw).
//! * [`cmd`]: one module per subcommand.
//!
//! The monitor is a client of the daemon: it never touches a target.

pub mod cmd;
pub mod monitor;
pub mod runner;
