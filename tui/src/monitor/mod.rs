//! The terminal monitor.

pub mod input;
pub mod run;
pub mod state;
pub mod tasks;
pub mod view;
