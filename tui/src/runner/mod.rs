//! What `asyncmon run`, `qemu`, `attach` and `demo` share: an in-process daemon on the target, then
//! the monitor on a terminal or the plain line mode without one ([`plain`]), and the run's exit
//! code ([`outcome`]) either way.

pub mod outcome;
pub mod plain;

use asyncmon_daemon::client::Client;
use asyncmon_daemon::daemon::{self, DaemonConfig};
use outcome::run_end;
use plain::RunOptions;
use std::io::IsTerminal;

/// The options every runner takes: how to show the run, what ends it.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct WatchArgs {
    /// Open the monitor even without a terminal (by default: the monitor on a terminal, plain
    /// lines otherwise).
    #[arg(long, conflicts_with = "plain")]
    pub monitor: bool,
    /// Print plain lines (logs, failures, the stop's summary) even on a terminal.
    #[arg(long)]
    pub plain: bool,
    /// End the run with exit code 1 at the first failure nobody retrieved.
    #[arg(long)]
    pub fail_on_unretrieved: bool,
}

impl WatchArgs {
    /// How to show the run.
    pub fn display(&self) -> Display {
        Display::from_flags(self.monitor, self.plain)
    }

    /// What ends it; `waits_for_target`: an unreachable target is waited for.
    pub fn options(&self, waits_for_target: bool) -> RunOptions {
        RunOptions { fail_on_unretrieved: self.fail_on_unretrieved, waits_for_target }
    }
}

/// Where a runner's daemon listens when no `--socket` is given: beside the default socket, named
/// after the command and this process, so two runs do not collide (`asyncmon ps` finds it).
pub fn session_socket_path(command: &str) -> std::path::PathBuf {
    let default = asyncmon_daemon::socket_path::default_socket_path();
    default.with_file_name(format!("{command}-{}.sock", std::process::id()))
}

/// How the run is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// The monitor on a terminal, plain lines otherwise.
    Auto,
    /// The monitor (`--monitor`).
    Monitor,
    /// Plain lines (`--plain`).
    Plain,
}

impl Display {
    /// From `--monitor` and `--plain`.
    pub fn from_flags(monitor: bool, plain: bool) -> Self {
        match (monitor, plain) {
            (true, _) => Display::Monitor,
            (false, true) => Display::Plain,
            _ => Display::Auto,
        }
    }

    fn monitor(self) -> bool {
        match self {
            Display::Monitor => true,
            Display::Plain => false,
            Display::Auto => std::io::stdout().is_terminal() && std::io::stdin().is_terminal(),
        }
    }
}

/// Starts an in-process daemon with `config` and shows its target until the user quits (the
/// monitor) or the run is over (plain lines); shuts the daemon down and returns the exit code.
pub async fn serve_and_watch(
    config: DaemonConfig,
    display: Display,
    options: RunOptions,
) -> anyhow::Result<i32> {
    let running = daemon::start(config)?;
    let client = Client::connect(&running.socket, "asyncmon").await?;
    let shown = running.socket.display().to_string();
    let result = if display.monitor() {
        crate::monitor::run::run_monitor(client, shown, 0).await.map(|session| {
            // Quitting the monitor while the firmware runs is a normal end.
            run_end(&session, options.fail_on_unretrieved, true).map_or(0, |end| end.code())
        })
    } else {
        plain::run_plain(client, &shown, options).await
    };
    tokio::task::block_in_place(|| running.shutdown());
    result
}
