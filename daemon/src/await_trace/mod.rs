//! Await traces: where each running task is waiting, read from target memory with the firmware's
//! DWARF while it runs. The agent's spawn frame says where a task's future lives and gives a type
//! marker (the executor's poll function for that future type, whose debug info names the type);
//! the daemon reads the future's bytes once and decodes them: an `async fn` or block is a state
//! machine whose state says at which `.await` it is suspended and holds what it awaits, inline.
//! The device runs no code for it.
//!
//! * [`dwarf`]: the firmware's DWARF, indexed lazily per unit.
//! * [`layout`]: types reduced to members and variant parts.
//! * [`walk`]: one future's bytes to frames.
//! * [`describe`]: what a future that is not an async fn waits for, in words.
//! * [`statics`]: the firmware's statics by address, to name what a future points at.
//! * [`fuzzing`]: hand-made debug info read as a trace reads it, for the fuzzer.

mod describe;
mod dwarf;
pub mod fuzzing;
mod layout;
mod statics;
mod walk;

pub use describe::TaskSlots;
pub use dwarf::DebugInfoError;

use crate::memory::TargetMemory;
use asyncmon_protocol::device::FutureLocation;
use asyncmon_protocol::host::{AwaitFrame, FrameState, Location};
use dwarf::{DieRef, Dwarf};
use layout::Types;
use std::collections::HashMap;
use std::path::Path;

/// The largest future read for a trace; a larger one is cut (and the trace says so where it
/// reaches past the cut).
pub const MAX_FUTURE_BYTES: u64 = 64 * 1024;

/// Reads await traces of one firmware: its debug info, and where it was loaded.
pub struct AwaitTracer {
    types: Types,
    /// Run-time address minus link-time address (a position-independent simulated firmware).
    bias: u64,
    /// Future types by type marker (link-time address), as found.
    futures: HashMap<u64, Option<DieRef>>,
    /// embassy tasks' future types and their offsets in `TaskStorage<F>`, by the link-time address
    /// of `TaskStorage<F>::poll`.
    embassy: HashMap<u64, Option<(DieRef, u64)>>,
    /// The same, by the task's wrapper function, where the symbols did not say which poll is whose.
    embassy_by_wrapper: HashMap<String, Option<(DieRef, u64)>>,
}

impl AwaitTracer {
    /// The tracer for the firmware ELF at `path`, loaded `bias` bytes above its link addresses.
    pub fn load(path: &Path, bias: u64) -> Result<Self, DebugInfoError> {
        Ok(AwaitTracer {
            types: Types::new(Dwarf::load(path)?, statics::Statics::read(path, bias)),
            bias,
            futures: HashMap::new(),
            embassy: HashMap::new(),
            embassy_by_wrapper: HashMap::new(),
        })
    }

    /// The await trace of the future at `future`, read from `mem`; `slots` names the tasks a join
    /// handle may join.
    pub fn trace(
        &mut self,
        mem: &mut dyn TargetMemory,
        slots: &TaskSlots,
        future: FutureLocation,
    ) -> Vec<AwaitFrame> {
        let Some(ty) = self.future_type(future.type_marker) else {
            return vec![unknown(format!(
                "no function at the type marker {:#x} in the debug info: is this the ELF the target runs?",
                future.type_marker
            ))];
        };
        self.trace_at(mem, slots, ty, future.addr)
    }

    /// The await trace of an embassy task: its `TaskStorage<F>` starts with the task header, and
    /// its `TaskStorage<F>::poll` names `F` and where the future sits after the header.
    pub fn trace_embassy(
        &mut self,
        mem: &mut dyn TargetMemory,
        slots: &TaskSlots,
        task: &crate::device_link::EmbassyTask,
    ) -> Vec<AwaitFrame> {
        match self.embassy_task_future(task) {
            Some((ty, offset)) => {
                let mut frames = self.trace_at(mem, slots, ty, task.header.wrapping_add(offset));
                for frame in &mut frames {
                    frame.function = task_function_name(&frame.function);
                }
                frames
            }
            None => vec![unknown(format!(
                "no embassy TaskStorage<F>::poll for {} in the debug info: is this the ELF the target runs?",
                task.wrapper
            ))],
        }
    }

    /// Where an embassy task's function was declared: the line its future's state machine gives
    /// its unresumed state (the `async fn` itself), for a task the device sends no place for.
    pub fn embassy_declared_at(&mut self, task: &crate::device_link::EmbassyTask) -> Option<Location> {
        let (ty, _) = self.embassy_task_future(task)?;
        let layout = self.types.layout(ty)?;
        let layout::Kind::Struct { variants: Some(part), .. } = &layout.kind else { return None };
        let (file, line) = part.select(0)?.member.as_ref()?.decl.clone()?;
        Some(Location { file, line, column: 0 })
    }

    /// An embassy task's future type and its offset in the task's storage: from its own poll
    /// function when the symbols said which, else from every one's debug info.
    fn embassy_task_future(&mut self, task: &crate::device_link::EmbassyTask) -> Option<(DieRef, u64)> {
        match task.polls.as_slice() {
            [poll] => self.embassy_future(*poll),
            polls => self.embassy_future_of(polls, &task.wrapper),
        }
    }

    /// Of every `TaskStorage<F>::poll` (the symbols did not say which is whose: legacy mangling),
    /// the one whose `F` is named inside `wrapper` (`app::__ticker_task`).
    fn embassy_future_of(&mut self, polls: &[u64], wrapper: &str) -> Option<(DieRef, u64)> {
        if let Some(found) = self.embassy_by_wrapper.get(wrapper) {
            return *found;
        }
        let inside = format!("::{}::", wrapper.rsplit("::").next().unwrap_or(wrapper));
        let found = polls.iter().find_map(|&poll| {
            let (ty, offset) = self.embassy_future(poll)?;
            let name = self.types.dwarf.qualified_name(ty)?;
            name.contains(&inside).then_some((ty, offset))
        });
        self.embassy_by_wrapper.insert(wrapper.to_string(), found);
        found
    }

    fn trace_at(
        &mut self,
        mem: &mut dyn TargetMemory,
        slots: &TaskSlots,
        ty: DieRef,
        addr: u64,
    ) -> Vec<AwaitFrame> {
        let Some(size) = self.types.layout(ty).map(|layout| layout.size) else {
            return vec![unknown("the debug info does not describe the future's type".into())];
        };
        let mut bytes = vec![0; size.min(MAX_FUTURE_BYTES) as usize];
        if let Err(e) = mem.read(addr, &mut bytes) {
            return vec![unknown(format!("its future at {addr:#x} cannot be read: {e}"))];
        }
        walk::frames(&mut self.types, slots, ty, &bytes, addr)
    }

    /// `F` and the offset of the `future` member in `TaskStorage<F>`, from `TaskStorage<F>::poll`
    /// (its declaration sits in the structure's DIE, which carries `F` as its type parameter).
    fn embassy_future(&mut self, poll: u64) -> Option<(DieRef, u64)> {
        let link_address = poll.wrapping_sub(self.bias);
        if let Some(found) = self.embassy.get(&link_address) {
            return *found;
        }
        let found = self.storage_of(link_address).or_else(|| self.storage_of(link_address & !1));
        self.embassy.insert(link_address, found);
        found
    }

    fn storage_of(&mut self, pc: u64) -> Option<(DieRef, u64)> {
        let mut function = self.types.dwarf.function_at(pc)?;
        let mut storage = None;
        // The code's DIE refers to the declaration (a few hops at most), which the type holds.
        for _ in 0..4 {
            let parent = self.types.dwarf.parent(function);
            if let Some(parent) =
                parent.filter(|&p| self.types.dwarf.tag(p) == Some(gimli::DW_TAG_structure_type))
            {
                storage = Some(parent);
                break;
            }
            function = self
                .types
                .dwarf
                .reference(function, gimli::DW_AT_specification)
                .or_else(|| self.types.dwarf.reference(function, gimli::DW_AT_abstract_origin))?;
        }
        let storage = storage?;
        let parameter =
            *self.types.dwarf.children_tagged(storage, gimli::DW_TAG_template_type_parameter).first()?;
        let future = self.types.dwarf.reference(parameter, gimli::DW_AT_type)?;
        let layout = self.types.layout(storage)?;
        let layout::Kind::Struct { members, .. } = &layout.kind else { return None };
        let offset = members.iter().find(|m| m.name == "future")?.offset;
        Some((future, offset))
    }

    /// The future type a type marker names: the type parameter of the poll function it points at.
    fn future_type(&mut self, marker: u64) -> Option<DieRef> {
        let link_address = marker.wrapping_sub(self.bias);
        if let Some(found) = self.futures.get(&link_address) {
            return *found;
        }
        // A thumb function's address has its low bit set; its code (and DWARF) starts one lower.
        let found =
            self.type_parameter_of(link_address).or_else(|| self.type_parameter_of(link_address & !1));
        self.futures.insert(link_address, found);
        found
    }

    fn type_parameter_of(&mut self, pc: u64) -> Option<DieRef> {
        let mut function = self.types.dwarf.function_at(pc)?;
        // The template parameter may sit on the declaration the code's DIE refers to.
        for _ in 0..4 {
            let parameter = self.types.dwarf.children_tagged(function, gimli::DW_TAG_template_type_parameter);
            if let Some(&parameter) = parameter.first() {
                return self.types.dwarf.reference(parameter, gimli::DW_AT_type);
            }
            function = self
                .types
                .dwarf
                .reference(function, gimli::DW_AT_specification)
                .or_else(|| self.types.dwarf.reference(function, gimli::DW_AT_abstract_origin))?;
        }
        None
    }
}

/// The name of an embassy task's body as its author wrote it: the `#[task]` macro moves the body of
/// `app::ticker` into `app::__ticker_task::__ticker_task_inner_function`.
fn task_function_name(name: &str) -> String {
    let Some((path, rest)) = name.split_once("_task_inner_function") else { return name.to_string() };
    let Some((module, inner)) = path.rsplit_once("::__") else { return name.to_string() };
    match module.rsplit_once("::__") {
        Some((crate_path, wrapper)) if wrapper == format!("{inner}_task") => {
            format!("{crate_path}::{inner}{rest}")
        }
        _ => name.to_string(),
    }
}

fn unknown(reason: String) -> AwaitFrame {
    AwaitFrame { depth: 0, function: "?".into(), location: None, state: FrameState::Unknown { reason } }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod embassy_names {
    #[test]
    fn an_embassy_tasks_body_is_named_as_written() {
        let name = super::task_function_name("app::__ticker_task::__ticker_task_inner_function");
        assert_eq!(name, "app::ticker");
        let nested =
            super::task_function_name("app::__ticker_task::__ticker_task_inner_function::{async_block#0}");
        assert_eq!(nested, "app::ticker::{async_block#0}");
        assert_eq!(super::task_function_name("app::sensors::read"), "app::sensors::read");
    }
}
