//! `asyncmon`: watch and stop async firmware. See `asyncmon --help`.

use asyncmon_daemon::export::otlp::OtlpArgs;
use asyncmon_daemon::outputs::OutputArgs;
use asyncmon_protocol::host::wording::printable_lines;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// asyncmon: a monitor for async Rust firmware. Shows every task, every failure with the path it
/// took (awaited, never retrieved, during shutdown), and stops the firmware so that it sees
/// KeyboardInterrupt and runs its cleanup.
#[derive(Parser)]
#[command(version, after_help = "Start with `asyncmon demo`: a simulated board, no hardware needed.")]
struct Cli {
    /// Write the daemon's and monitor's log to this file (RUST_LOG sets the level; default info).
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Flash a firmware to a board through a debug probe, reset and run it, and open the monitor.
    ///
    /// Like `probe-rs run`, with the task view: the ELF is flashed (with progress), the core is reset
    /// and run, RTT is attached. The chip name is checked first; a wrong one gets suggestions. As
    /// cargo's runner (`runner = "asyncmon run --chip nRF52840_xxAA"`): plain lines without a
    /// terminal, and an exit code a script can use — the firmware's own when it exits, 130 after
    /// KeyboardInterrupt, 101 after a panic, 1 after an unretrieved failure with
    /// --fail-on-unretrieved or when no probe is found. No board? `--probe qemu:mps2-an386` (or
    /// `qemu:microbit`) is a virtual probe plugged into a QEMU machine.
    Run {
        #[command(flatten)]
        board: asyncmon_daemon::backend::probe::args::BoardArgs,
        /// Wait for the probe to be plugged in (and for it to come back after a failed attach)
        /// instead of ending with the probes there are.
        #[arg(long)]
        wait_for_probe: bool,
        #[command(flatten)]
        watch: asyncmon_tui::runner::WatchArgs,

        /// The socket other clients can use.
        #[arg(long)]
        socket: Option<PathBuf>,
        /// What the session writes: --record, --perfetto, --otlp.
        #[command(flatten)]
        outputs: OutputArgs,
    },
    /// Run a firmware on a QEMU machine (no board needed) and open the monitor.
    ///
    /// QEMU starts with the machine RAM in a shared file; the daemon reads the RTT control block
    /// there while the guest runs, as a probe reads a chip's RAM. QEMU ends when the monitor does.
    /// As a cargo runner: `runner = "asyncmon qemu --machine mps2-an386"`.
    Qemu {
        #[command(flatten)]
        qemu: asyncmon_daemon::backend::qemu::args::QemuArgs,
        #[command(flatten)]
        watch: asyncmon_tui::runner::WatchArgs,

        /// The socket other clients can use.
        #[arg(long)]
        socket: Option<PathBuf>,
        /// What the session writes: --record, --perfetto, --otlp.
        #[command(flatten)]
        outputs: OutputArgs,
    },
    /// List the debug probes plugged in, with the --probe selector for each.
    Probes,
    /// Run the demo firmware on a simulated board and open the monitor.
    ///
    /// The firmware is this binary, run as a separate process; the daemon reads its RTT control
    /// block out of the process's memory, as a probe reads a chip's RAM. In the monitor: Tab
    /// switches between tasks and failures, arrows or j/k move, s stops (after a y/n), q quits.
    Demo {
        /// The socket other clients (`asyncmon stop`, editors) can use [default: demo-PID.sock
        /// beside asyncmond's default socket].
        #[arg(long)]
        socket: Option<PathBuf>,
        /// What the session writes: --record, --perfetto, --otlp.
        #[command(flatten)]
        outputs: OutputArgs,
        #[command(flatten)]
        watch: asyncmon_tui::runner::WatchArgs,
    },
    /// Play back a recording (made with --record) in the monitor, as if it were live.
    Replay {
        /// Show every event at once instead of at the recorded pace.
        #[arg(long)]
        fast: bool,
        /// The socket other clients can use while the replay runs.
        #[arg(long)]
        socket: Option<PathBuf>,
        /// The recording.
        file: PathBuf,
        #[command(flatten)]
        watch: asyncmon_tui::runner::WatchArgs,
    },
    /// Export a recording (made with --record) for other tools.
    ///
    /// `--perfetto OUT.json` writes a timeline that ui.perfetto.dev and Chrome DevTools' Performance panel open: a
    /// track per task (its life from spawn to end, its waits and failures, and each poll as a slice
    /// when the firmware has the `poll-trace` feature), the session's starts, log lines and stop on
    /// a track of their own, poll figures and executor idle time as counters.
    ///
    /// `--otlp URL` sends it to an OpenTelemetry collector, at the times it was recorded: failures
    /// as log records, task lives as spans (a spawn tree is a trace), poll figures as metrics.
    Export {
        /// The recording.
        file: PathBuf,
        /// Write a Perfetto / Chrome trace (JSON) to this file (`-`: standard output).
        #[arg(long, value_name = "OUT")]
        perfetto: Option<PathBuf>,
        /// Send it to an OpenTelemetry collector.
        #[command(flatten)]
        otlp: OtlpArgs,
    },
    /// Open the monitor on a target behind an RTT TCP server: OpenOCD (`rtt server start PORT 0`),
    /// J-Link's RTT port, or probe-rs. Strings are resolved from the firmware's ELF.
    Attach {
        /// The RTT server, HOST:PORT.
        #[arg(long = "rtt-tcp", value_name = "HOST:PORT")]
        rtt_tcp: String,
        /// The firmware's ELF (the build that runs on the target).
        #[arg(long)]
        elf: PathBuf,
        /// The socket other clients can use.
        #[arg(long)]
        socket: Option<PathBuf>,
        /// What the session writes: --record, --perfetto, --otlp.
        #[command(flatten)]
        outputs: OutputArgs,
        #[command(flatten)]
        watch: asyncmon_tui::runner::WatchArgs,
    },
    /// Open the monitor on a running asyncmond.
    Monitor {
        /// The daemon's socket [default: the one session running: asyncmond's, or asyncmon run's, qemu's or demo's].
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Which of the daemon's targets to watch (0 is the first; `asyncmond multi` serves several).
        #[arg(long, default_value_t = 0)]
        target: u32,
    },
    /// Stop the firmware: it sees KeyboardInterrupt, cancels every task, and acknowledges.
    Stop {
        /// The daemon's socket [default: the one session running: asyncmond's, or asyncmon run's, qemu's or demo's].
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Seconds to wait for the firmware's acknowledgement.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
    },
    /// Where every running task is waiting: one line per task with its innermost `.await`, what
    /// it waits for and for how long (read from target memory with the firmware's debug info;
    /// the device runs no code for it).
    Ps {
        #[command(flatten)]
        traces: asyncmon_tui::cmd::ps::TraceArgs,
    },
    /// The running tasks as a spawn tree, each with its whole await trace (outermost future
    /// first), as plain text to paste into an issue.
    Pstree {
        #[command(flatten)]
        traces: asyncmon_tui::cmd::ps::TraceArgs,
    },
    /// Reset the target (the simulator restarts its firmware): a new session epoch begins.
    Reset {
        /// The daemon's socket [default: the one session running: asyncmond's, or asyncmon run's, qemu's or demo's].
        #[arg(long)]
        socket: Option<PathBuf>,
        /// Seconds to wait for the firmware to come back.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
    },
    /// Run a firmware as the simulated device (used by the daemon).
    #[command(name = "__device", hide = true)]
    Device {
        /// demo, or a fault firmware.
        name: String,
    },
}

fn init_logging(log: Option<&PathBuf>) -> anyhow::Result<()> {
    if let Some(path) = log {
        let file = std::fs::File::create(path)?;
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
            )
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init();
    }
    Ok(())
}

fn main() {
    match run() {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            // The error says what happened and what to do; no backtrace for a user's mistake.
            eprintln!("asyncmon: {}", printable_lines(&format!("{error:#}")));
            std::process::exit(1);
        }
    }
}

/// Runs the command; returns the process's exit code.
fn run() -> anyhow::Result<i32> {
    let cli = Cli::parse();
    if let Command::Device { name } = &cli.command {
        std::process::exit(asyncmon_tui::cmd::device::run(name));
    }
    init_logging(cli.log.as_ref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    // A client given no --socket finds the one session that runs (or lists several).
    let default_socket =
        || -> anyhow::Result<PathBuf> { Ok(asyncmon_daemon::socket_path::find_session_socket()?) };
    let tree = matches!(cli.command, Command::Pstree { .. });
    let done = |result: anyhow::Result<()>| result.map(|()| 0);
    runtime.block_on(async {
        match cli.command {
            Command::Demo { socket, outputs, watch } => {
                asyncmon_tui::cmd::demo::run(socket, outputs, watch).await
            }
            Command::Replay { fast, socket, file, watch } => {
                asyncmon_tui::cmd::replay::run(file, fast, socket, watch).await
            }
            Command::Run { board, wait_for_probe, socket, outputs, watch } => {
                asyncmon_tui::cmd::run::run(board, wait_for_probe, socket, outputs, watch).await
            }
            Command::Qemu { qemu, socket, outputs, watch } => {
                asyncmon_tui::cmd::qemu::run(qemu, socket, outputs, watch).await
            }
            Command::Export { file, perfetto, otlp } => {
                let otlp = otlp.config()?;
                let formats = asyncmon_tui::cmd::export::Formats { perfetto, otlp };
                asyncmon_tui::cmd::export::run(&file, formats).map(|said| {
                    if !said.is_empty() {
                        println!("{said}");
                    }
                    0
                })
            }
            Command::Probes => {
                println!("{}", asyncmon_tui::cmd::probes::run());
                Ok(0)
            }
            Command::Attach { rtt_tcp, elf, socket, outputs, watch } => {
                asyncmon_tui::cmd::attach::run(rtt_tcp, elf, socket, outputs, watch).await
            }
            Command::Monitor { socket, target } => {
                let socket = match socket {
                    Some(socket) => socket,
                    None => default_socket()?,
                };
                done(asyncmon_tui::cmd::monitor::run(&socket, target).await)
            }
            Command::Stop { socket, timeout } => {
                let socket = match socket {
                    Some(socket) => socket,
                    None => default_socket()?,
                };
                let report = asyncmon_tui::cmd::stop::run(&socket, Duration::from_secs_f64(timeout)).await?;
                println!("{}", printable_lines(&report));
                Ok(0)
            }
            Command::Reset { socket, timeout } => {
                let socket = match socket {
                    Some(socket) => socket,
                    None => default_socket()?,
                };
                let epoch = asyncmon_tui::cmd::reset::run(&socket, Duration::from_secs_f64(timeout)).await?;
                println!("the target was reset: session epoch {epoch}");
                Ok(0)
            }
            Command::Ps { traces } | Command::Pstree { traces } => {
                let socket = match traces.socket {
                    Some(socket) => socket,
                    None => default_socket()?,
                };
                let timeout = Duration::from_secs_f64(traces.timeout);
                let session = asyncmon_tui::cmd::ps::fetch(&socket, traces.target, timeout).await?;
                let text = if tree {
                    asyncmon_tui::cmd::ps::pstree(&session)
                } else {
                    asyncmon_tui::cmd::ps::ps(&session)
                };
                print!("{text}");
                Ok(0)
            }
            Command::Device { .. } => unreachable!("handled before the runtime starts"),
        }
    })
}
