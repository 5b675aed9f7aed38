//! Hand-made debug info read as a trace reads it, for the fuzzer (`fuzz/fuzz_targets/debug_info.rs`):
//! every type's layout, and every type walked as a future over bytes. What it looks for is what a
//! hostile or broken firmware could do to the daemon: a panic, a stack overflow (a type that
//! contains itself), a hang or an unbounded allocation.
//!
//! The input is `.debug_abbrev`'s length (4 bytes, little-endian), `.debug_abbrev`, then
//! `.debug_info`; the seeds in `fuzz/seeds/debug_info` are written by [`input`].

use super::describe::TaskSlots;
use super::dwarf::{DieRef, Dwarf};
use super::layout::Types;
use super::statics::Statics;
use super::walk;

/// How many DIEs one input may have read: an input of many small DIEs stays quick.
const MAX_DIES: usize = 2_000;

/// The fuzzer's input for the sections `.debug_abbrev` and `.debug_info`.
pub fn input(debug_abbrev: &[u8], debug_info: &[u8]) -> Vec<u8> {
    let mut out = (debug_abbrev.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(debug_abbrev);
    out.extend_from_slice(debug_info);
    out
}

/// Reads every type of the debug info in `data` (see the module docs) and walks each as a future
/// over the input's own bytes; how many frames the walks gave.
pub fn read_every_type(data: &[u8]) -> usize {
    let Some((length, rest)) = data.split_first_chunk::<4>() else { return 0 };
    let length = (u32::from_le_bytes(*length) as usize).min(rest.len());
    let (abbrev, info) = rest.split_at(length);
    let section = |id: gimli::SectionId| match id {
        gimli::SectionId::DebugAbbrev => abbrev.to_vec(),
        gimli::SectionId::DebugInfo => info.to_vec(),
        _ => Vec::new(),
    };
    let Ok(dwarf) = Dwarf::from_sections(section, gimli::RunTimeEndian::Little) else { return 0 };
    let roots = dwarf.roots();
    let mut types = Types::new(dwarf, Statics::default());
    let mut queue: std::collections::VecDeque<DieRef> = roots.into();
    let (mut seen, mut frames) = (0, 0);
    while let Some(die) = queue.pop_front() {
        seen += 1;
        if seen > MAX_DIES {
            break;
        }
        let _ = types.layout(die);
        frames += walk::frames(&mut types, &TaskSlots::default(), die, data, 0).len();
        queue.extend(types.dwarf.children(die).into_iter().map(|(_, child)| child));
    }
    frames
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use gimli::write::{AttributeValue, DwarfUnit, EndianVec, Sections};
    use std::collections::HashMap;

    /// Debug info whose types refer to themselves: an array whose element is the array, and a
    /// state machine whose discriminant's type is the state machine.
    pub(in super::super) fn looping_sections() -> HashMap<gimli::SectionId, Vec<u8>> {
        let encoding = gimli::Encoding { format: gimli::Format::Dwarf32, version: 4, address_size: 4 };
        let mut dwarf = DwarfUnit::new(encoding);
        let root = dwarf.unit.root();
        let array = dwarf.unit.add(root, gimli::DW_TAG_array_type);
        dwarf.unit.get_mut(array).set(gimli::DW_AT_type, AttributeValue::UnitRef(array));
        let machine = dwarf.unit.add(root, gimli::DW_TAG_structure_type);
        let entry = dwarf.unit.get_mut(machine);
        entry.set(gimli::DW_AT_name, AttributeValue::String(b"{async_fn_env#0}".to_vec()));
        entry.set(gimli::DW_AT_byte_size, AttributeValue::Udata(8));
        let part = dwarf.unit.add(machine, gimli::DW_TAG_variant_part);
        let discr = dwarf.unit.add(part, gimli::DW_TAG_member);
        dwarf.unit.get_mut(discr).set(gimli::DW_AT_type, AttributeValue::UnitRef(machine));
        dwarf.unit.get_mut(part).set(gimli::DW_AT_discr, AttributeValue::UnitRef(discr));
        let mut sections = Sections::new(EndianVec::new(gimli::LittleEndian));
        dwarf.write(&mut sections).unwrap();
        let mut bytes = HashMap::new();
        sections
            .for_each(|id, data| {
                bytes.insert(id, data.slice().to_vec());
                Ok::<_, ()>(())
            })
            .unwrap();
        bytes
    }

    #[test]
    fn the_fuzzers_seed_is_the_looping_debug_info_and_it_is_read_to_an_end() {
        let sections = looping_sections();
        let seed = input(&sections[&gimli::SectionId::DebugAbbrev], &sections[&gimli::SectionId::DebugInfo]);
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/debug_info/looping-types");
        if std::env::var_os("ASYNCMON_WRITE_SEEDS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &seed).unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), seed, "ASYNCMON_WRITE_SEEDS=1 writes it again");
        // Both types are read, each to the point where it meets itself.
        let frames = read_every_type(&seed);
        assert!(frames > 0 && frames < 20, "{frames} frames");
    }

    #[test]
    fn a_string_index_too_large_to_be_one_is_refused_not_overflowed() {
        // strx-index-overflow: a `DW_FORM_strx` index near 2^64, which gimli multiplied by the word
        // size unchecked (a panic with overflow checks on); strx-in-unit-root: the same in a unit's
        // root DIE, whose strings gimli resolves while it parses the unit.
        for seed in ["strx-index-overflow", "strx-in-unit-root"] {
            let path =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/debug_info").join(seed);
            read_every_type(&std::fs::read(path).unwrap());
        }
    }

    #[test]
    fn input_that_is_no_debug_info_is_nothing() {
        assert_eq!(read_every_type(b""), 0);
        assert_eq!(read_every_type(&[0xff; 64]), 0);
    }
}
