//! `asyncmond`: the asyncmon daemon. Owns one target and serves clients on a local socket.

use asyncmon_daemon::backend::probe::args::BoardArgs;
use asyncmon_daemon::backend::qemu::args::QemuArgs;
use asyncmon_daemon::backend::replay::ReplayConfig;
use asyncmon_daemon::backend::sim::SimConfig;
use asyncmon_daemon::backend::tcp::TcpConfig;
use asyncmon_daemon::daemon::{self, DaemonConfig, TargetConfig};
use asyncmon_daemon::outputs::OutputArgs;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// asyncmond: owns a target running asyncmon-agent firmware, decodes its task and failure frames,
/// and serves them to clients (`asyncmon`, editors) on a local socket.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// The socket to serve on [default: $XDG_RUNTIME_DIR/asyncmon/asyncmond.sock]
    #[arg(long, global = true)]
    socket: Option<PathBuf>,
    /// What the session writes besides what it serves: --record, --perfetto, --otlp (every
    /// target's session, each target a resource of its own; a collector that is down or slow never
    /// holds up a target: what does not fit the exporter's queue is dropped and counted).
    #[command(flatten)]
    outputs: OutputArgs,
    /// End (as on SIGTERM) when standard input closes. For programs that start asyncmond and
    /// hold its standard input: the daemon ends with them however they end, killed included.
    #[arg(long, global = true)]
    end_with_stdin: bool,
    #[command(subcommand)]
    target: Target,
}

#[derive(Subcommand)]
enum Target {
    /// Run a firmware built for the host (the agent's `std` platform) as a simulated board and
    /// read its RTT control block out of the process's memory.
    Sim {
        /// Seconds to wait for the firmware to create its RTT control block.
        #[arg(long, default_value_t = 5.0)]
        attach_timeout: f64,
        /// Start the firmware again when it ends or is killed (not after a stop request), with
        /// backoff, as a watchdog would reset a board.
        #[arg(long)]
        restart: bool,
        /// Attach to this firmware process, already running (after a daemon restart), instead of
        /// starting PROGRAM: no reset, the agent is asked to resync; the process is never killed.
        /// Reading another process's memory needs ptrace rights over it (its parent, root, or
        /// kernel.yama.ptrace_scope=0).
        #[arg(long, conflicts_with_all = ["program", "restart"])]
        pid: Option<u32>,
        /// The firmware executable.
        #[arg(required_unless_present = "pid")]
        program: Option<PathBuf>,
        /// Arguments for the firmware.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Read the asyncmon channel from an RTT TCP server (OpenOCD `rtt server start PORT 0`, J-Link,
    /// probe-rs) and resolve its strings from the firmware's ELF.
    Tcp {
        /// The firmware's ELF (the build that runs on the target).
        #[arg(long)]
        elf: PathBuf,
        /// The RTT server, HOST:PORT.
        addr: String,
    },
    /// A board through a debug probe (probe-rs): flash, reset, run, read RTT.
    Probe(BoardArgs),
    /// Run a microcontroller firmware on a QEMU machine (mps2-an386, ...): the daemon starts QEMU
    /// with the machine RAM in a shared file and reads RTT there while the guest runs.
    Qemu(QemuArgs),
    /// Serve several targets at once (two boards on two probes, say), each with its own session;
    /// clients pick one by number (0 first) or watch all.
    Multi {
        /// The targets: sim:PROGRAM, qemu:MACHINE=APP.elf, tcp:HOST:PORT=APP.elf, probe:CHIP=APP.elf[=VID:PID[:SERIAL]],
        /// replay:FILE.
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// Speak LSP on stdin/stdout for an editor (the asyncmon VS Code extension): the target's
    /// failures become diagnostics at the lines that raised them; `asyncmon.stop`,
    /// `asyncmon.hardStop` and `asyncmon.attach` are commands. A client of the daemon at --socket,
    /// like the monitor; `asyncmon.attach` starts a daemon there when none runs, and that daemon
    /// ends with the editor.
    Lsp {
        /// Speak on stdin/stdout (the only transport; accepted because editors' language clients
        /// pass it).
        #[arg(long)]
        stdio: bool,
    },
    /// Speak the Debug Adapter Protocol on stdin/stdout for an editor's debug view (the asyncmon
    /// VS Code extension's `asyncmon` debug type): tasks are threads, await traces their call
    /// stacks, failures stop the view; Stop is KeyboardInterrupt (the second press a hard stop),
    /// Restart resets the target. The target is never halted. A client of the daemon at --socket;
    /// a launch starts a daemon there when none runs, and that daemon ends with the debug session.
    Dap,
    /// Serve a recording (made with --record) to clients as if it were live.
    Replay {
        /// Publish every event at once instead of at the recorded pace.
        #[arg(long)]
        fast: bool,
        /// The recording.
        file: PathBuf,
    },
}

fn main() {
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            let result = runtime.block_on(run());
            // `lsp` and `dap` read stdin on a blocking thread that no one can interrupt: do not wait for it.
            runtime.shutdown_timeout(Duration::from_millis(200));
            result
        });
    if let Err(error) = result {
        // The error says what happened and what to do; no backtrace for a user's mistake.
        eprintln!("asyncmond: {error:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Plain lines when stderr is a pipe or a file (an editor's log, a CI log).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let given = cli.socket.clone();
    let socket = cli.socket.unwrap_or_else(asyncmon_daemon::socket_path::default_socket_path);
    let targets = match cli.target {
        Target::Lsp { stdio: _ } => {
            // An editor given no socket watches the one session that runs (`asyncmon run` in a
            // terminal, say); with none or several, the default one, where it can start a daemon.
            let socket =
                given.or_else(|| asyncmon_daemon::socket_path::find_session_socket().ok()).unwrap_or(socket);
            asyncmon_daemon::lsp::run_stdio(socket, std::env::current_exe()?).await;
            return Ok(());
        }
        Target::Dap => {
            asyncmon_daemon::dap::run_stdio(socket, std::env::current_exe()?).await;
            return Ok(());
        }
        Target::Sim { attach_timeout, restart, pid, program, args } => {
            let program = match (pid, program) {
                (Some(pid), _) => {
                    let exe = PathBuf::from(format!("/proc/{pid}/exe"));
                    std::fs::read_link(&exe).unwrap_or(exe)
                }
                (None, program) => program.unwrap_or_default(),
            };
            let mut sim = SimConfig::new(program, args);
            sim.attach_to = pid;
            sim.attach_timeout = Duration::from_secs_f64(attach_timeout);
            sim.restart = restart;
            vec![TargetConfig::Sim(sim)]
        }
        Target::Replay { fast, file } => vec![TargetConfig::Replay(ReplayConfig { file, fast })],
        Target::Probe(board) => vec![TargetConfig::Probe(board.config())],
        Target::Qemu(qemu) => vec![TargetConfig::Qemu(qemu.config().map_err(anyhow::Error::msg)?)],
        Target::Tcp { elf, addr } => {
            vec![TargetConfig::Tcp(TcpConfig { addr, elf, initial_backoff: Duration::from_millis(200) })]
        }
        Target::Multi { targets } => targets
            .iter()
            .map(|spec| asyncmon_daemon::backend::spec::parse(spec))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?,
    };
    let mut config = DaemonConfig { socket, targets, ..Default::default() };
    cli.outputs.apply(&mut config)?;
    let running = daemon::start(config)?;
    // A closed stdout (`asyncmond ... | head -0`) is no reason to stop serving: the line is a
    // courtesy, the socket is the interface.
    let _ = writeln!(std::io::stdout(), "asyncmond serving on {}", running.socket.display());
    // Ctrl-C or SIGTERM: end the target cleanly (the simulator's process is killed; a board is left
    // running, its RTT channels untouched) and remove the socket.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stdin_closed = stdin_closed(cli.end_with_stdin);
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
        _ = stdin_closed => tracing::info!("standard input closed (--end-with-stdin)"),
    }
    tracing::info!("shutting down");
    tokio::task::block_in_place(|| running.shutdown());
    Ok(())
}

/// Resolves when standard input reaches its end, if `watch`; never otherwise. Read on a thread of
/// its own that the process's end does not wait for.
async fn stdin_closed(watch: bool) {
    if !watch {
        return std::future::pending().await;
    }
    let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while matches!(std::io::Read::read(&mut std::io::stdin(), &mut buf), Ok(n) if n > 0) {}
        let _ = closed.send(());
    });
    let _ = on_close.await;
}
