//! `asyncmon monitor`: the monitor on a daemon that is already running.

use asyncmon_daemon::client::Client;
use std::path::Path;

/// Connects to the daemon at `socket` and runs the monitor on its target number `target` until the
/// user quits.
pub async fn run(socket: &Path, target: u32) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the monitor needs a terminal, and standard output is not one: run it in a terminal, or print the session as text with `asyncmon ps` or `asyncmon pstree`"
        );
    }
    let client = Client::connect(socket, "asyncmon monitor").await?;
    crate::monitor::run::run_monitor(client, socket.display().to_string(), target).await.map(|_| ())
}
