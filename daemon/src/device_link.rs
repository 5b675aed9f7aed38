//! Device-link frames to session events: decode, check the protocol version, resolve string
//! references through target memory (cached per session epoch), and keep the link counters.

use crate::embassy_pools::EmbassyPools;
use crate::memory::TargetMemory;
use crate::roll_call::RollCall;
use asyncmon_protocol::decoder::{Decoded, FrameDecoder};
use asyncmon_protocol::device::{self as dev, DeviceMessage, Text};
use asyncmon_protocol::frame::{self, peek_hello_version, MAX_FRAME};
use asyncmon_protocol::host::*;
use asyncmon_protocol::{HostCommand, PROTOCOL_VERSION};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// The longest static string the host resolves; longer references are shown as unresolved.
const MAX_STATIC_STRING: u32 = 4096;
/// The most bytes of strings kept: the static strings read from target memory (a cache: cleared
/// when full, read again as needed) and the firmware's interned ones (refused past it). A hostile
/// firmware's 300,000 distinct 4 KB strings must not grow the daemon without a bound.
pub const MAX_STRING_BYTES: usize = 1 << 20;
/// The highest interned-string id taken (the agent uses 64).
const MAX_INTERNED_ID: u16 = 4096;
/// How many tasks are remembered per epoch (for acknowledgements and panics).
const MAX_REMEMBERED_TASKS: usize = 4096;

/// Where an embassy task lives, for its await trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbassyTask {
    /// The address of its header, where its `TaskStorage<F>` starts.
    pub header: u64,
    /// The run-time address of its `TaskStorage<F>::poll`, whose debug info names `F`: one when
    /// the symbols said which, else every one (the debug info of each is asked for `wrapper`).
    pub polls: std::sync::Arc<Vec<u64>>,
    /// The function the `#[task]` macro wrapped its body in (`app::__ticker_task`).
    pub wrapper: String,
}

/// Turns the bytes of the asyncmon up channel into session events.
pub struct DeviceLink {
    decoder: Box<FrameDecoder<MAX_FRAME>>,
    strings: HashMap<(u64, u32), String>,
    /// The bytes held in `strings`.
    strings_bytes: usize,
    /// Strings the firmware defined with `DefineText`, by id, for this epoch.
    interned: HashMap<u16, String>,
    /// The bytes held in `interned`.
    interned_bytes: usize,
    /// Frames were lost (counted, or a reference to a string never defined): the firmware is asked
    /// to name its running tasks again, in the same session.
    roll_call: RollCall,
    tasks: HashMap<dev::TaskId, Task>,
    /// The tasks of `tasks` that ended, oldest first: the first forgotten when it is full, so a
    /// long session still names `main` in its stop summary.
    ended: std::collections::VecDeque<dev::TaskId>,
    /// Where the running tasks' futures live, for await traces (from the agent's spawn frames).
    futures: BTreeMap<dev::TaskId, dev::FutureLocation>,
    /// Where the running embassy tasks live, for await traces: their header's address and the
    /// run-time address of their `TaskStorage<F>::poll` (from the firmware's symbols).
    embassy: BTreeMap<dev::TaskId, EmbassyTask>,
    epoch: u32,
    /// Set when the firmware speaks a protocol this daemon cannot read: its frames are skipped.
    incompatible: Option<u16>,
    stats: LinkStats,
    failures: u64,
    started: Instant,
    /// The firmware's ELF (and its load bias), where embassy tasks get their names.
    elf: Option<(std::path::PathBuf, u64)>,
    /// The embassy task pools of that ELF, read at the first embassy task.
    pools: Option<EmbassyPools>,
    /// The executor of this epoch was said (`ExecutorObserved`), at its first embassy task.
    executor_said: bool,
    /// Tasks the observer said it could not watch, this epoch (said again only when it grows).
    not_watched: u32,
}

impl DeviceLink {
    /// A link with no session yet; `started` is the daemon's start, for event times.
    pub fn new(started: Instant) -> Self {
        DeviceLink {
            decoder: Box::new(FrameDecoder::new()),
            strings: HashMap::new(),
            strings_bytes: 0,
            interned: HashMap::new(),
            interned_bytes: 0,
            roll_call: RollCall::default(),
            tasks: HashMap::new(),
            ended: std::collections::VecDeque::new(),
            futures: BTreeMap::new(),
            embassy: BTreeMap::new(),
            epoch: 0,
            incompatible: None,
            stats: LinkStats::default(),
            failures: 0,
            started,
            elf: None,
            pools: None,
            executor_said: false,
            not_watched: 0,
        }
    }

    /// The firmware's ELF and its load bias, when the target has one: embassy tasks are named from
    /// its symbols.
    pub fn set_elf(&mut self, elf: Option<(std::path::PathBuf, u64)>) {
        if self.elf != elf {
            self.pools = None;
        }
        self.elf = elf;
    }

    /// The link counters so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// The current session epoch (0 before the first hello).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Where each running task's future lives, for the tasks whose spawn frame said so.
    pub fn futures(&self) -> &BTreeMap<dev::TaskId, dev::FutureLocation> {
        &self.futures
    }

    /// The running embassy tasks: where each one's storage starts, and its poll function.
    pub fn embassy_tasks(&self) -> &BTreeMap<dev::TaskId, EmbassyTask> {
        &self.embassy
    }

    /// What to ask the firmware, when frames were lost or refer to strings never seen: a roll call
    /// (the running tasks again, same session), or a `Resync` when no hello was seen yet (the link
    /// attached late and knows no session). Rate-limited; see [`crate::roll_call`].
    pub fn take_recovery_request(&mut self) -> Option<HostCommand> {
        if !self.roll_call.take_request(Instant::now()) {
            return None;
        }
        Some(if self.epoch == 0 { HostCommand::Resync } else { HostCommand::RollCall })
    }

    /// Bytes of an unfinished frame waiting for the rest.
    pub fn pending_bytes(&self) -> usize {
        self.decoder.pending()
    }

    /// Forgets an unfinished frame (the target went away) and returns how many bytes it had.
    pub fn discard_partial_frame(&mut self) -> usize {
        let lost = self.decoder.reset();
        self.stats.bytes_rejected += lost as u64;
        lost
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Decodes `bytes`, resolving strings through `mem`, and appends the resulting events to `out`.
    pub fn ingest(&mut self, bytes: &[u8], mem: &mut dyn TargetMemory, out: &mut Vec<SessionEvent>) {
        self.stats.bytes += bytes.len() as u64;
        let mut decoder = std::mem::take(&mut self.decoder);
        decoder.feed(bytes, |decoded| match decoded {
            Decoded::Frame(payload) => self.on_payload(payload, mem, out),
            Decoded::Rejected { bytes, reason } => {
                self.stats.frames_rejected += 1;
                self.stats.bytes_rejected += bytes as u64;
                out.push(self.problem(format!(
                    "rejected {bytes} bytes from the device link ({reason}); decoding resumed at the next frame"
                )));
            }
        });
        self.decoder = decoder;
    }

    fn problem(&self, text: String) -> SessionEvent {
        tracing::warn!("{text}");
        SessionEvent::Problem(Problem { at_ms: self.now_ms(), text })
    }

    fn on_payload(&mut self, payload: &[u8], mem: &mut dyn TargetMemory, out: &mut Vec<SessionEvent>) {
        if let Some(version) = peek_hello_version(payload) {
            if version != PROTOCOL_VERSION {
                self.incompatible = Some(version);
                let reason = format!(
                    "the firmware speaks device-link protocol v{version}, but this asyncmond reads v{PROTOCOL_VERSION}: \
                     build the firmware with the asyncmon-agent that matches this asyncmon, or install the asyncmon that matches the firmware"
                );
                out.push(self.problem(reason.clone()));
                out.push(SessionEvent::TargetState(TargetState::Failed { reason }));
                return;
            }
            self.incompatible = None;
        }
        if self.incompatible.is_some() {
            self.stats.frames_rejected += 1;
            return;
        }
        let msg: DeviceMessage<'_> = match frame::decode(payload) {
            Ok(msg) => msg,
            Err(e) => {
                self.stats.frames_rejected += 1;
                self.stats.bytes_rejected += payload.len() as u64;
                out.push(self.problem(format!("a device-link frame passed its checksum but {e}")));
                return;
            }
        };
        self.stats.frames += 1;
        match msg {
            DeviceMessage::Hello(hello) => {
                self.epoch += 1;
                self.strings.clear();
                self.interned.clear();
                (self.strings_bytes, self.interned_bytes) = (0, 0);
                self.roll_call.reset();
                self.tasks.clear();
                self.ended.clear();
                self.futures.clear();
                self.embassy.clear();
                self.executor_said = false;
                self.not_watched = 0;
                let firmware = FirmwareInfo {
                    name: self.resolve(hello.firmware, mem),
                    build_id: self.resolve(hello.build_id, mem),
                    protocol_version: hello.version,
                };
                tracing::info!(epoch = self.epoch, firmware = %firmware.name, "session started");
                out.push(SessionEvent::SessionStarted { epoch: self.epoch, firmware });
            }
            DeviceMessage::TaskSpawned(info) => self.spawned(&info, None, None, mem, out),
            DeviceMessage::Spawned { task, storage_bytes } => {
                self.spawned(&task, Some(storage_bytes), None, mem, out)
            }
            DeviceMessage::SpawnedSized { task, reserved_bytes, future_bytes } => {
                self.spawned(&task, Some(reserved_bytes), Some(future_bytes), mem, out)
            }
            DeviceMessage::SpawnedAt { task, reserved_bytes, future_bytes, future } => {
                self.futures.insert(task.id, future);
                self.spawned(&task, Some(reserved_bytes), Some(future_bytes), mem, out)
            }
            DeviceMessage::EmbassyTaskSpawned { id, header } => {
                if !std::mem::replace(&mut self.executor_said, true) {
                    out.push(SessionEvent::ExecutorObserved(Executor::Embassy));
                }
                let (name, located) = self.embassy_task(header);
                if let Some(task) = located {
                    self.embassy.insert(id, task);
                }
                let info = dev::TaskInfo {
                    id,
                    name: Text::Inline(&name),
                    spawned_at: dev::SourceLocation { file: Text::Inline(""), line: 0, column: 0 },
                    parent: None,
                };
                self.spawned(&info, None, None, mem, out)
            }
            DeviceMessage::ExecutorStats { idle_us, elapsed_us } => {
                out.push(SessionEvent::ExecutorLoad(ExecutorLoad { idle_us, elapsed_us }))
            }
            DeviceMessage::StopHandled { request_id, hook_ran, hard } => {
                out.push(SessionEvent::StopHandled { request_id, hook_ran, hard })
            }
            DeviceMessage::TaskFinished { id, outcome } => {
                self.futures.remove(&id);
                self.embassy.remove(&id);
                self.ended.push_back(id);
                out.push(SessionEvent::TaskFinished { id, outcome })
            }
            DeviceMessage::DefineText { id, text } => {
                let text = self.resolve(text, mem);
                let room = self.interned_bytes + text.len() <= MAX_STRING_BYTES;
                if id <= MAX_INTERNED_ID && room {
                    self.interned_bytes += text.len();
                    if let Some(old) = self.interned.insert(id, text) {
                        self.interned_bytes -= old.len();
                    }
                } else {
                    // Its references read "its definition was lost": bounded, and said.
                    tracing::warn!(id, "an interned string past the daemon's bound was refused");
                }
            }
            DeviceMessage::PollSlices { tick_hz, start, sent_at, slices } => {
                match crate::poll_slices::from_device(tick_hz, start, sent_at, &slices) {
                    Ok(polls) => out.push(SessionEvent::Polls(polls)),
                    Err(e) => out.push(self.problem(e.to_string())),
                }
            }
            DeviceMessage::TaskStats(s) => out.push(SessionEvent::TaskStats {
                id: s.task,
                stats: PollStats {
                    polls: s.polls,
                    busy_us: s.busy_us,
                    max_poll_us: s.max_poll_us,
                    self_wakes: s.self_wakes,
                    idle_us: s.idle_us,
                    sampled_at_ms: self.now_ms(),
                    state: s.state,
                },
            }),
            DeviceMessage::TaskFailure { message, exception, task, path } => {
                let task = task.map(|id| self.known_task(id));
                let failure = self.failure(message, exception, task, path, mem);
                out.push(SessionEvent::Failure(failure));
            }
            DeviceMessage::Failure(ctx) => {
                let task =
                    ctx.task.map(|t| self.task(&t, TaskState::Finished(dev::TaskOutcome::Failed), mem));
                let failure = self.failure(ctx.message, ctx.exception, task, ctx.path, mem);
                out.push(SessionEvent::Failure(failure));
            }
            DeviceMessage::InterruptAck(ack) => {
                let tasks =
                    ack.cancelled.iter().map(|id| self.ending(*id, dev::TaskOutcome::Cancelled)).collect();
                out.push(SessionEvent::Interrupted(InterruptReport {
                    request_id: ack.request_id,
                    tasks,
                    total: ack.cancelled_total,
                    hard_stop: false,
                }));
            }
            DeviceMessage::ShutdownAck(ack) => {
                let tasks = ack.tasks.iter().map(|t| self.ending(t.id, t.outcome)).collect();
                out.push(SessionEvent::Interrupted(InterruptReport {
                    request_id: ack.request_id,
                    tasks,
                    total: ack.total,
                    hard_stop: ack.hard_stop,
                }));
            }
            DeviceMessage::Panic { message, location, task } => {
                out.push(SessionEvent::Failure(self.panic_failure(message, location, task, mem)));
            }
            DeviceMessage::RollCallStarted => self.roll_call.started(),
            DeviceMessage::RollCallDone { announced } => match self.roll_call.done(announced) {
                Some(running) => {
                    self.futures.retain(|id, _| running.contains(id));
                    self.embassy.retain(|id, _| running.contains(id));
                    out.push(SessionEvent::RollCall { running })
                }
                None => tracing::info!(announced, "a roll call's answer was incomplete; asking again"),
            },
            DeviceMessage::TasksNotWatched { total, capacity } => {
                if total > self.not_watched {
                    self.not_watched = total;
                    let tasks = if total == 1 { "task" } else { "tasks" };
                    out.push(self.problem(format!(
                        "{total} {tasks} unseen: asyncmon-embassy watches at most {capacity} tasks at once and its table was full when they were spawned (build it with the `max-tasks-64` or `max-tasks-128` feature to watch more)"
                    )));
                }
            }
            DeviceMessage::FramesLost { count } => {
                self.roll_call.want();
                self.stats.frames_lost_on_device += u64::from(count);
                out.push(self.problem(format!(
                    "the firmware dropped {count} frames because its RTT up buffer was full (the host reads too slowly or was not attached)"
                )));
            }
        }
    }

    /// An embassy task's name (its pool's, from the ELF's symbols; else where its header is) and,
    /// when its pool is known, where it lives.
    fn embassy_task(&mut self, header: u64) -> (String, Option<EmbassyTask>) {
        if self.pools.is_none() {
            if let Some((path, _)) = &self.elf {
                self.pools = Some(EmbassyPools::from_path(path));
            }
        }
        let bias = self.elf.as_ref().map_or(0, |(_, bias)| *bias);
        // embassy's task id is the header's address cut to 32 bits: on a 64-bit host (the
        // simulated board) the link-time address, below 4 GiB, is what it holds minus the bias's
        // low half.
        let link = u64::from((header as u32).wrapping_sub(bias as u32));
        let Some(pools) = self.pools.as_ref() else { return (format!("embassy task @{header:#x}"), None) };
        match pools.pool_at(link) {
            Some(pool) => {
                let polls = match pool.poll {
                    Some(poll) => vec![poll.wrapping_add(bias)],
                    None => pools.polls.iter().map(|poll| poll.wrapping_add(bias)).collect(),
                };
                let task = EmbassyTask {
                    header: link.wrapping_add(bias),
                    polls: std::sync::Arc::new(polls),
                    wrapper: pool.wrapper.clone(),
                };
                (pool.name.clone(), Some(task))
            }
            None => (format!("embassy task @{header:#x}"), None),
        }
    }

    fn spawned(
        &mut self,
        info: &dev::TaskInfo<'_>,
        storage_bytes: Option<u32>,
        future_bytes: Option<u32>,
        mem: &mut dyn TargetMemory,
        out: &mut Vec<SessionEvent>,
    ) {
        if self.roll_call.named(info.id) && self.tasks.contains_key(&info.id) {
            return; // Named again in a roll call: already known (and shown).
        }
        let mut task = self.task(info, TaskState::Running, mem);
        task.storage_bytes = storage_bytes;
        task.future_bytes = future_bytes;
        if self.tasks.len() >= MAX_REMEMBERED_TASKS {
            // The longest-ended go first (a failure of theirs still to come is named "task N");
            // only a table full of running tasks (no firmware has so many) starts over.
            while self.tasks.len() >= MAX_REMEMBERED_TASKS * 3 / 4 {
                let Some(id) = self.ended.pop_front() else { break };
                self.tasks.remove(&id);
            }
            if self.tasks.len() >= MAX_REMEMBERED_TASKS {
                self.tasks.clear();
                self.ended.clear();
            }
            // What is known of a forgotten task's future goes with it (the new task's stays).
            let (tasks, new) = (&self.tasks, task.id);
            self.futures.retain(|id, _| *id == new || tasks.contains_key(id));
            self.embassy.retain(|id, _| *id == new || tasks.contains_key(id));
        }
        self.tasks.insert(task.id, task.clone());
        out.push(SessionEvent::TaskSpawned(task));
    }

    fn failure(
        &mut self,
        message: Text<'_>,
        exception: Option<dev::ExceptionInfo<'_>>,
        task: Option<Task>,
        path: dev::FailurePath,
        mem: &mut dyn TargetMemory,
    ) -> Failure {
        self.failures += 1;
        Failure {
            seq: self.failures,
            epoch: self.epoch,
            at_ms: self.now_ms(),
            message: self.resolve(message, mem),
            exception: exception.map(|e| Exception {
                type_name: self.resolve(e.type_name, mem),
                message: self.resolve(e.message, mem),
                raised_at: e.raised_at.map(|l| self.location(l, mem)),
            }),
            task,
            path,
        }
    }

    /// A panic the firmware did not send as a frame (its panic handler is not asyncmon's: the pump
    /// saw panic-probe's line, [`crate::panic_line`]), in the task that was running: the same
    /// failure as the agent's panic frame.
    pub fn panic_seen(
        &mut self,
        panic: &crate::panic_line::SeenPanic,
        task: Option<dev::TaskId>,
        mem: &mut dyn TargetMemory,
    ) -> SessionEvent {
        let location = panic.raised_at.as_ref().map(|at| dev::SourceLocation {
            file: Text::Inline(&at.file),
            line: at.line,
            column: at.column,
        });
        SessionEvent::Failure(self.panic_failure(Text::Inline(&panic.message), location, task, mem))
    }

    fn panic_failure(
        &mut self,
        message: Text<'_>,
        location: Option<dev::SourceLocation<'_>>,
        task: Option<dev::TaskId>,
        mem: &mut dyn TargetMemory,
    ) -> Failure {
        let task = task.map(|id| self.known_task(id));
        let exception = dev::ExceptionInfo { type_name: Text::Inline("panic"), message, raised_at: location };
        self.failure(
            Text::Inline("the firmware panicked"),
            Some(exception),
            task,
            dev::FailurePath::Panic,
            mem,
        )
    }

    /// The task `id` as its spawn frame described it, marked failed; a placeholder when its spawn
    /// frame never arrived (frames were lost).
    fn known_task(&self, id: dev::TaskId) -> Task {
        let mut task = self.tasks.get(&id).cloned().unwrap_or_else(|| Task {
            epoch: self.epoch,
            id,
            name: format!("task {id}"),
            spawned_at: Location { file: "<unknown: its spawn frame was lost>".into(), line: 0, column: 0 },
            parent: None,
            state: TaskState::Running,
            storage_bytes: None,
            future_bytes: None,
            stats: None,
        });
        task.state = TaskState::Finished(dev::TaskOutcome::Failed);
        task
    }

    fn ending(&self, id: dev::TaskId, outcome: dev::TaskOutcome) -> TaskEndingReport {
        let name = self.tasks.get(&id).map_or_else(|| format!("task {id}"), |t| t.name.clone());
        TaskEndingReport { id, name, outcome }
    }

    fn task(&mut self, info: &dev::TaskInfo<'_>, state: TaskState, mem: &mut dyn TargetMemory) -> Task {
        let known = self.tasks.get(&info.id);
        let (storage_bytes, future_bytes) =
            (known.and_then(|t| t.storage_bytes), known.and_then(|t| t.future_bytes));
        Task {
            epoch: self.epoch,
            id: info.id,
            name: self.resolve(info.name, mem),
            spawned_at: self.location(info.spawned_at, mem),
            parent: info.parent,
            state,
            storage_bytes,
            future_bytes,
            stats: None,
        }
    }

    fn location(&mut self, loc: dev::SourceLocation<'_>, mem: &mut dyn TargetMemory) -> Location {
        Location { file: self.resolve(loc.file, mem), line: loc.line, column: loc.column }
    }

    /// Inline text as sent; a static reference read from target memory once per epoch.
    fn resolve(&mut self, text: Text<'_>, mem: &mut dyn TargetMemory) -> String {
        match text {
            Text::Inline(s) => s.to_string(),
            Text::Interned(id) => match self.interned.get(&id) {
                Some(text) => text.clone(),
                None => {
                    self.roll_call.want();
                    format!("<text #{id}: its definition was lost>")
                }
            },
            Text::Static { addr, len } => {
                if let Some(s) = self.strings.get(&(addr, len)) {
                    return s.clone();
                }
                let resolved = if len > MAX_STATIC_STRING {
                    format!("<{len}-byte string at {addr:#x}>")
                } else {
                    let mut buf = vec![0; len as usize];
                    match mem.read(addr, &mut buf) {
                        Ok(()) => String::from_utf8_lossy(&buf).into_owned(),
                        Err(_) => format!("<unreadable string at {addr:#x}>"),
                    }
                };
                if self.strings_bytes + resolved.len() > MAX_STRING_BYTES {
                    // A cache: what is dropped is read again when it is asked for.
                    self.strings.clear();
                    self.strings_bytes = 0;
                }
                self.strings_bytes += resolved.len();
                self.strings.insert((addr, len), resolved.clone());
                resolved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::FakeMemory;
    use asyncmon_protocol::frame::encode;

    fn frame(msg: &DeviceMessage<'_>) -> Vec<u8> {
        let mut out = [0; MAX_FRAME];
        encode(msg, &mut out).unwrap().to_vec()
    }

    fn memory_with(text: &str) -> FakeMemory {
        let mut bytes = vec![0; 256];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        FakeMemory { base: 0x8000, bytes }
    }

    fn hello(version: u16) -> DeviceMessage<'static> {
        DeviceMessage::Hello(dev::Hello {
            version,
            firmware: Text::Inline("fw"),
            build_id: Text::Inline("1"),
        })
    }

    #[test]
    fn static_strings_are_read_from_target_memory_once() {
        let mut mem = memory_with("sensor_poll");
        let mut link = DeviceLink::new(Instant::now());
        let name = Text::Static { addr: 0x8000, len: 11 };
        let spawned = DeviceMessage::TaskSpawned(dev::TaskInfo {
            id: 4,
            name,
            spawned_at: dev::SourceLocation { file: name, line: 3, column: 9 },
            parent: Some(0),
        });
        let mut events = Vec::new();
        link.ingest(&[frame(&hello(PROTOCOL_VERSION)), frame(&spawned)].concat(), &mut mem, &mut events);
        mem.bytes[..11].copy_from_slice(b"XXXXXXXXXXX");
        link.ingest(&frame(&spawned), &mut mem, &mut events);
        let names: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::TaskSpawned(t) => Some(t.name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["sensor_poll", "sensor_poll"], "the cache answers the second time");
    }

    #[test]
    fn after_thousands_of_tasks_came_and_went_a_stop_still_names_main() {
        let mut mem = memory_with("");
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        let spawned = |id: u32, name: &'static str| {
            frame(&DeviceMessage::TaskSpawned(dev::TaskInfo {
                id,
                name: Text::Inline(name),
                spawned_at: dev::SourceLocation { file: Text::Inline("src/main.rs"), line: 3, column: 9 },
                parent: (id > 0).then_some(0),
            }))
        };
        link.ingest(&[frame(&hello(PROTOCOL_VERSION)), spawned(0, "main")].concat(), &mut mem, &mut events);
        for id in 1..6000 {
            let finished = frame(&DeviceMessage::TaskFinished { id, outcome: dev::TaskOutcome::Completed });
            link.ingest(&[spawned(id, "sensor_poll"), finished].concat(), &mut mem, &mut events);
        }
        let mut ack =
            dev::ShutdownAck { request_id: 1, tasks: Default::default(), total: 1, hard_stop: false };
        ack.tasks.push(dev::TaskEnding { id: 0, outcome: dev::TaskOutcome::Cancelled }).unwrap();
        events.clear();
        link.ingest(&frame(&DeviceMessage::ShutdownAck(ack)), &mut mem, &mut events);
        let Some(SessionEvent::Interrupted(report)) = events.last() else { panic!("{events:?}") };
        assert_eq!(report.tasks[0].name, "main");
        assert!(link.tasks.len() <= MAX_REMEMBERED_TASKS);
    }

    #[test]
    fn many_distinct_strings_keep_the_daemon_bounded_and_still_resolve() {
        // 600 distinct 4 KB names: 2.4 MB of strings, more than the bound.
        let mut mem = FakeMemory { base: 0x8000, bytes: vec![b'x'; 600 * 4096] };
        for i in 0..600usize {
            mem.bytes[i * 4096..i * 4096 + 8].copy_from_slice(format!("task{i:04}").as_bytes());
        }
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        link.ingest(&frame(&hello(PROTOCOL_VERSION)), &mut mem, &mut events);
        for i in 0..600u32 {
            let name = Text::Static { addr: 0x8000 + u64::from(i) * 4096, len: 4096 };
            let spawned = DeviceMessage::TaskSpawned(dev::TaskInfo {
                id: i,
                name,
                spawned_at: dev::SourceLocation { file: Text::Inline("src/main.rs"), line: 3, column: 9 },
                parent: None,
            });
            link.ingest(&frame(&spawned), &mut mem, &mut events);
            let define = DeviceMessage::DefineText { id: i as u16, text: name };
            link.ingest(&frame(&define), &mut mem, &mut events);
            assert!(link.strings_bytes <= MAX_STRING_BYTES && link.interned_bytes <= MAX_STRING_BYTES);
        }
        let last = events.iter().rev().find_map(|e| match e {
            SessionEvent::TaskSpawned(t) => Some(t.name.clone()),
            _ => None,
        });
        assert!(last.unwrap().starts_with("task0599"), "every name still resolves");
        // A hostile id far past the agent's 64 is refused.
        let define = DeviceMessage::DefineText { id: u16::MAX, text: Text::Inline("x") };
        link.ingest(&frame(&define), &mut mem, &mut events);
        assert!(!link.interned.contains_key(&u16::MAX));
    }

    #[test]
    fn an_unreadable_reference_is_shown_not_dropped() {
        let mut mem = memory_with("");
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        let msg = DeviceMessage::Hello(dev::Hello {
            version: PROTOCOL_VERSION,
            firmware: Text::Static { addr: 0x10, len: 4 },
            build_id: Text::Inline("1"),
        });
        link.ingest(&frame(&msg), &mut mem, &mut events);
        assert!(
            matches!(&events[0], SessionEvent::SessionStarted { firmware, .. } if firmware.name == "<unreadable string at 0x10>")
        );
    }

    #[test]
    fn a_wrong_version_is_said_in_words_and_its_frames_are_skipped() {
        let mut mem = memory_with("");
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        let later = DeviceMessage::FramesLost { count: 1 };
        link.ingest(&[frame(&hello(7)), frame(&later)].concat(), &mut mem, &mut events);
        let SessionEvent::Problem(p) = &events[0] else { panic!("{events:?}") };
        assert!(
            p.text.contains("protocol v7") && p.text.contains(&format!("reads v{PROTOCOL_VERSION}")),
            "{}",
            p.text
        );
        assert!(matches!(events[1], SessionEvent::TargetState(TargetState::Failed { .. })));
        assert_eq!(events.len(), 2, "frames after the bad hello are not interpreted");
        assert_eq!(link.stats().frames_rejected, 1);
    }

    #[test]
    fn garbage_is_counted_and_the_next_frame_still_arrives() {
        let mut mem = memory_with("");
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        let bytes = [&[1u8, 2, 3, 0][..], &frame(&hello(PROTOCOL_VERSION))].concat();
        link.ingest(&bytes, &mut mem, &mut events);
        assert!(matches!(&events[0], SessionEvent::Problem(p) if p.text.contains("rejected 4 bytes")));
        assert!(matches!(events[1], SessionEvent::SessionStarted { epoch: 1, .. }));
        assert_eq!(link.stats().bytes_rejected, 4);
    }

    #[test]
    fn tasks_an_observer_could_not_watch_are_said_once_per_count_and_again_in_a_new_session() {
        let mut mem = memory_with("");
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        let unseen = |total| frame(&DeviceMessage::TasksNotWatched { total, capacity: 32 });
        let bytes = [frame(&hello(PROTOCOL_VERSION)), unseen(1), unseen(2), unseen(2), unseen(1)].concat();
        link.ingest(&bytes, &mut mem, &mut events);
        let said = |events: &[SessionEvent]| -> Vec<String> {
            events
                .iter()
                .filter_map(|e| match e {
                    SessionEvent::Problem(p) if p.text.contains("unseen:") => Some(p.text.clone()),
                    _ => None,
                })
                .collect()
        };
        let first = said(&events);
        assert_eq!(first.len(), 2, "said when the count grows, not again for the same count: {first:?}");
        assert!(first[0].starts_with("1 task unseen:"), "{first:?}");
        assert!(first[1].starts_with("2 tasks unseen:") && first[1].contains("at most 32"), "{first:?}");
        events.clear();
        link.ingest(&[frame(&hello(PROTOCOL_VERSION)), unseen(2)].concat(), &mut mem, &mut events);
        assert_eq!(said(&events).len(), 1, "a new session is told again");
    }
}

#[cfg(test)]
mod interning_tests {
    use super::*;
    use crate::memory::FakeMemory;
    use asyncmon_protocol::frame::encode;

    fn frame(msg: &DeviceMessage<'_>) -> Vec<u8> {
        let mut out = [0; MAX_FRAME];
        encode(msg, &mut out).unwrap().to_vec()
    }

    fn spawned(name: Text<'static>) -> DeviceMessage<'static> {
        DeviceMessage::Spawned {
            task: dev::TaskInfo {
                id: 1,
                name,
                spawned_at: dev::SourceLocation { file: Text::Inline("src/main.rs"), line: 1, column: 1 },
                parent: Some(0),
            },
            storage_bytes: 512,
        }
    }

    #[test]
    fn interned_texts_resolve_and_an_unknown_one_asks_for_a_resync_once() {
        let mut mem = FakeMemory { base: 0x8000, bytes: b"blinky".to_vec() };
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        let define = DeviceMessage::DefineText { id: 0, text: Text::Static { addr: 0x8000, len: 6 } };
        link.ingest(&[frame(&define), frame(&spawned(Text::Interned(0)))].concat(), &mut mem, &mut events);
        assert!(matches!(&events[0], SessionEvent::TaskSpawned(t) if t.name == "blinky"));
        assert_eq!(link.take_recovery_request(), None);
        link.ingest(&frame(&spawned(Text::Interned(7))).repeat(2), &mut mem, &mut events);
        assert!(
            matches!(&events[1], SessionEvent::TaskSpawned(t) if t.name == "<text #7: its definition was lost>")
        );
        assert_eq!(
            link.take_recovery_request(),
            Some(HostCommand::Resync),
            "no hello was seen: the firmware is asked to start over"
        );
        assert_eq!(link.take_recovery_request(), None, "once");
    }

    #[test]
    fn a_spawn_says_what_the_future_uses_of_what_its_storage_reserves() {
        let mut mem = FakeMemory { base: 0x8000, bytes: Vec::new() };
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        let DeviceMessage::Spawned { task, .. } = spawned(Text::Inline("worker")) else { unreachable!() };
        let sized = DeviceMessage::SpawnedSized { task, reserved_bytes: 256, future_bytes: 72 };
        link.ingest(&frame(&sized), &mut mem, &mut events);
        let SessionEvent::TaskSpawned(task) = &events[0] else { panic!("{events:?}") };
        assert_eq!((task.future_bytes, task.storage_bytes), (Some(72), Some(256)));
    }

    fn hello() -> DeviceMessage<'static> {
        DeviceMessage::Hello(dev::Hello {
            version: PROTOCOL_VERSION,
            firmware: Text::Inline("fw"),
            build_id: Text::Inline("1"),
        })
    }

    fn spawned_id(id: dev::TaskId) -> DeviceMessage<'static> {
        let DeviceMessage::Spawned { mut task, storage_bytes } = spawned(Text::Inline("worker")) else {
            unreachable!()
        };
        task.id = id;
        DeviceMessage::Spawned { task, storage_bytes }
    }

    #[test]
    fn lost_frames_ask_for_a_roll_call_whose_answer_resolves_tasks_without_a_new_session() {
        let mut mem = FakeMemory { base: 0x8000, bytes: Vec::new() };
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        let before = [hello(), spawned_id(1), spawned_id(2), DeviceMessage::FramesLost { count: 1 }];
        link.ingest(&before.iter().map(frame).collect::<Vec<_>>().concat(), &mut mem, &mut events);
        assert_eq!(link.take_recovery_request(), Some(HostCommand::RollCall), "the same session");
        events.clear();
        // Task 2 ended unseen; task 3 was spawned unseen.
        let answer = [
            DeviceMessage::RollCallStarted,
            spawned_id(1),
            spawned_id(3),
            DeviceMessage::RollCallDone { announced: 2 },
        ];
        link.ingest(&answer.iter().map(frame).collect::<Vec<_>>().concat(), &mut mem, &mut events);
        let spawned: Vec<_> = events
            .iter()
            .filter_map(|e| if let SessionEvent::TaskSpawned(t) = e { Some(t.id) } else { None })
            .collect();
        assert_eq!(spawned, [3], "a task already shown is not shown twice; an unseen one is");
        assert_eq!(events.last(), Some(&SessionEvent::RollCall { running: vec![1, 3] }));
        assert!(!events.iter().any(|e| matches!(e, SessionEvent::SessionStarted { .. })));
        assert_eq!(link.take_recovery_request(), None, "answered");
    }

    #[test]
    fn a_roll_call_answer_with_a_lost_spawn_frame_is_not_believed() {
        let mut mem = FakeMemory { base: 0x8000, bytes: Vec::new() };
        let mut link = DeviceLink::new(Instant::now());
        let mut events = Vec::new();
        let frames = [
            hello(),
            spawned_id(1),
            DeviceMessage::RollCallStarted,
            spawned_id(1),
            DeviceMessage::RollCallDone { announced: 2 },
        ];
        link.ingest(&frames.iter().map(frame).collect::<Vec<_>>().concat(), &mut mem, &mut events);
        assert!(!events.iter().any(|e| matches!(e, SessionEvent::RollCall { .. })), "{events:?}");
    }
}
