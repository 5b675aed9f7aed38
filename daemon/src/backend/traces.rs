//! Await traces for the pump: every [`TRACE_INTERVAL`] while the link is up (and at once when a
//! client asks), each running task's future is read from target memory and decoded with the
//! firmware's debug info; the traces are published when they changed, or when asked. The debug
//! info is loaded on a thread of its own the first time, so a large ELF never holds up the link.

use crate::await_trace::{AwaitTracer, TaskSlots};
use crate::device_link::DeviceLink;
use crate::memory::TargetMemory;
use asyncmon_protocol::host::{AwaitTraces, Location, SessionEvent, TaskId, TaskTrace};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

/// How often traces are read while the link is up.
pub const TRACE_INTERVAL: Duration = Duration::from_millis(500);

/// How often the loading debug info is looked at, so the first traces come as soon as it is read.
const LOADING_POLL: Duration = Duration::from_millis(20);

/// The firmware whose debug info decodes the traces, and where it was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugElf {
    /// The ELF (the firmware the target runs).
    pub path: PathBuf,
    /// Run-time address minus link-time address (a position-independent simulated firmware).
    pub bias: u64,
}

enum Tracer {
    Loading(Receiver<Result<AwaitTracer, String>>),
    Ready(Box<AwaitTracer>),
    Failed(String),
}

/// See the module documentation.
pub struct TraceReader {
    tracer: Option<(DebugElf, Tracer)>,
    /// The tasks' traces as last published.
    last: Option<AwaitTraces>,
    next: Instant,
    /// A client asked: publish the next traces even if nothing changed.
    asked: bool,
    /// The embassy tasks whose declaration was looked up (epoch, task).
    declared: std::collections::HashSet<(u32, TaskId)>,
}

impl Default for TraceReader {
    fn default() -> Self {
        TraceReader {
            tracer: None,
            last: None,
            next: Instant::now(),
            asked: false,
            declared: Default::default(),
        }
    }
}

impl TraceReader {
    /// A client asked for traces: read them at the next [`TraceReader::poll`] and publish them.
    pub fn ask(&mut self) {
        self.asked = true;
        self.next = Instant::now();
    }

    /// Whether a read is due (cheap: the pump asks on every turn).
    pub fn due(&self) -> bool {
        Instant::now() >= self.next
    }

    /// The target went away: what was published belongs to it.
    pub fn forget(&mut self) {
        self.last = None;
    }

    /// Reads the traces when due; appends the events to publish to `out` (where embassy tasks were
    /// declared, then the traces when they changed or were asked for). `elf` is the firmware the
    /// target runs (none: this target has no debug info to offer), `at_ms` the daemon's clock.
    pub fn poll(
        &mut self,
        elf: Option<DebugElf>,
        mem: &mut dyn TargetMemory,
        link: &DeviceLink,
        at_ms: u64,
        out: &mut Vec<SessionEvent>,
    ) {
        if !self.due() {
            return;
        }
        if link.futures().is_empty() && link.embassy_tasks().is_empty() && !self.asked {
            // Nothing to read yet: the first spawn frames are read at once, not an interval later.
            return;
        }
        self.next = Instant::now() + TRACE_INTERVAL;
        let mut traces = AwaitTraces { epoch: link.epoch(), at_ms, ..AwaitTraces::default() };
        let mut declared = Vec::new();
        let epoch = link.epoch();
        let undeclared: Vec<TaskId> = link
            .embassy_tasks()
            .keys()
            .copied()
            .filter(|task| !self.declared.contains(&(epoch, *task)))
            .collect();
        match self.tracer(elf) {
            Err(reason) => traces.unavailable = Some(reason),
            Ok(None) => {
                // Still loading: the first traces (and a client's answer) come when it is done.
                self.next = Instant::now() + LOADING_POLL;
                return;
            }
            Ok(Some(tracer)) => {
                if link.futures().is_empty() && link.embassy_tasks().is_empty() {
                    traces.unavailable = Some(
                        "the firmware has not said where its tasks' futures are: it needs an asyncmon-agent that sends them (SpawnedAt)"
                            .into(),
                    );
                }
                let slots = TaskSlots {
                    by_address: link.futures().iter().map(|(id, future)| (future.addr, *id)).collect(),
                };
                for (&task, &future) in link.futures() {
                    let frames = tracer.trace(mem, &slots, future);
                    traces.tasks.push(TaskTrace { task, frames, since_ms: at_ms });
                }
                for (&task, embassy) in link.embassy_tasks() {
                    // The device says no place for an embassy task: its function's, once.
                    if undeclared.contains(&task) {
                        if let Some(at) = tracer.embassy_declared_at(embassy) {
                            declared.push(SessionEvent::TaskDeclared { id: task, at });
                        }
                    }
                    let frames = tracer.trace_embassy(mem, &slots, embassy);
                    traces.tasks.push(TaskTrace { task, frames, since_ms: at_ms });
                }
            }
        }
        self.keep_since(&mut traces);
        self.declared.extend(undeclared.into_iter().map(|task| (epoch, task)));
        out.append(&mut declared);
        let changed = self.last.as_ref().is_none_or(|last| !same_traces(last, &traces));
        if !changed && !std::mem::take(&mut self.asked) {
            return;
        }
        self.asked = false;
        self.last = Some(traces.clone());
        out.push(SessionEvent::AwaitTraces(traces));
    }

    /// A task still waiting where it waited at the last read has waited since then.
    fn keep_since(&self, traces: &mut AwaitTraces) {
        let Some(last) = self.last.as_ref().filter(|last| last.epoch == traces.epoch) else { return };
        let before: HashMap<TaskId, (Option<&Location>, u64)> =
            last.tasks.iter().map(|t| (t.task, (innermost_location(t), t.since_ms))).collect();
        for trace in &mut traces.tasks {
            if let Some((location, since)) = before.get(&trace.task) {
                if *location == innermost_location(trace) {
                    trace.since_ms = *since;
                }
            }
        }
    }

    /// The tracer for `elf`: `Ok(None)` while its debug info loads.
    fn tracer(&mut self, elf: Option<DebugElf>) -> Result<Option<&mut AwaitTracer>, String> {
        let Some(elf) = elf else {
            return Err("an RTT TCP server passes the RTT bytes only and cannot read the target's memory, which await traces need: attach through a probe (asyncmon run) or run the firmware on QEMU (asyncmon qemu) to see them".into());
        };
        if self.tracer.as_ref().is_none_or(|(loaded, _)| *loaded != elf) {
            let (send, receive) = std::sync::mpsc::channel();
            let load = elf.clone();
            std::thread::Builder::new()
                .name("asyncmon-debug-info".into())
                .spawn(move || {
                    let _ = send.send(AwaitTracer::load(&load.path, load.bias).map_err(|e| e.to_string()));
                })
                .map_err(|e| format!("cannot start reading the debug info: {e}"))?;
            self.tracer = Some((elf, Tracer::Loading(receive)));
        }
        let (_, tracer) = self.tracer.as_mut().expect("set above");
        if let Tracer::Loading(receive) = tracer {
            match receive.try_recv() {
                Ok(Ok(loaded)) => *tracer = Tracer::Ready(Box::new(loaded)),
                Ok(Err(reason)) => *tracer = Tracer::Failed(reason),
                Err(TryRecvError::Empty) => return Ok(None),
                Err(TryRecvError::Disconnected) => {
                    *tracer = Tracer::Failed("reading the debug info failed".into());
                }
            }
        }
        match tracer {
            Tracer::Ready(tracer) => Ok(Some(tracer)),
            Tracer::Failed(reason) => Err(reason.clone()),
            Tracer::Loading(_) => Ok(None),
        }
    }
}

fn innermost_location(trace: &TaskTrace) -> Option<&Location> {
    trace.innermost().and_then(|frame| frame.location.as_ref())
}

/// Whether two reads found the same traces (their times aside).
fn same_traces(a: &AwaitTraces, b: &AwaitTraces) -> bool {
    a.epoch == b.epoch
        && a.unavailable == b.unavailable
        && a.tasks.len() == b.tasks.len()
        && a.tasks.iter().zip(&b.tasks).all(|(a, b)| a.task == b.task && a.frames == b.frames)
}
