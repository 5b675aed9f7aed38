//! What a future that is not an async fn waits for, in words, where the daemon knows the type: the
//! agent's own awaitables (a join handle names the task it joins, a gather the tasks it gathers,
//! a sleep its timer) and embassy-sync's and embassy-time's, with the static they wait on where
//! the future points at one ("a message on Channel READINGS", "the lock of Mutex SHARED"). A handle's task is found from the handle's own
//! fields (the executor's storage, the slot's stride and index give the slot's address, which is
//! where that task's future lives), so describing it reads nothing outside the task's storage.

use super::dwarf::DieRef;
use super::layout::{Kind, Layout, Member, Types};
use super::walk::read_uint;
use asyncmon_protocol::host::TaskId;
use std::collections::HashMap;

/// The running tasks by the address of their future (a slot's storage), for naming the task a
/// join handle joins.
#[derive(Debug, Default, Clone)]
pub struct TaskSlots {
    /// Future address → task.
    pub by_address: HashMap<u64, TaskId>,
}

/// A task's future as read: its bytes, and the run-time address they were read from.
#[derive(Clone, Copy)]
pub(crate) struct Future<'a> {
    pub bytes: &'a [u8],
    pub base: u64,
}

/// What the future of `layout` (type `ty`, at `offset` in `future`) waits for, if the daemon knows.
pub(crate) fn describe(
    types: &mut Types,
    slots: &TaskSlots,
    layout: &Layout,
    ty: DieRef,
    future: Future<'_>,
    offset: u64,
) -> Option<String> {
    let path = layout.name.split('<').next().unwrap_or_default();
    let mut reader = Fields { types, slots, bytes: future.bytes, base: future.base };
    match path {
        "asyncmon_agent::join::JoinHandle" => Some(reader.join_words(ty, offset)),
        "asyncmon_agent::time::TaskWaitFor" => {
            let (handle, at) = reader.field(ty, offset, "handle")?;
            Some(format!("{}, with a deadline", reader.join_words(handle, at)))
        }
        "asyncmon_agent::gather::Gather"
        | "asyncmon_agent::gather::GatherAll"
        | "asyncmon_agent::gather::GatherVec"
        | "asyncmon_agent::gather::GatherTuple" => reader.gather_words(path, ty, offset),
        "asyncmon_agent::time::Sleep" => Some("sleep: a timer".into()),
        "asyncmon_agent::time::WaitFor" => Some("a deadline, around the future below".into()),
        "asyncmon_agent::cancel::Cancellable" => Some("the future below, cancelled with its task".into()),
        "embassy_time::timer::Timer" => Some("a timer".into()),
        "embassy_sync::channel::ReceiveFuture" | "embassy_sync::channel::DynamicReceiveFuture" => {
            Some(reader.named(ty, offset, "a message on Channel", "a message on a channel"))
        }
        "embassy_sync::channel::SendFuture" | "embassy_sync::channel::DynamicSendFuture" => {
            Some(reader.named(ty, offset, "room in Channel", "room in a full channel"))
        }
        "embassy_sync::signal::WaitFuture" => Some(reader.named(ty, offset, "Signal", "a signal")),
        "embassy_sync::pubsub::subscriber::SubscriberWaitFuture" => {
            let unnamed = format!("a message on a PubSubChannel<{}>", message_type(&layout.name));
            Some(reader.named(ty, offset, "a message on PubSubChannel", &unnamed))
        }
        "embassy_sync::pubsub::publisher::PublisherWaitFuture" => {
            let unnamed = format!("room in a full PubSubChannel<{}>", message_type(&layout.name));
            Some(reader.named(ty, offset, "room in PubSubChannel", &unnamed))
        }
        // embassy-futures' combinators: their branches follow as frames of their own.
        "embassy_futures::select::Select" => Some("the first of 2 futures".into()),
        "embassy_futures::select::Select3" => Some("the first of 3 futures".into()),
        "embassy_futures::select::Select4" => Some("the first of 4 futures".into()),
        "embassy_futures::select::SelectArray" | "embassy_futures::select::SelectSlice" => {
            Some("the first of several futures".into())
        }
        "embassy_futures::join::Join" => Some("all of 2 futures".into()),
        "embassy_futures::join::Join3" => Some("all of 3 futures".into()),
        "embassy_futures::join::Join4" => Some("all of 4 futures".into()),
        "embassy_futures::join::JoinArray" => Some("all of several futures".into()),
        "embassy_sync::pipe::ReadFuture" => {
            Some(reader.named(ty, offset, "bytes in Pipe", "bytes in a pipe"))
        }
        "embassy_sync::pipe::WriteFuture" => {
            Some(reader.named(ty, offset, "room in Pipe", "room in a full pipe"))
        }
        // `poll_fn` futures are named by the function that made them; what they capture is the
        // primitive waited on.
        "core::future::poll_fn::PollFn" => {
            let made_in = |module: &str| layout.name.contains(module);
            if made_in("embassy_sync::signal::") {
                Some(reader.named(ty, offset, "Signal", "a signal"))
            } else if made_in("embassy_sync::mutex::") {
                Some(reader.named(ty, offset, "the lock of Mutex", "the lock of a Mutex"))
            } else if made_in("embassy_sync::watch::") {
                Some(reader.named(ty, offset, "a change of Watch", "a change of a Watch"))
            } else if made_in("embassy_sync::channel::") {
                Some(reader.named(ty, offset, "a message on Channel", "a message on a channel"))
            } else if made_in("embassy_time::timer::") {
                Some("the next tick".into())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The message type of a PubSub future, its last type argument, without its path
/// (`SubscriberWaitFuture<PubSubChannel<M, app::Message, 4, 3, 1>, app::Message>` → `Message`).
fn message_type(name: &str) -> String {
    let Some(arguments) = name.strip_suffix('>').and_then(|n| n.split_once('<')).map(|(_, a)| a) else {
        return "?".into();
    };
    // The last argument at the outermost level.
    let mut depth = 0i32;
    let mut last = 0;
    for (i, c) in arguments.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => last = i + 1,
            _ => {}
        }
    }
    let argument = arguments[last..].trim();
    let (path, generics) = argument.split_at(argument.find('<').unwrap_or(argument.len()));
    format!("{}{generics}", path.rsplit("::").next().unwrap_or(path))
}

struct Fields<'a> {
    types: &'a mut Types,
    slots: &'a TaskSlots,
    bytes: &'a [u8],
    /// Where `bytes` were read from.
    base: u64,
}

impl Fields<'_> {
    /// Member `name` of the structure `ty` at `offset`: its type and offset.
    fn field(&mut self, ty: DieRef, offset: u64, name: &str) -> Option<(DieRef, u64)> {
        let layout = self.types.layout(ty)?;
        let Kind::Struct { members, .. } = &layout.kind else { return None };
        let member = members.iter().find(|m| m.name == name)?;
        Some((member.ty?, offset + member.offset))
    }

    /// `what` and the name of the static the future at `offset` points at (a channel, a mutex), or
    /// `unnamed` when it points at none the symbols name.
    fn named(&mut self, ty: DieRef, offset: u64, what: &str, unnamed: &str) -> String {
        match self.pointed_static(ty, offset, 5) {
            Some(name) => format!("{what} {name}"),
            None => unnamed.into(),
        }
    }

    /// The first static a pointer among the members of `ty` (at `offset`, `depth` structures deep)
    /// points at.
    fn pointed_static(&mut self, ty: DieRef, offset: u64, depth: u32) -> Option<String> {
        let layout = self.types.layout(ty)?;
        match &layout.kind {
            Kind::Pointer { target } => {
                let address = read_uint(self.bytes, offset, layout.size, self.types.dwarf.little_endian)?;
                // A local of the same future, borrowed across the `.await` (a subscriber, a
                // watch's receiver): followed in the bytes already read. (Before the statics: the
                // future itself may sit in one, an executor's.)
                if let Some(inside) =
                    address.checked_sub(self.base).filter(|&at| at < self.bytes.len() as u64)
                {
                    return self.pointed_static((*target)?, inside, depth.checked_sub(1)?);
                }
                self.types.statics.name_at(address).map(str::to_string)
            }
            Kind::Struct { members, .. } if depth > 0 => members
                .iter()
                .filter_map(|m| Some((m.ty?, offset + m.offset)))
                .find_map(|(member, at)| self.pointed_static(member, at, depth - 1)),
            _ => None,
        }
    }

    /// An unsigned integer (or pointer) field along `path` from `ty` at `offset`.
    fn uint(&mut self, ty: DieRef, offset: u64, path: &[&str]) -> Option<u64> {
        let (mut ty, mut at) = (ty, offset);
        for name in path {
            (ty, at) = self.field(ty, at, name)?;
        }
        let size = self.types.layout(ty)?.size;
        read_uint(self.bytes, at, size, self.types.dwarf.little_endian)
    }

    /// The task a join handle joins, from the slot its fields point at.
    fn joined_task(&mut self, handle: DieRef, offset: u64) -> Option<TaskId> {
        let storage = self.uint(handle, offset, &["exec", "storage"])?;
        let stride = self.uint(handle, offset, &["exec", "stride"])?;
        let index = self.uint(handle, offset, &["index"])?;
        let slot = storage.checked_add(stride.checked_mul(index)?)?;
        self.slots.by_address.get(&slot).copied()
    }

    fn join_words(&mut self, handle: DieRef, offset: u64) -> String {
        match self.joined_task(handle, offset) {
            Some(task) => format!("join task #{task}"),
            None => "join a task that has ended (its result waits in its slot)".into(),
        }
    }

    /// `Some`'s payload of the `Option` `ty` at `offset`, if it is `Some`.
    fn some(&mut self, ty: DieRef, offset: u64) -> Option<(DieRef, u64)> {
        let layout = self.types.layout(ty)?;
        let Kind::Struct { variants: Some(part), .. } = &layout.kind else { return None };
        let state = match part.discr {
            Some((at, size)) => read_uint(self.bytes, offset + at, size, self.types.dwarf.little_endian)?,
            None => 0,
        };
        let Member { ty: Some(variant), offset: variant_at, name, .. } =
            part.select(state)?.member.clone()?
        else {
            return None;
        };
        if name != "Some" {
            return None;
        }
        self.field(variant, offset + variant_at, "__0")
    }

    /// A gather's tasks, from the handles it still holds: `gather`'s and `gather_tuple`'s slots
    /// (a handle while the task runs), `gather_vec`'s slots in a `heapless::Vec`, `gather_all`'s
    /// handles.
    fn gather_words(&mut self, path: &str, ty: DieRef, offset: u64) -> Option<String> {
        // Each task's handle, `None` once the task ended.
        let handles: Vec<Option<(DieRef, u64)>> = match path {
            "asyncmon_agent::gather::GatherAll" => {
                let (array, at) = self.field(ty, offset, "handles")?;
                let elements = self.elements(array, at)?;
                elements.into_iter().map(|(option, at)| self.some(option, at)).collect()
            }
            "asyncmon_agent::gather::GatherVec" => {
                let (vec, at) = self.field(ty, offset, "slots")?;
                let (len, len_at) = self.field(vec, at, "len")?;
                let len_size = self.types.layout(len)?.size;
                let len = read_uint(self.bytes, len_at, len_size, self.types.dwarf.little_endian)?;
                let (buffer, at) = self.field(vec, at, "buffer")?;
                let mut slots = self.elements(buffer, at)?;
                slots.truncate(usize::try_from(len).ok()?);
                // Each element is a MaybeUninit (a union) whose `value` wraps the slot in a
                // ManuallyDrop (and, in newer Rust, a MaybeDangling too).
                let mut handles = Vec::new();
                for (uninit, at) in slots {
                    let (slot, at) = self.wrapped(uninit, at, "asyncmon_agent::gather::Slot<", 4)?;
                    handles.push(self.slot_handle(slot, at));
                }
                handles
            }
            "asyncmon_agent::gather::GatherTuple" => {
                let (tuple, at) = self.field(ty, offset, "slots")?;
                let layout = self.types.layout(tuple)?;
                let Kind::Struct { members, .. } = &layout.kind else { return None };
                let slots = members.iter().filter_map(|m| Some((m.ty?, at + m.offset))).collect::<Vec<_>>();
                slots.into_iter().map(|(slot, at)| self.slot_handle(slot, at)).collect()
            }
            _ => {
                let (array, at) = self.field(ty, offset, "slots")?;
                let elements = self.elements(array, at)?;
                elements.into_iter().map(|(slot, at)| self.slot_handle(slot, at)).collect()
            }
        };
        let count = handles.len();
        let waiting = handles
            .into_iter()
            .flatten()
            .map(|(handle, at)| match self.joined_task(handle, at) {
                Some(task) => format!("#{task}"),
                None => "an ended task".into(),
            })
            .collect::<Vec<_>>();
        let tasks = if count == 1 { "task" } else { "tasks" };
        Some(match waiting.as_slice() {
            [] => format!("gather of {count} {tasks}, all ended"),
            _ => format!("gather of {count} {tasks}, waiting for {}", waiting.join(" ")),
        })
    }

    /// The value of type `path…` inside the wrappers around it (`MaybeUninit`, `ManuallyDrop`,
    /// `MaybeDangling`: their first member, `depth` levels at most).
    fn wrapped(&mut self, ty: DieRef, offset: u64, path: &str, depth: u32) -> Option<(DieRef, u64)> {
        let layout = self.types.layout(ty)?;
        if layout.name.starts_with(path) {
            return Some((ty, offset));
        }
        let Kind::Struct { members, .. } = &layout.kind else { return None };
        let inner = members.iter().find(|m| m.name == "value").or_else(|| members.first())?;
        let (inner, at) = (inner.ty?, offset + inner.offset);
        if depth == 0 {
            return None;
        }
        self.wrapped(inner, at, path, depth - 1)
    }

    /// The handle a gather's slot holds while its task runs.
    fn slot_handle(&mut self, slot: DieRef, offset: u64) -> Option<(DieRef, u64)> {
        let (option, at) = self.field(slot, offset, "handle")?;
        self.some(option, at)
    }

    /// The elements of the array at `offset` (at most 64), each with where it is.
    fn elements(&mut self, array: DieRef, offset: u64) -> Option<Vec<(DieRef, u64)>> {
        let layout = self.types.layout(array)?;
        let Kind::Array { element: Some(element), count } = layout.kind else { return None };
        let size = self.types.layout(element)?.size;
        Some((0..count.min(64)).map(|i| (element, offset + i * size)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::message_type;

    #[test]
    fn a_pubsub_futures_message_type_is_its_last_argument() {
        let name = "embassy_sync::pubsub::subscriber::SubscriberWaitFuture<embassy_sync::pubsub::PubSubChannel<embassy_sync::blocking_mutex::raw::ThreadModeRawMutex, app::Message, 4, 3, 1>, app::Message>";
        assert_eq!(message_type(name), "Message");
        assert_eq!(message_type("X<a::B<u8>, c::D<e::F, 2>>"), "D<e::F, 2>");
        assert_eq!(message_type("NoArguments"), "?");
    }
}
