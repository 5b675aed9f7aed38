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

mod describe;
mod dwarf;
mod layout;
mod walk;

pub use describe::TaskSlots;
pub use dwarf::DebugInfoError;

use crate::memory::TargetMemory;
use asyncmon_protocol::device::FutureLocation;
use asyncmon_protocol::host::{AwaitFrame, FrameState};
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
}

impl AwaitTracer {
    /// The tracer for the firmware ELF at `path`, loaded `bias` bytes above its link addresses.
    pub fn load(path: &Path, bias: u64) -> Result<Self, DebugInfoError> {
        Ok(AwaitTracer { types: Types::new(Dwarf::load(path)?), bias, futures: HashMap::new() })
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
        let Some(size) = self.types.layout(ty).map(|layout| layout.size) else {
            return vec![unknown("the debug info does not describe the future's type".into())];
        };
        let mut bytes = vec![0; size.min(MAX_FUTURE_BYTES) as usize];
        if let Err(e) = mem.read(future.addr, &mut bytes) {
            return vec![unknown(format!("its future at {:#x} cannot be read: {e}", future.addr))];
        }
        walk::frames(&mut self.types, slots, ty, &bytes)
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

fn unknown(reason: String) -> AwaitFrame {
    AwaitFrame { depth: 0, function: "?".into(), location: None, state: FrameState::Unknown { reason } }
}

#[cfg(test)]
mod tests;
