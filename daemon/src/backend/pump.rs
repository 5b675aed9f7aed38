//! The pump: the one loop every live target runs in, whatever its transport.
//!
//! It owns command dispatch, the [`DeviceLink`], opening and re-opening the RTT link, reconnecting
//! with backoff, stats throttling and publishing. A transport only moves bytes
//! ([`Transport`]); what to do when something goes wrong is decided here, once:
//!
//! * a control block or channel that makes no sense ([`TargetError::Link`]) is said once, the
//!   state leaves `Attached`, and the link is re-opened on the same connection with a short
//!   backoff (at most [`MAX_RELINK_WAIT`]), so it is back within a second of the block being sane;
//!   the firmware is then asked to resync, so tasks whose frames were lost are not left behind;
//! * a target that is gone or cannot be reached is reconnected with backoff;
//! * a firmware that cannot be served is reported once and waited out (it ends, or is reset);
//! * a firmware that ends is restarted (when the transport says so) or waits for a reset.
//!
//! `Attached` is published only while frames can flow, and stop requests are written only then
//! (the hub refuses them otherwise; one queued when the link breaks is delivered once it is back,
//! or said to be lost when the firmware ends).

use super::backoff::Backoff;
use super::command::TargetCommand;
use super::error::TargetError;
use super::panic_watch::PanicWatch;
use super::process::Exit;
use super::sink::Sink;
use super::traces::TraceReader;
use super::transport::{AfterReset, Transport};
use crate::device_link::DeviceLink;
use asyncmon_protocol::frame::{self, MAX_FRAME};
use asyncmon_protocol::host::{AwaitTraces, Problem, SessionEvent, TargetState};
use asyncmon_protocol::HostCommand;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

/// The longest wait between two attempts to re-open a link whose control block made no sense.
pub const MAX_RELINK_WAIT: Duration = Duration::from_millis(400);
/// The longest wait between two attempts to reach a target that is gone.
pub const MAX_RECONNECT_WAIT: Duration = Duration::from_secs(5);
/// How often link counters are published while they change.
const STATS_INTERVAL: Duration = Duration::from_millis(100);
/// For this long after a control frame went out (a stop, a resync), the pump reads every
/// [`ANSWER_POLL`] instead of every poll interval: the firmware's answer is due.
const ANSWER_WINDOW: Duration = Duration::from_millis(200);
/// How often the pump reads while an answer is due.
const ANSWER_POLL: Duration = Duration::from_millis(1);
/// A target that served this long is healthy again: the next failure waits the shortest time.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);

/// A host command as one device-link frame, for the control channel.
pub fn control_frame(command: &HostCommand) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME];
    frame::encode(command, &mut out).expect("a control frame fits").to_vec()
}

/// Runs `transport` in a pump on a thread of its own, publishing to `sink`, until `Shutdown`.
pub fn spawn<T: Transport + 'static>(
    name: &str,
    transport: T,
    sink: Sink,
    commands: Receiver<TargetCommand>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("asyncmon-{name}"))
        .spawn(move || Pump::new(transport, sink, commands).run())
        .expect("spawning a target thread")
}

/// See the module documentation.
pub struct Pump<T: Transport> {
    transport: T,
    sink: Sink,
    commands: Receiver<TargetCommand>,
    started: Instant,
    link: DeviceLink,
    /// Control frames waiting for room in the down channel.
    outgoing: Vec<u8>,
    /// Stop requests in `outgoing`, not yet written whole.
    stops: Vec<u32>,
    /// When a control frame last went out (its answer is then due: see [`ANSWER_WINDOW`]).
    last_write: Instant,
    /// Await traces, read while the link is up.
    traces: TraceReader,
    /// Whether the firmware halted (a panic).
    panics: PanicWatch,
}

/// How serving a connected target ended.
enum End {
    Shutdown,
    /// A reset ended the target; connect again.
    Reset,
    /// The firmware ended; `stopped`: after a stop request.
    Exited {
        exit: Exit,
        stopped: bool,
    },
    /// The connection broke, or could not be made.
    Lost(TargetError),
}

/// Why a wait between attempts ended.
enum Woken {
    Timeout,
    Reset,
    Shutdown,
}

impl<T: Transport> Pump<T> {
    /// A pump for `transport`.
    pub fn new(transport: T, sink: Sink, commands: Receiver<TargetCommand>) -> Self {
        let started = transport.clock();
        Pump {
            transport,
            sink,
            commands,
            started,
            link: DeviceLink::new(started),
            outgoing: Vec::new(),
            stops: Vec::new(),
            last_write: Instant::now() - ANSWER_WINDOW,
            traces: TraceReader::default(),
            panics: PanicWatch::default(),
        }
    }

    fn publish(&self, event: SessionEvent) {
        self.sink.publish(event);
    }

    fn state(&self, state: TargetState) {
        self.publish(SessionEvent::TargetState(state));
    }

    fn problem(&self, text: String) {
        tracing::warn!("{text}");
        let at_ms = self.started.elapsed().as_millis() as u64;
        self.publish(SessionEvent::Problem(Problem { at_ms, text }));
    }

    /// Serves the target until the daemon shuts down.
    pub fn run(mut self) {
        let timing = self.transport.timing();
        let mut backoff = Backoff::new(timing.reconnect_backoff, MAX_RECONNECT_WAIT);
        let mut restarts = 0u32;
        loop {
            self.state(TargetState::Starting);
            let connected = Instant::now();
            let end = match self.transport.connect(&self.sink) {
                Ok(()) => self.serve(),
                Err(e) => End::Lost(e),
            };
            if connected.elapsed() >= HEALTHY_AFTER {
                backoff.reset();
            }
            self.transport.disconnect(&self.sink);
            match end {
                End::Shutdown => return,
                End::Reset => {
                    self.forget_requests("the firmware was reset first");
                    self.problem("the firmware was reset: restarting it".into());
                }
                End::Lost(error) => {
                    let lost = self.link.discard_partial_frame();
                    let partial =
                        if lost > 0 { format!(" ({lost} bytes of a frame lost)") } else { String::new() };
                    let wait = backoff.next_wait();
                    let reason = format!("{error}{partial}; trying again in {wait:.1?}");
                    self.state(TargetState::Failed { reason: reason.clone() });
                    self.problem(reason);
                    self.forget_requests("the connection to the target was lost first");
                    if let Woken::Shutdown = self.wait(Some(wait)) {
                        return;
                    }
                }
                End::Exited { exit: Exit { code, description }, stopped } => {
                    self.state(TargetState::Exited { code, description: description.clone() });
                    self.forget_requests("the firmware ended first");
                    if self.transport.restarts_on_exit() && !stopped {
                        restarts += 1;
                        let wait = backoff.next_wait();
                        self.problem(format!(
                            "the firmware ended ({description}); restarting it in {wait:.1?} (restart {restarts})"
                        ));
                        if let Woken::Shutdown = self.wait(Some(wait)) {
                            return;
                        }
                    } else if !self.wait_for_reset() {
                        return;
                    }
                }
            }
        }
    }

    /// Control frames not yet written belong to the target that just ended: a stop among them is
    /// said to be lost (`why`), never silently dropped.
    fn forget_requests(&mut self, why: &str) {
        if !self.stops.is_empty() {
            let ids: Vec<String> = self.stops.iter().map(|id| format!("#{id}")).collect();
            self.problem(format!("stop request {} was not delivered: {why}", ids.join(", ")));
        }
        self.outgoing.clear();
        self.stops.clear();
    }

    /// Waits `time` (`None`: until woken), answering commands.
    fn wait(&mut self, time: Option<Duration>) -> Woken {
        let until = time.map(|t| Instant::now() + t);
        loop {
            let command = match until {
                Some(until) => self.commands.recv_timeout(until.saturating_duration_since(Instant::now())),
                None => self.commands.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match command {
                Ok(TargetCommand::Shutdown) | Err(RecvTimeoutError::Disconnected) => return Woken::Shutdown,
                Ok(TargetCommand::Reset) => return Woken::Reset,
                Ok(TargetCommand::Stop { request_id, .. }) => self
                    .problem(format!("stop request #{request_id} was not sent: the firmware is not running")),
                Ok(TargetCommand::RefreshTraces) => self.publish(SessionEvent::AwaitTraces(AwaitTraces {
                    epoch: self.link.epoch(),
                    at_ms: self.started.elapsed().as_millis() as u64,
                    tasks: Vec::new(),
                    unavailable: Some("the firmware is not running".into()),
                })),
                Err(RecvTimeoutError::Timeout) => return Woken::Timeout,
            }
        }
    }

    /// After the firmware ended: waits for a reset that can start it again (`true`) or the
    /// daemon's shutdown (`false`).
    fn wait_for_reset(&mut self) -> bool {
        loop {
            match self.wait(None) {
                Woken::Shutdown => return false,
                Woken::Reset => match self.transport.can_restart() {
                    Ok(()) => return true,
                    Err(e) => self.problem(e.to_string()),
                },
                Woken::Timeout => {}
            }
        }
    }

    /// Opens the link, reads frames and carries out commands until the target ends, breaks, is
    /// reset or the daemon shuts down.
    fn serve(&mut self) -> End {
        let timing = self.transport.timing();
        self.traces.forget();
        self.panics.forget();
        self.state(TargetState::WaitingForControlBlock);
        let mut link = LinkState::Opening { since: Instant::now(), reported: false };
        let mut relink = Backoff::new(timing.relink_backoff, MAX_RELINK_WAIT);
        let mut next_open = Instant::now();
        let mut resync = self.transport.ran_before_attach();
        let mut stopped = false;
        let (mut bytes, mut events) = (Vec::with_capacity(4096), Vec::new());
        let mut last_stats = self.link.stats();
        let mut last_stats_sent = Instant::now();
        // A command that arrived while the pump waited between reads.
        let mut arrived: Option<TargetCommand> = None;
        loop {
            let command = match arrived.take() {
                Some(command) => Ok(command),
                None => self.commands.try_recv(),
            };
            match command {
                Ok(TargetCommand::Shutdown) | Err(TryRecvError::Disconnected) => return End::Shutdown,
                Ok(TargetCommand::Stop { request_id, .. }) if self.panics.halted() => {
                    self.problem(format!(
                        "stop request #{request_id} was not sent: the firmware halted (a panic); `asyncmon reset` starts it again"
                    ));
                }
                Ok(TargetCommand::Stop { request_id, hard }) => {
                    if matches!(link, LinkState::Up) {
                        stopped = true;
                        let command = if hard {
                            HostCommand::HardStop { request_id }
                        } else {
                            HostCommand::Stop { request_id }
                        };
                        self.outgoing.extend_from_slice(&control_frame(&command));
                        self.stops.push(request_id);
                        tracing::info!(request_id, hard, "stop request queued");
                    } else {
                        self.problem(format!(
                            "stop request #{request_id} was not sent: the RTT link is not attached"
                        ));
                    }
                }
                Ok(TargetCommand::Reset) => match self.transport.reset() {
                    Ok(AfterReset::Reconnect) => return End::Reset,
                    Ok(AfterReset::Relink) => {
                        self.state(TargetState::WaitingForControlBlock);
                        self.problem("the target was reset: re-attaching RTT".into());
                        self.link.discard_partial_frame();
                        self.panics.forget();
                        self.forget_requests("the target was reset first");
                        link = LinkState::Opening { since: Instant::now(), reported: false };
                    }
                    Err(e @ TargetError::Unsupported(_)) => self.problem(e.to_string()),
                    Err(e) => return End::Lost(e),
                },
                Ok(TargetCommand::RefreshTraces) => self.traces.ask(),
                Err(TryRecvError::Empty) => {}
            }
            // Check for exit before reading: the final read happens while the process is there.
            let status = self.transport.exited();
            if !matches!(link, LinkState::Up | LinkState::Unusable) && Instant::now() >= next_open {
                match self.transport.open_link() {
                    Ok(true) => {
                        if let LinkState::Broken { .. } = link {
                            self.problem("RTT link re-attached: asking the firmware to resync".into());
                            resync = true;
                        }
                        link = LinkState::Up;
                        relink.reset();
                        tracing::info!("RTT attached");
                        self.state(TargetState::Attached);
                        if std::mem::take(&mut resync) {
                            self.outgoing.extend_from_slice(&control_frame(&HostCommand::Resync));
                        }
                    }
                    Ok(false) => {
                        next_open = Instant::now() + timing.poll_interval.max(Duration::from_millis(1));
                        if let LinkState::Opening { since, reported: reported @ false } = &mut link {
                            if since.elapsed() >= timing.attach_timeout {
                                *reported = true;
                                let reason = format!(
                                    "the firmware did not create its RTT control block within {:.1?}: does it call asyncmon_agent::link::init? (still looking)",
                                    timing.attach_timeout
                                );
                                self.problem(reason.clone());
                                self.state(TargetState::Failed { reason });
                            }
                        }
                    }
                    Err(TargetError::Link(e)) => {
                        if !link.reported() {
                            self.problem(format!("RTT link not usable: {e}; re-attaching"));
                        }
                        link = LinkState::Broken { reported: true };
                        next_open = Instant::now() + relink.next_wait();
                    }
                    Err(e @ TargetError::Firmware(_)) => {
                        let reason = e.to_string();
                        self.problem(reason.clone());
                        self.state(TargetState::Failed { reason });
                        link = LinkState::Unusable;
                    }
                    // This machine's passing state (out of file descriptors): the link is opened
                    // again on the same connection, with backoff; the firmware is left running.
                    Err(TargetError::Unavailable(reason)) if status.is_none() => {
                        if !link.reported() {
                            self.problem(reason.clone());
                            self.state(TargetState::Failed { reason });
                        }
                        link = LinkState::Broken { reported: true };
                        next_open = Instant::now() + relink.next_wait();
                    }
                    Err(e) if status.is_none() => return End::Lost(e),
                    Err(_) => {}
                }
            }
            bytes.clear();
            if let LinkState::Up = link {
                let io = self.write_pending().and_then(|()| self.transport.read(&mut bytes, &mut events));
                match io {
                    Ok(()) => {}
                    Err(TargetError::Link(e)) => {
                        // The state first: nothing may read `Attached` once frames cannot flow.
                        self.state(TargetState::WaitingForControlBlock);
                        link = LinkState::Broken { reported: true };
                        next_open = Instant::now() + relink.next_wait();
                        self.problem(format!("RTT link lost: {e}; re-attaching"));
                        let lost = self.link.discard_partial_frame();
                        if lost > 0 {
                            self.problem(format!("{lost} bytes of an unfinished frame were lost"));
                        }
                    }
                    // The process is going: its exit is the news, not the read.
                    Err(_) if status.is_some() => {}
                    Err(e) => return End::Lost(e),
                }
            }
            if !events.is_empty() {
                // A panic handler that is not asyncmon's says its panic in the logs.
                let elf = self.transport.debug_elf();
                self.panics.logs(&mut events, &mut self.link, self.transport.strings(), elf.as_ref());
                self.publish_all(&mut events);
            }
            if !bytes.is_empty() {
                // Cheap: the ELF's symbols are read only when an embassy task needs a name.
                self.link.set_elf(self.transport.debug_elf().map(|elf| (elf.path, elf.bias)));
                self.link.ingest(&bytes, self.transport.strings(), &mut events);
                self.publish_all(&mut events);
            }
            if matches!(link, LinkState::Up) && !self.panics.halted() && self.traces.due() {
                let elf = self.transport.debug_elf();
                let at_ms = self.started.elapsed().as_millis() as u64;
                self.traces.poll(elf, self.transport.strings(), &self.link, at_ms, &mut events);
                for event in events.drain(..) {
                    self.publish(event);
                }
            }
            if let LinkState::Up = link {
                if let Some(command) = self.link.take_recovery_request() {
                    tracing::info!(
                        ?command,
                        "frames were lost or refer to strings never seen: asking the firmware"
                    );
                    self.outgoing.extend_from_slice(&control_frame(&command));
                }
            }
            let stats = self.link.stats();
            if stats != last_stats && (last_stats_sent.elapsed() >= STATS_INTERVAL || status.is_some()) {
                self.publish(SessionEvent::Stats(stats));
                last_stats = stats;
                last_stats_sent = Instant::now();
            }
            if let Some(exit) = status.or_else(|| self.transport.exited()) {
                if self.link.pending_bytes() > 0 {
                    let lost = self.link.discard_partial_frame();
                    self.problem(format!(
                        "the firmware exited in the middle of a frame: {lost} bytes of an unfinished frame were lost"
                    ));
                }
                // The final counters, before the exit is published.
                self.publish(SessionEvent::Stats(self.link.stats()));
                return End::Exited { exit, stopped };
            }
            if bytes.is_empty() && !timing.poll_interval.is_zero() {
                // Wait for the next read, or for a command (a stop goes out at once). Right after a
                // command went out its answer is due: look often for a moment.
                let interval = if self.last_write.elapsed() < ANSWER_WINDOW {
                    timing.poll_interval.min(ANSWER_POLL)
                } else {
                    timing.poll_interval
                };
                match self.commands.recv_timeout(interval) {
                    Ok(command) => arrived = Some(command),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return End::Shutdown,
                }
            }
        }
    }

    /// Publishes `events` (emptying it), then the halt a panic among them means.
    fn publish_all(&mut self, events: &mut Vec<SessionEvent>) {
        let halt = self.panics.after(events);
        for event in events.drain(..) {
            self.publish(event);
        }
        if let Some(state) = halt {
            // What was published about the tasks' waits is over.
            self.traces.forget();
            self.state(state);
        }
    }

    /// Writes what fits of the waiting control frames.
    fn write_pending(&mut self) -> Result<(), TargetError> {
        if self.outgoing.is_empty() {
            return Ok(());
        }
        let n = self.transport.write(&self.outgoing)?;
        if n > 0 {
            self.last_write = Instant::now();
        }
        self.outgoing.drain(..n);
        if self.outgoing.is_empty() {
            self.stops.clear();
        }
        Ok(())
    }
}

/// Where the RTT link stands while a target is connected.
#[derive(Debug, Clone, Copy)]
enum LinkState {
    /// Looking for the control block for the first time since the connection.
    Opening { since: Instant, reported: bool },
    /// Frames flow.
    Up,
    /// The block made no sense; looking again with backoff.
    Broken { reported: bool },
    /// The firmware cannot be served (reported); waiting for it to end or be reset.
    Unusable,
}

impl LinkState {
    fn reported(&self) -> bool {
        matches!(self, LinkState::Broken { reported: true } | LinkState::Opening { reported: true, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::super::scripted::{hello_frame, play, Step};
    use super::*;

    const DEADLINE: Duration = Duration::from_secs(5);

    fn problems(events: &[SessionEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Problem(p) => Some(p.text.clone()),
                _ => None,
            })
            .collect()
    }

    fn states(events: &[SessionEvent]) -> Vec<TargetState> {
        events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::TargetState(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_block_that_makes_no_sense_is_said_once_and_the_link_comes_back() {
        let mut steps = vec![Step::Fine, Step::Fine, Step::Bytes(hello_frame()), Step::Corrupt];
        steps.extend(std::iter::repeat_n(Step::Corrupt, 5));
        let events = play(steps, true, DEADLINE);
        let problems = problems(&events);
        assert_eq!(problems.iter().filter(|p| p.contains("RTT link")).count(), 2, "{problems:?}");
        assert!(
            problems[0].contains("RTT link lost") && problems[0].contains("re-attaching"),
            "{problems:?}"
        );
        assert!(problems[1].contains("re-attached: asking the firmware to resync"), "{problems:?}");
        let states = states(&events);
        let lost = states.iter().position(|s| *s == TargetState::WaitingForControlBlock).unwrap();
        assert_eq!(states.last(), Some(&TargetState::Attached), "{states:?}");
        assert!(lost > 0);
    }

    #[test]
    fn a_target_that_cannot_be_reached_is_tried_again_until_it_can() {
        let events = play(vec![Step::NotThere, Step::Gone, Step::NotThere], true, DEADLINE);
        let failed: Vec<_> =
            states(&events).into_iter().filter(|s| matches!(s, TargetState::Failed { .. })).collect();
        assert_eq!(failed.len(), 3, "{failed:?}");
        assert!(problems(&events).iter().all(|p| p.contains("trying again in")));
    }

    #[test]
    fn a_link_this_machine_cannot_open_now_is_opened_again_without_restarting_the_firmware() {
        let mut steps = vec![Step::Fine];
        steps.extend(std::iter::repeat_n(Step::Busy, 5));
        steps.push(Step::Bytes(hello_frame()));
        let events = play(steps, true, DEADLINE);
        let problems = problems(&events);
        let said = problems.iter().filter(|p| p.contains("Too many open files")).count();
        assert_eq!(said, 1, "said once: {problems:?}");
        assert!(!problems.iter().any(|p| p.contains("trying again in")), "no reconnect: {problems:?}");
        assert_eq!(states(&events).last(), Some(&TargetState::Attached), "{:?}", states(&events));
    }

    #[test]
    fn a_stop_while_the_link_is_down_is_answered_not_swallowed() {
        let stop = Step::Command(TargetCommand::Stop { request_id: 7, hard: false });
        let events = play(vec![Step::Fine, Step::Corrupt, stop, Step::Corrupt], true, DEADLINE);
        assert!(
            problems(&events).iter().any(|p| p.contains("stop request #7 was not sent")),
            "{:?}",
            problems(&events)
        );
    }

    #[test]
    fn a_firmware_that_ends_is_said_to_and_started_again() {
        let events = play(vec![Step::Fine, Step::Fine, Step::Exit], false, DEADLINE);
        assert!(states(&events).iter().any(|s| matches!(s, TargetState::Exited { code: Some(1), .. })));
        assert!(problems(&events).iter().any(|p| p.contains("restarting it")));
    }

    #[test]
    fn a_firmware_that_cannot_be_served_is_said_once_and_waited_out() {
        let events = play(vec![Step::Fine, Step::Unusable, Step::Exit], false, DEADLINE);
        let failed = states(&events).into_iter().filter(|s| matches!(s, TargetState::Failed { .. })).count();
        assert_eq!(failed, 1);
        assert!(states(&events).iter().any(|s| matches!(s, TargetState::Exited { .. })));
    }
}
