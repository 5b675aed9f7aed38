//! A recording as a Chrome/Perfetto trace (the JSON "Trace Event Format"), which ui.perfetto.dev
//! and Chrome DevTools' Performance panel open as a timeline: one process (the target), one track
//! per task, where each task's life is a slice from its spawn to its end (its outcome in the
//! slice's arguments), its waits (from the await traces) and failures are instant events on its
//! track, and the session's own events — starts, log lines, the stop, the target's state — are on a
//! `session` track. A firmware with the `poll-trace` feature sends each poll: each is a `poll` slice
//! inside its task's life, placed on the recording's clock by [`polls`] and drawn with the life.
//! Without it, the sampled poll figures are counters.

mod polls;

use asyncmon_protocol::host::recording::{RecordedEvent, RecordingError, RecordingHeader, RecordingReader};
use asyncmon_protocol::host::wording::{
    ending_words, failure_path_words, interrupt_summary, location_words, stop_handled_words,
    waiting_for_words,
};
use asyncmon_protocol::host::{SessionEvent, TargetState, Task};
use polls::PolledTasks;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The process every event belongs to (the target).
const PID: u32 = 1;
/// The session's track.
const SESSION_TID: u32 = 0;

/// The trace of `events` from a target described as `target`.
pub fn trace(target: &str, events: &[RecordedEvent]) -> Value {
    let mut trace = Trace::new(target, PolledTasks::of(events));
    for recorded in events {
        trace.event(recorded.at_ms, &recorded.event);
    }
    let end_ms = events.last().map_or(0, |e| e.at_ms);
    trace.finish(end_ms)
}

/// Why a recording could not be read or its trace written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The recording could not be opened.
    #[error("cannot open the recording {path}: {source}")]
    Open {
        /// The recording.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is no recording, or a damaged one.
    #[error("{path} is not a recording asyncmon can read: {source}")]
    Read {
        /// The recording.
        path: PathBuf,
        /// Where and why.
        source: RecordingError,
    },
    /// The trace could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The trace's path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A recording's header and events, read whole.
pub fn read_recording(path: &Path) -> Result<(RecordingHeader, Vec<RecordedEvent>), ExportError> {
    let input =
        std::fs::File::open(path).map_err(|source| ExportError::Open { path: path.into(), source })?;
    let read = |source| ExportError::Read { path: path.into(), source };
    let mut reader = RecordingReader::new(std::io::BufReader::new(input)).map_err(read)?;
    let mut events = Vec::new();
    while let Some(event) = reader.next_event().map_err(read)? {
        events.push(event);
    }
    Ok((reader.header, events))
}

/// Writes the trace of a recording (`header`, `events`) to `out` (`-`: standard output); returns
/// how many trace events it holds.
pub fn write(header: &RecordingHeader, events: &[RecordedEvent], out: &Path) -> Result<usize, ExportError> {
    let target = format!("{} ({})", header.target.name, header.target.backend);
    let trace = trace(&target, events);
    let count = trace["traceEvents"].as_array().map_or(0, |e| e.len());
    let json = serde_json::to_vec(&trace).expect("a JSON value serializes");
    let written =
        if out == Path::new("-") { std::io::stdout().write_all(&json) } else { std::fs::write(out, &json) };
    written.map_err(|source| ExportError::Write { path: out.into(), source })?;
    Ok(count)
}

/// A task whose slice is still open.
struct Open {
    tid: u32,
    name: String,
    since_ms: u64,
    args: Value,
}

struct Trace {
    events: Vec<Value>,
    /// Tasks alive now, by (epoch, id): ids are reused across epochs and after a task ends.
    open: HashMap<(u32, u32), Open>,
    /// The track of the latest task with each (epoch, id), alive or not: an unretrieved failure
    /// arrives after its task ended.
    tracks: HashMap<(u32, u32), u32>,
    epoch: u32,
    next_tid: u32,
    /// The polls of a `poll-trace` firmware, on the recording's clock.
    polls: PolledTasks,
}

/// Microseconds, the format's unit, from the recording's milliseconds.
fn us(ms: u64) -> u64 {
    ms * 1000
}

impl Trace {
    fn new(target: &str, polls: PolledTasks) -> Self {
        let events = vec![
            json!({"ph": "M", "pid": PID, "name": "process_name", "args": {"name": target}}),
            json!({
                "ph": "M", "pid": PID, "tid": SESSION_TID, "name": "thread_name",
                "args": {"name": "session"},
            }),
            json!({
                "ph": "M", "pid": PID, "tid": SESSION_TID, "name": "thread_sort_index",
                "args": {"sort_index": -1},
            }),
        ];
        Trace { events, open: HashMap::new(), tracks: HashMap::new(), epoch: 0, next_tid: 1, polls }
    }

    /// An instant event on track `tid`.
    fn instant(&mut self, at_ms: u64, tid: u32, name: String, args: Value) {
        self.events.push(
            json!({"ph": "i", "s": "t", "pid": PID, "tid": tid, "ts": us(at_ms), "name": name, "args": args}),
        );
    }

    fn session(&mut self, at_ms: u64, name: String, args: Value) {
        self.instant(at_ms, SESSION_TID, name, args);
    }

    fn tid_of(&self, epoch: u32, id: u32) -> Option<u32> {
        self.tracks.get(&(epoch, id)).copied()
    }

    fn spawned(&mut self, at_ms: u64, task: &Task) {
        // A task announced again (a roll call, a resync) keeps its track.
        if self.open.contains_key(&(task.epoch, task.id)) {
            return;
        }
        let tid = self.next_tid;
        self.next_tid += 1;
        let name = format!("{} (task {})", task.name, task.id);
        self.events
            .push(json!({"ph": "M", "pid": PID, "tid": tid, "name": "thread_name", "args": {"name": name}}));
        self.tracks.insert((task.epoch, task.id), tid);
        let args = json!({
            "task": task.id,
            "epoch": task.epoch,
            "spawned at": location_words(&task.spawned_at, None),
            "parent": task.parent,
        });
        self.open.insert((task.epoch, task.id), Open { tid, name: task.name.clone(), since_ms: at_ms, args });
    }

    /// Closes a task's slice at `at_ms`, saying how it ended, and draws its polls inside it (in
    /// microseconds, to the nanosecond). The slice holds every poll of the task: the device ran the
    /// first before the daemon read the spawn, and may send the last after the end.
    fn ended(&mut self, at_ms: u64, key: (u32, u32), how: &str) {
        let Some(Open { tid, name, since_ms, mut args }) = self.open.remove(&key) else { return };
        args["ended"] = Value::from(how);
        let (mut from, mut to) = (us(since_ms), us(at_ms));
        if let Some((first, last)) = self.polls.span(key.0, key.1) {
            (from, to) = (from.min(first / 1000), to.max(last.div_ceil(1000)));
        }
        self.events.push(json!({
            "ph": "X", "pid": PID, "tid": tid, "ts": from, "dur": to.saturating_sub(from),
            "name": name, "args": args,
        }));
        for poll in self.polls.of_task(key.0, key.1) {
            let busy_ns = poll.end_ns - poll.start_ns;
            self.events.push(json!({
                "ph": "X", "pid": PID, "tid": tid, "name": "poll",
                "ts": poll.start_ns as f64 / 1000.0, "dur": busy_ns as f64 / 1000.0,
                "args": {"busy µs": busy_ns as f64 / 1000.0},
            }));
        }
    }

    fn event(&mut self, at_ms: u64, event: &SessionEvent) {
        match event {
            SessionEvent::SessionStarted { epoch, firmware } => {
                // A new epoch: the old one's slices end here (tasks still running are announced again).
                let old: Vec<(u32, u32)> = self.open.keys().copied().filter(|(e, _)| *e != *epoch).collect();
                for key in old {
                    self.ended(
                        at_ms,
                        key,
                        "a new session epoch began (a reset, a restart, or a host attaching again)",
                    );
                }
                self.epoch = *epoch;
                let name = format!("session started: {} (epoch {epoch})", firmware.name);
                self.session(at_ms, name, json!({"build id": firmware.build_id}));
            }
            SessionEvent::TaskSpawned(task) => self.spawned(at_ms, task),
            SessionEvent::TaskFinished { id, outcome } => {
                self.ended(at_ms, (self.epoch, *id), ending_words(*outcome));
            }
            SessionEvent::Failure(failure) => {
                let type_name = failure.exception.as_ref().map_or("panic", |e| e.type_name.as_str());
                let mut args = json!({
                    "message": failure.message,
                    "path": failure_path_words(failure.path),
                });
                if let Some(at) = failure.exception.as_ref().and_then(|e| e.raised_at.as_ref()) {
                    args["raised at"] = Value::from(location_words(at, None));
                }
                let tid =
                    failure.task.as_ref().and_then(|t| self.tid_of(t.epoch, t.id)).unwrap_or(SESSION_TID);
                self.instant(at_ms, tid, format!("failure: {type_name}"), args);
            }
            SessionEvent::Interrupted(report) => {
                self.session(
                    at_ms,
                    "stop: KeyboardInterrupt".into(),
                    json!({"summary": interrupt_summary(report)}),
                );
            }
            SessionEvent::StopHandled { hook_ran, hard, .. } => {
                self.session(at_ms, "stop".into(), json!({"summary": stop_handled_words(*hook_ran, *hard)}));
            }
            SessionEvent::Log(line) => {
                self.session(at_ms, line.text.clone(), json!({"source": format!("{:?}", line.source)}));
            }
            SessionEvent::Problem(problem) => {
                self.session(at_ms, format!("problem: {}", problem.text), json!({}))
            }
            SessionEvent::TargetState(state) => {
                let words = match state {
                    TargetState::Exited { description, .. } => format!("exited: {description}"),
                    TargetState::Failed { reason } => format!("target failed: {reason}"),
                    TargetState::Halted { .. } => "halted".into(),
                    other => format!("{other:?}"),
                };
                self.session(at_ms, words, json!({}));
            }
            SessionEvent::AwaitTraces(traces) => {
                for task in &traces.tasks {
                    if let Some(tid) = self.tid_of(traces.epoch, task.task) {
                        let mut args = json!({});
                        if let Some(frame) = task.innermost() {
                            args["in"] = Value::from(frame.function.clone());
                        }
                        self.instant(at_ms, tid, format!("waiting for {}", waiting_for_words(task)), args);
                    }
                }
            }
            SessionEvent::TaskStats { id, stats } => {
                if let Some(open) = self.open.get(&(self.epoch, *id)) {
                    let name = format!("polls: {} (task {id})", open.name);
                    self.events.push(json!({
                        "ph": "C", "pid": PID, "ts": us(at_ms), "name": name,
                        "args": {"polls": stats.polls, "busy ms": stats.busy_us as f64 / 1000.0},
                    }));
                }
            }
            SessionEvent::ExecutorLoad(load) => {
                self.events.push(json!({
                    "ph": "C", "pid": PID, "ts": us(at_ms), "name": "executor idle %",
                    "args": {"idle": load.idle_percent()},
                }));
            }
            // Drawn with their task's life (`ended`).
            SessionEvent::Polls(_)
            | SessionEvent::Stats(_)
            | SessionEvent::RollCall { .. }
            | SessionEvent::ExecutorObserved(_)
            | SessionEvent::TaskDeclared { .. } => {}
        }
    }

    /// Closes what is still open at the recording's end.
    fn finish(mut self, end_ms: u64) -> Value {
        let open: Vec<(u32, u32)> = self.open.keys().copied().collect();
        for key in open {
            self.ended(end_ms, key, "still running when the recording ended");
        }
        json!({"traceEvents": self.events, "displayTimeUnit": "ms"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures::started;
    use asyncmon_protocol::host::{Exception, Failure, FailurePath, Location, TaskOutcome};

    fn task(epoch: u32, id: u32, name: &str) -> Task {
        crate::export::fixtures::task(epoch, id, name, None)
    }

    fn at(at_ms: u64, event: SessionEvent) -> RecordedEvent {
        RecordedEvent { at_ms, event }
    }

    /// The events of phase `ph` on track `tid`.
    fn on(trace: &Value, ph: &str, tid: u64) -> Vec<Value> {
        let events = trace["traceEvents"].as_array().unwrap();
        events.iter().filter(|e| e["ph"] == ph && e["tid"] == tid).cloned().collect()
    }

    fn track(trace: &Value, name: &str) -> u64 {
        let events = trace["traceEvents"].as_array().unwrap();
        events.iter().find(|e| e["name"] == "thread_name" && e["args"]["name"] == name).unwrap()["tid"]
            .as_u64()
            .unwrap()
    }

    #[test]
    fn a_task_is_a_track_whose_slice_runs_from_spawn_to_end_with_its_failure_on_it() {
        let failure = Failure {
            seq: 1,
            epoch: 1,
            at_ms: 40,
            message: "sensor 3 did not answer".into(),
            exception: Some(Exception {
                type_name: "AppError".into(),
                message: "sensor 3 did not answer".into(),
                raised_at: Some(Location { file: "src/probe.rs".into(), line: 12, column: 9 }),
            }),
            task: Some(task(1, 2, "probe")),
            path: FailurePath::Unretrieved,
        };
        let trace = trace(
            "mps2-an386: fw.elf",
            &[
                at(0, started(1)),
                at(10, SessionEvent::TaskSpawned(task(1, 1, "main"))),
                at(20, SessionEvent::TaskSpawned(task(1, 2, "probe"))),
                // Unretrieved: the handler gets the failure once the task has ended.
                at(40, SessionEvent::TaskFinished { id: 2, outcome: TaskOutcome::Failed }),
                at(45, SessionEvent::Failure(failure)),
                at(
                    90,
                    SessionEvent::Log(asyncmon_protocol::host::LogLine::plain(
                        90,
                        asyncmon_protocol::host::LogSource::FirmwareStdout,
                        "done".into(),
                    )),
                ),
            ],
        );
        let probe = track(&trace, "probe (task 2)");
        let slices = on(&trace, "X", probe);
        assert_eq!(slices.len(), 1);
        assert_eq!((slices[0]["ts"].as_u64(), slices[0]["dur"].as_u64()), (Some(20_000), Some(20_000)));
        assert_eq!(slices[0]["args"]["ended"], "failed");
        let failures = on(&trace, "i", probe);
        assert_eq!(failures[0]["name"], "failure: AppError");
        assert_eq!(failures[0]["args"]["raised at"], "src/probe.rs:12");
        // main never ended: its slice closes at the recording's last event, saying so.
        let main = on(&trace, "X", track(&trace, "main (task 1)"));
        assert_eq!((main[0]["ts"].as_u64(), main[0]["dur"].as_u64()), (Some(10_000), Some(80_000)));
        assert_eq!(main[0]["args"]["ended"], "still running when the recording ended");
        // The session's own events are on track 0.
        let session: Vec<String> =
            on(&trace, "i", 0).iter().map(|e| e["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(session, ["session started: demo (epoch 1)", "done"]);
        assert_eq!(trace["traceEvents"][0]["args"]["name"], "mps2-an386: fw.elf");
    }

    #[test]
    fn each_poll_is_a_slice_inside_its_tasks_life_on_the_devices_clock() {
        use crate::export::fixtures::polls;
        let trace = trace(
            "t",
            &[
                at(0, started(1)),
                at(10, SessionEvent::TaskSpawned(task(1, 1, "main"))),
                at(10, SessionEvent::TaskSpawned(task(1, 2, "probe"))),
                at(30, SessionEvent::TaskFinished { id: 2, outcome: TaskOutcome::Completed }),
                // The device's clock is 5 ms behind the recording's; the polls were sent after the end.
                at(
                    40,
                    polls(
                        35_000_000,
                        &[(1, 3_000_000, 250_500), (2, 4_000_000, 1_500), (2, 25_500_000, 500)],
                    ),
                ),
            ],
        );
        let probe = on(&trace, "X", track(&trace, "probe (task 2)"));
        let (life, polls): (Vec<Value>, Vec<Value>) = probe.into_iter().partition(|e| e["name"] == "probe");
        let starts: Vec<f64> = polls.iter().map(|p| p["ts"].as_f64().unwrap()).collect();
        assert_eq!(starts, [9_000.0, 30_500.0]);
        assert_eq!(polls[0]["dur"].as_f64(), Some(1.5));
        // Its life starts at its first poll, before the spawn was read, and ends at its last poll.
        assert_eq!((life[0]["ts"].as_u64(), life[0]["dur"].as_u64()), (Some(9_000), Some(21_501)));
        let main = on(&trace, "X", track(&trace, "main (task 1)"));
        let main_poll = main.iter().find(|e| e["name"] == "poll").unwrap();
        assert_eq!((main_poll["ts"].as_f64(), main_poll["dur"].as_f64()), (Some(8_000.0), Some(250.5)));
    }

    #[test]
    fn a_restart_ends_the_old_boots_tasks_and_a_reused_id_gets_a_new_track() {
        let trace = trace(
            "t",
            &[
                at(0, started(1)),
                at(5, SessionEvent::TaskSpawned(task(1, 1, "main"))),
                at(6, SessionEvent::TaskSpawned(task(1, 1, "main"))), // announced again: same track
                at(50, started(2)),
                at(55, SessionEvent::TaskSpawned(task(2, 1, "main"))),
                at(60, SessionEvent::TaskFinished { id: 1, outcome: TaskOutcome::Completed }),
            ],
        );
        let events = trace["traceEvents"].as_array().unwrap();
        let mains: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
        assert_eq!(mains.len(), 2, "{mains:#?}");
        assert_eq!(
            mains[0]["args"]["ended"],
            "a new session epoch began (a reset, a restart, or a host attaching again)"
        );
        assert_eq!((mains[0]["ts"].as_u64(), mains[0]["dur"].as_u64()), (Some(5_000), Some(45_000)));
        assert_eq!(mains[1]["args"]["ended"], "completed");
        assert_ne!(mains[0]["tid"], mains[1]["tid"], "the new boot's main has a track of its own");
    }
}
