//! The plain line mode of `asyncmon run`, `qemu`, `attach` and `demo`: what a runner prints when
//! there is no terminal (CI, `cargo run` in a pipe, an editor's task) or when asked
//! (`--plain`). The firmware's log lines on stdout, as `probe-rs run` prints defmt; failures with
//! their context, the stop's summary and how the run ended; what asyncmon itself says on stderr.
//! Ctrl+C stops the firmware (KeyboardInterrupt), a second one stops it hard, a third gives up.
//! Returns the run's exit code ([`super::outcome`]).

use super::outcome::{run_end, RunEnd};
use asyncmon_daemon::client::Client;
use asyncmon_protocol::host::wording::{printable, printable_lines};
use asyncmon_protocol::host::{
    wording, ClientRequest, LogLine, LogSource, ServerMessage, SessionEvent, SessionState, TargetState,
};
use std::time::Duration;
use tokio::time::Instant;

/// What ends a run besides the firmware itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// An unretrieved failure ends the run with exit code 1.
    pub fail_on_unretrieved: bool,
    /// A target that cannot be reached is waited for (`--wait-for-probe`).
    pub waits_for_target: bool,
}

/// How long a run that is over still listens: the cleanup lines after a stop, the exit after it.
const GRACE: Duration = Duration::from_millis(500);

/// Prints the session on `client` until the run is over; returns the exit code.
pub async fn run_plain(mut client: Client, socket: &str, options: RunOptions) -> anyhow::Result<i32> {
    // One listener for the whole run: a Ctrl+C that arrives while the loop is busy waits here for
    // the next turn (a `ctrl_c()` made anew each turn missed one that came between two turns).
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    client.request(&ClientRequest::SubscribeTarget { target: 0 }).await?;
    eprintln!("asyncmon: serving on {socket} (asyncmon ps, asyncmon stop from another terminal find it)");
    let mut session = SessionState::new(client.target.clone());
    let mut interrupts = 0;
    let mut over_at: Option<Instant> = None;
    loop {
        let grace = async {
            match over_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = client.recv() => match msg? {
                Some(ServerMessage::Snapshot(snapshot)) => {
                    // Whatever came before this client subscribed: nothing is left out.
                    for line in &snapshot.logs {
                        print_log(line);
                    }
                    for failure in &snapshot.failures {
                        print_failure(&snapshot, failure);
                    }
                    session = *snapshot;
                }
                Some(ServerMessage::Event(event)) => {
                    session.apply(&event);
                    print_event(&session, &event);
                }
                Some(ServerMessage::Refused { reason }) => eprintln!("asyncmon: refused: {reason}"),
                Some(_) => {}
                None => {
                    eprintln!("asyncmon: the daemon closed the connection");
                    break;
                }
            },
            _ = sigint.recv() => {
                interrupts += 1;
                match interrupts {
                    1 => {
                        eprintln!("asyncmon: stopping the firmware (KeyboardInterrupt); Ctrl+C again for a hard stop");
                        client.request(&ClientRequest::StopTarget { target: 0, hard: false }).await?;
                    }
                    2 => {
                        eprintln!("asyncmon: hard stop; Ctrl+C again to leave without waiting");
                        client.request(&ClientRequest::StopTarget { target: 0, hard: true }).await?;
                    }
                    _ => return Ok(super::outcome::INTERRUPTED),
                }
            }
            () = grace => break,
        }
        if over_at.is_none()
            && run_end(&session, options.fail_on_unretrieved, options.waits_for_target).is_some()
        {
            over_at = Some(Instant::now() + GRACE);
        }
    }
    let end = run_end(&session, options.fail_on_unretrieved, options.waits_for_target)
        .unwrap_or_else(|| RunEnd::Unreachable("the session ended before the firmware did".into()));
    eprintln!("asyncmon: {}", end.words());
    Ok(end.code())
}

fn print_event(session: &SessionState, event: &SessionEvent) {
    match event {
        SessionEvent::Log(line) => print_log(line),
        SessionEvent::Failure(failure) => print_failure(session, failure),
        SessionEvent::Interrupted(report) => println!("{}", printable(&wording::interrupt_summary(report))),
        SessionEvent::StopHandled { hook_ran, hard, .. } => {
            println!("{}", wording::stop_handled_words(*hook_ran, *hard))
        }
        SessionEvent::Problem(problem) => eprintln!("asyncmon: {}", printable(&problem.text)),
        SessionEvent::TargetState(TargetState::Failed { reason }) => {
            eprintln!("asyncmon: {}", printable(reason))
        }
        SessionEvent::SessionStarted { .. } => {
            if let Some(firmware) = &session.firmware {
                eprintln!(
                    "asyncmon: {} {} says hello (session {})",
                    printable(&firmware.name),
                    printable(&firmware.build_id),
                    session.epoch
                );
            }
        }
        _ => {}
    }
}

/// A log line: the firmware's on stdout (defmt ones with their level and source line), the
/// daemon's on stderr.
fn print_log(line: &LogLine) {
    let seconds = line.at_ms as f64 / 1000.0;
    match line.source {
        LogSource::Daemon => eprintln!("asyncmon: {}", printable_lines(&line.text)),
        _ => {
            let level =
                line.level.map(|l| format!("{:<5} ", format!("{l:?}").to_uppercase())).unwrap_or_default();
            let at = line
                .location
                .as_ref()
                .map(|l| format!(" ({})", printable(&l.to_string())))
                .unwrap_or_default();
            // The firmware's text is shown, never obeyed: a terminal escape in it is written out.
            println!("[{seconds:>8.3}] {level}{}{at}", printable_lines(&line.text));
        }
    }
}

fn print_failure(session: &SessionState, failure: &asyncmon_protocol::host::Failure) {
    let seconds = failure.at_ms as f64 / 1000.0;
    // A message of several lines (defmt::unwrap!'s error) stays under its failure.
    let mut lines = wording::failure_context(session, failure)
        .into_iter()
        .flat_map(|l| l.lines().map(|line| printable(line).into_owned()).collect::<Vec<_>>());
    if let Some(first) = lines.next() {
        println!("[{seconds:>8.3}] failure: {first}");
    }
    for line in lines {
        println!("{:>19}{line}", "");
    }
}
