//! `asyncmond dap`: a debug adapter (the Debug Adapter Protocol over stdio) so that VS Code's debug
//! toolbar and Call Stack work on async firmware. Like `asyncmond lsp`, it is a client of the daemon:
//! it follows the daemon's session at the socket, and starts a daemon there for a launch when none
//! runs (that daemon ends with the debug session).
//!
//! # What the editor sees
//!
//! * **Tasks are threads** (`#3 telemetry`), and a task's **await trace is its call stack**: the
//!   innermost `.await` on top, the task's own future at the bottom; a frame opens the line where
//!   the future waits ([`view`]).
//! * The target is **never halted**: asyncmon reads the traces while the firmware runs. A "stopped"
//!   debug view shows a snapshot of the session taken when it stopped; Continue lets it follow the
//!   live session again; stepping is refused with a sentence saying why. Pause takes a snapshot.
//! * **Failures stop the view** (reason `exception`) on the failing task, per the exception filters
//!   in the Breakpoints view: *Unretrieved failures* (on by default) or *All failures*; neither:
//!   never. `exceptionInfo` gives the exception's type, message, raise site and spawn chain.
//! * **Stop** (the toolbar's first press, `terminate`) sends KeyboardInterrupt: every task's cleanup
//!   runs, and the debug session ends when the firmware has, with its exit code. The **second
//!   press** (`disconnect` with `terminateDebuggee`) stops it at once. **Restart** resets the
//!   target: a new session epoch. An attach session's Stop leaves the firmware running.
//! * The firmware's logs, failures and the stop's answer go to the Debug Console.
//!
//! See [`config`] for the launch configurations.

mod adapter;
pub mod config;
pub mod view;
pub mod wire;

use adapter::{Adapter, Flow};
pub use adapter::{FILTER_ALL, FILTER_UNRETRIEVED};
use std::path::PathBuf;
use wire::{read_messages, Output};

/// Serves DAP on stdin/stdout until the editor disconnects, closes stdin or sends SIGTERM; then
/// the daemon this adapter started (if any) ends.
pub async fn run_stdio(socket: PathBuf, daemon_program: PathBuf) {
    let mut adapter = Adapter::new(Output::new(tokio::io::stdout()), socket, daemon_program);
    let (requests, mut requests_rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(read_messages(tokio::io::stdin(), requests));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        tokio::select! {
            incoming = requests_rx.recv() => match incoming {
                Some(incoming) => {
                    if adapter.on_editor(incoming).await == Flow::End {
                        break;
                    }
                }
                None => break,
            },
            Some(input) = adapter.next_daemon_input() => adapter.on_daemon(input).await,
            Some(_) = async { match terminate.as_mut() { Some(t) => t.recv().await, None => std::future::pending().await } } => break,
        }
    }
    adapter.end().await;
}
