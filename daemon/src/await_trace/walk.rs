//! Decoding one task's future from its bytes: an `async fn` or block is a state machine whose
//! current variant says where it is suspended (`SuspendN`, declared at the `.await`'s line) and
//! holds the future it awaits (`__awaitee`), inline; the walk follows that down to a future that is
//! not an async fn (a timer, a join handle, a combinator). Everything is read from one copy of the
//! task's storage, so the walk never reads outside it; what makes no sense is said, never guessed.

use super::describe::{describe, TaskSlots};
use super::dwarf::DieRef;
use super::layout::{Kind, Layout, Member, Types};
use asyncmon_protocol::host::{AwaitFrame, FrameState, Location};
use std::sync::Arc;

/// The deepest an await trace goes (a recursion through boxed futures, or bad DWARF).
pub(crate) const MAX_DEPTH: u16 = 32;
/// The most frames one trace has (a combinator of many futures).
const MAX_FRAMES: usize = 64;
/// The field names under which a future that wraps another holds it.
const WRAPPED_FUTURE_FIELDS: &[&str] = &["future", "fut", "inner"];
/// How deep inside a combinator's fields futures are looked for.
const MAX_FIELD_DEPTH: u8 = 3;

/// Reads the frames of a future of type `ty` held in `bytes`, read from run-time address `base`.
pub(crate) fn frames(
    types: &mut Types,
    slots: &TaskSlots,
    ty: DieRef,
    bytes: &[u8],
    base: u64,
) -> Vec<AwaitFrame> {
    let mut walk = Walk { types, slots, bytes, base, frames: Vec::new() };
    walk.future(ty, 0, 0);
    walk.frames
}

/// A type name split into its path and its generic arguments:
/// `app::f::{async_fn_env#0}<u32>` → (`app::f::{async_fn_env#0}`, `<u32>`).
fn split_generics(name: &str) -> (&str, &str) {
    name.split_at(name.find('<').unwrap_or(name.len()))
}

/// Whether a type is an `async fn`'s or `async` block's state machine.
pub(crate) fn is_state_machine(name: &str) -> bool {
    let (path, _) = split_generics(name);
    let last = path.rsplit("::").next().unwrap_or(path);
    last.starts_with("{async_fn_env#") || last.starts_with("{async_block_env#")
}

/// The name of the async fn or block a state machine type belongs to:
/// `app::run::{async_fn_env#0}` → `app::run`; `app::run::{async_fn#0}::{async_block_env#1}` →
/// `app::run::{async_block#1}`; a generic one keeps its type arguments (`app::get<u32>`).
pub(crate) fn function_name(type_name: &str) -> String {
    let (type_path, generics) = split_generics(type_name);
    let (path, last) = type_path.rsplit_once("::").unwrap_or(("", type_path));
    if last.starts_with("{async_fn_env#") {
        return format!("{path}{generics}");
    }
    let block = last.replace("{async_block_env#", "{async_block#");
    let path = path.strip_suffix("::{async_fn#0}").unwrap_or(path);
    if path.is_empty() {
        format!("{block}{generics}")
    } else {
        format!("{path}::{block}{generics}")
    }
}

struct Walk<'a> {
    types: &'a mut Types,
    slots: &'a TaskSlots,
    bytes: &'a [u8],
    /// Where `bytes` were read from.
    base: u64,
    frames: Vec<AwaitFrame>,
}

impl Walk<'_> {
    fn push(&mut self, depth: u16, function: String, location: Option<Location>, state: FrameState) {
        self.frames.push(AwaitFrame { depth, function, location, state });
    }

    fn unknown(&mut self, depth: u16, function: String, reason: impl Into<String>) {
        self.push(depth, function, None, FrameState::Unknown { reason: reason.into() });
    }

    /// The future of type `ty` at `offset` in the task's bytes, at `depth` in the tree.
    fn future(&mut self, ty: DieRef, offset: u64, depth: u16) {
        if depth >= MAX_DEPTH || self.frames.len() >= MAX_FRAMES {
            self.unknown(depth, "…".into(), "the trace is cut here: too deep or too many frames");
            return;
        }
        let Some(layout) = self.types.layout(ty) else {
            let reason = if self.types.contains_itself(ty) {
                "a type that contains itself (the debug info is broken)"
            } else {
                "the debug info does not describe this type"
            };
            self.unknown(depth, "?".into(), reason);
            return;
        };
        if offset.checked_add(layout.size).is_none_or(|end| end > self.bytes.len() as u64) {
            let reason = format!(
                "{} bytes at offset {offset} lie outside the task's {} bytes",
                layout.size,
                self.bytes.len()
            );
            self.unknown(depth, layout.name.clone(), reason);
            return;
        }
        if is_state_machine(&layout.name) {
            self.state_machine(&layout, offset, depth);
        } else {
            let future = super::describe::Future { bytes: self.bytes, base: self.base };
            let description = describe(self.types, self.slots, &layout, ty, future, offset);
            self.push(depth, layout.name.clone(), None, FrameState::Waiting { description });
            let inner = match self.branches(&layout, offset) {
                Some(branches) => branches,
                None => self.inner_futures(&layout, offset, 0),
            };
            for (inner, at) in inner {
                self.future(inner, at, depth + 1);
            }
        }
    }

    fn state_machine(&mut self, layout: &Layout, offset: u64, depth: u16) {
        let function = function_name(&layout.name);
        let Kind::Struct { variants: Some(part), .. } = &layout.kind else {
            self.unknown(depth, function, "the state machine has no variants in the debug info");
            return;
        };
        let Some((discr_offset, discr_size)) = part.discr else {
            self.unknown(depth, function, "the state machine's state is not in the debug info");
            return;
        };
        let Some(state) =
            read_uint(self.bytes, offset + discr_offset, discr_size, self.types.dwarf.little_endian)
        else {
            self.unknown(depth, function, "its state lies outside the task's storage");
            return;
        };
        let Some(Member { ty: Some(variant_ty), offset: variant_offset, decl, .. }) =
            part.select(state).and_then(|v| v.member.clone())
        else {
            self.unknown(depth, function, format!("state {state} is none of its states: not a live future"));
            return;
        };
        let location = decl.map(|(file, line)| Location { file, line, column: 0 });
        let Some(variant) = self.types.layout(variant_ty) else {
            self.unknown(depth, function, "the debug info does not describe its state");
            return;
        };
        let variant_name = variant.name.rsplit("::").next().unwrap_or_default();
        match variant_name {
            "Unresumed" => self.push(depth, function, location, FrameState::NotStarted),
            "Returned" => self.push(depth, function, location, FrameState::Returned),
            "Panicked" => self.push(depth, function, location, FrameState::Panicked),
            name if name.starts_with("Suspend") => {
                self.push(depth, function, location, FrameState::Awaiting);
                let Kind::Struct { members, .. } = &variant.kind else { return };
                if let Some(Member { ty: Some(awaitee), offset: at, .. }) =
                    members.iter().find(|m| m.name == "__awaitee")
                {
                    self.future(*awaitee, offset + variant_offset + at, depth + 1);
                }
            }
            other => self.unknown(depth, function, format!("an unknown state {other:?}")),
        }
    }

    /// The branches of embassy-futures' `select` and `join` (`Select { a, b }`, `Join { a: MaybeDone<A>,
    /// b: MaybeDone<B> }`), whatever their futures' types: each a frame. `None` for other types.
    fn branches(&mut self, layout: &Layout, offset: u64) -> Option<Vec<(DieRef, u64)>> {
        let path = layout.name.split('<').next().unwrap_or_default();
        let join = match path {
            "embassy_futures::select::Select"
            | "embassy_futures::select::Select3"
            | "embassy_futures::select::Select4" => false,
            "embassy_futures::join::Join"
            | "embassy_futures::join::Join3"
            | "embassy_futures::join::Join4" => true,
            _ => return None,
        };
        let Kind::Struct { members, .. } = &layout.kind else { return None };
        let mut found = Vec::new();
        for member in members.clone() {
            let (Some(ty), at) = (member.ty, offset + member.offset) else { continue };
            if !join {
                found.push((ty, at));
                continue;
            }
            // A branch still running is `MaybeDone::Future(F)`; a finished one waits no more.
            let Some(maybe) = self.types.layout(ty) else { continue };
            let Kind::Struct { variants: Some(part), .. } = &maybe.kind else { continue };
            let state = match part.discr {
                Some((d, size)) => read_uint(self.bytes, at + d, size, self.types.dwarf.little_endian),
                None => Some(0),
            };
            let Some(Member { ty: Some(variant), offset: variant_at, .. }) =
                state.and_then(|s| part.select(s)).and_then(|v| v.member.clone())
            else {
                continue;
            };
            let Some(payload) = self.types.layout(variant) else { continue };
            if !payload.name.ends_with("::Future") {
                continue;
            }
            let Kind::Struct { members: fields, .. } = &payload.kind else { continue };
            if let Some(Member { ty: Some(future), offset: field_at, .. }) =
                fields.iter().find(|f| f.name == "__0")
            {
                found.push((*future, at + variant_at + field_at));
            }
        }
        Some(found)
    }

    /// The futures a combinator holds in its fields (through structures and the active variant of
    /// enums such as `Option` or `MaybeDone`, never through a pointer), with their offsets.
    fn inner_futures(&mut self, layout: &Layout, offset: u64, level: u8) -> Vec<(DieRef, u64)> {
        let mut found = Vec::new();
        if level >= MAX_FIELD_DEPTH {
            return found;
        }
        let Kind::Struct { members, variants } = &layout.kind else { return found };
        let mut fields: Vec<Member> = members.clone();
        if let Some(part) = variants {
            let state = match part.discr {
                Some((at, size)) => read_uint(self.bytes, offset + at, size, self.types.dwarf.little_endian),
                None => Some(0),
            };
            if let Some(member) = state.and_then(|s| part.select(s)).and_then(|v| v.member.clone()) {
                fields.push(member);
            }
        }
        for field in fields {
            let Some(ty) = field.ty else { continue };
            let Some(inner) = self.types.layout(ty) else { continue };
            let at = offset + field.offset;
            // A wrapper's inner future (`future`, as the agent's and most combinators name it) is
            // a frame of its own, whatever its type; so is any async state machine.
            let wrapped = level == 0 && WRAPPED_FUTURE_FIELDS.contains(&field.name.as_str());
            if is_state_machine(&inner.name) || (wrapped && !matches!(inner.kind, Kind::Pointer { .. })) {
                found.push((ty, at));
            } else {
                found.extend(self.inner_futures(&Arc::clone(&inner), at, level + 1));
            }
        }
        found
    }
}

/// An unsigned integer of `size` bytes at `offset` in `bytes`, if it lies inside.
pub(crate) fn read_uint(bytes: &[u8], offset: u64, size: u64, little_endian: bool) -> Option<u64> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    let field = bytes.get(start..end)?;
    if field.len() > 8 {
        return None;
    }
    let mut value = 0u64;
    for (i, byte) in field.iter().enumerate() {
        let shift = if little_endian { i } else { field.len() - 1 - i };
        value |= u64::from(*byte) << (8 * shift);
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine_types_name_their_async_fn_or_block() {
        assert_eq!(function_name("app::tasks::telemetry::{async_fn_env#0}"), "app::tasks::telemetry");
        assert_eq!(
            function_name("app::outer::{async_fn#0}::{async_block_env#1}"),
            "app::outer::{async_block#1}"
        );
        assert_eq!(
            function_name("app::get::{async_fn_env#0}<alloc::string::String>"),
            "app::get<alloc::string::String>"
        );
        assert!(is_state_machine("app::outer::{async_fn#0}::{async_block_env#1}"));
        assert!(is_state_machine("app::get::{async_fn_env#0}<core::option::Option<u8>>"));
        assert!(!is_state_machine("asyncmon_agent::time::Sleep"));
    }

    #[test]
    fn integers_are_read_in_the_targets_order_and_only_inside_the_bytes() {
        let bytes = [0x34, 0x12, 0, 0, 0xff];
        assert_eq!(read_uint(&bytes, 0, 2, true), Some(0x1234));
        assert_eq!(read_uint(&bytes, 0, 2, false), Some(0x3412));
        assert_eq!(read_uint(&bytes, 4, 1, true), Some(0xff));
        assert_eq!(read_uint(&bytes, 4, 2, true), None, "past the end");
        assert_eq!(read_uint(&bytes, u64::MAX, 2, true), None, "an offset that overflows");
    }
}
