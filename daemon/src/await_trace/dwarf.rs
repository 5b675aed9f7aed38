//! A firmware's DWARF, read lazily: which compilation unit holds an address, the function that
//! starts there, a DIE's qualified name, its attributes and children. Units are indexed the first
//! time something in them is asked for, so a large debug build (the simulated board's executable
//! is the whole `asyncmon` binary) costs only the units an await trace touches.

use gimli::{AttributeValue, EndianArcSlice, Reader as _, RunTimeEndian, UnitOffset};
use object::{Object, ObjectSection};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The reader every section is read through: owned bytes, so the index can outlive the file.
pub(crate) type Reader = EndianArcSlice<RunTimeEndian>;

/// Why a firmware's debug info cannot be used for await traces.
#[derive(Debug, thiserror::Error)]
pub enum DebugInfoError {
    /// The ELF cannot be read or parsed.
    #[error(transparent)]
    Elf(#[from] crate::elf_memory::ElfError),
    /// The ELF has no `.debug_info`: it was built without debug info, or stripped.
    #[error("{path} has no debug info: build the firmware with `debug = 2` (or \"full\") in its profile — it costs no flash", path = path.display())]
    NoDebugInfo {
        /// The file.
        path: PathBuf,
    },
    /// The DWARF itself is malformed.
    #[error("the debug info of {path} cannot be read: {source}", path = path.display())]
    Dwarf {
        /// The file.
        path: PathBuf,
        /// gimli's error.
        source: gimli::Error,
    },
}

/// A DIE anywhere in `.debug_info`: its unit (an index into [`Dwarf::units`]) and its offset there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct DieRef {
    pub unit: usize,
    pub offset: UnitOffset,
}

/// One unit, parsed and indexed: who is whose parent, and which function starts where.
struct UnitIndex {
    unit: gimli::Unit<Reader>,
    parents: HashMap<UnitOffset, UnitOffset>,
    functions: HashMap<u64, UnitOffset>,
}

/// See the module documentation.
pub(crate) struct Dwarf {
    dwarf: gimli::Dwarf<Reader>,
    /// Every unit header, in `.debug_info` order (their offsets ascend).
    headers: Vec<gimli::UnitHeader<Reader>>,
    /// The address ranges of the units, once looked for (from `.debug_aranges`, or each unit's).
    ranges: Option<Vec<(std::ops::Range<u64>, usize)>>,
    indexed: HashMap<usize, Arc<UnitIndex>>,
    /// Whether target words are little-endian.
    pub little_endian: bool,
}

impl Dwarf {
    /// Reads the DWARF sections of the ELF at `path`.
    pub fn load(path: &Path) -> Result<Self, DebugInfoError> {
        crate::elf_memory::with_elf(path, |file| Ok(Self::from_object(path, file)))?
    }

    fn from_object(path: &Path, file: &object::File<'_>) -> Result<Self, DebugInfoError> {
        let endian = if file.is_little_endian() { RunTimeEndian::Little } else { RunTimeEndian::Big };
        if file.section_by_name(".debug_info").is_none_or(|s| s.size() == 0) {
            return Err(DebugInfoError::NoDebugInfo { path: path.into() });
        }
        let section = |id: gimli::SectionId| -> Vec<u8> {
            file.section_by_name(id.name())
                .and_then(|section| section.uncompressed_data().ok())
                .map(|bytes| bytes.into_owned())
                .unwrap_or_default()
        };
        Self::from_sections(section, endian)
            .map_err(|source| DebugInfoError::Dwarf { path: path.into(), source })
    }

    /// The DWARF of the sections `section` gives (empty for one there is not).
    pub(crate) fn from_sections(
        section: impl Fn(gimli::SectionId) -> Vec<u8>,
        endian: RunTimeEndian,
    ) -> Result<Self, gimli::Error> {
        let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
            Ok(EndianArcSlice::new(Arc::from(section(id)), endian))
        };
        let dwarf = gimli::Dwarf::load(load)?;
        let mut headers = Vec::new();
        let mut units = dwarf.units();
        while let Some(header) = units.next()? {
            headers.push(header);
        }
        Ok(Dwarf {
            dwarf,
            headers,
            ranges: None,
            indexed: HashMap::new(),
            little_endian: endian == RunTimeEndian::Little,
        })
    }

    /// The first DIE of the first unit: its root.
    #[cfg(test)]
    pub(crate) fn root(&self) -> Option<DieRef> {
        self.roots().first().copied()
    }

    /// The root DIE of every unit.
    pub(crate) fn roots(&self) -> Vec<DieRef> {
        let root = |(unit, header): (usize, &gimli::UnitHeader<Reader>)| {
            let parsed = parsed_unit(&self.dwarf, header)?;
            let mut entries = parsed.entries();
            let (_, root) = entries.next_dfs().ok()??;
            Some(DieRef { unit, offset: root.offset() })
        };
        self.headers.iter().enumerate().filter_map(root).collect()
    }

    fn index(&mut self, unit: usize) -> Option<Arc<UnitIndex>> {
        if let Some(index) = self.indexed.get(&unit) {
            return Some(index.clone());
        }
        let parsed = parsed_unit(&self.dwarf, self.headers.get(unit)?)?;
        let mut parents = HashMap::new();
        let mut functions = HashMap::new();
        let mut ancestors: Vec<UnitOffset> = Vec::new();
        let mut depth: isize = 0;
        let mut entries = parsed.entries();
        while let Ok(Some((delta, entry))) = entries.next_dfs() {
            depth += delta;
            ancestors.truncate(depth.max(0) as usize);
            if let Some(&parent) = ancestors.last() {
                parents.insert(entry.offset(), parent);
            }
            if entry.tag() == gimli::DW_TAG_subprogram {
                if let Ok(Some(value)) = entry.attr_value(gimli::DW_AT_low_pc) {
                    if let Ok(Some(pc)) = self.dwarf.attr_address(&parsed, value) {
                        functions.insert(pc, entry.offset());
                    }
                }
            }
            ancestors.push(entry.offset());
        }
        let index = Arc::new(UnitIndex { unit: parsed, parents, functions });
        self.indexed.insert(unit, index.clone());
        Some(index)
    }

    /// The units whose code covers `pc`.
    fn units_at(&mut self, pc: u64) -> Vec<usize> {
        if self.ranges.is_none() {
            self.ranges = Some(self.unit_ranges());
        }
        let ranges = self.ranges.as_deref().unwrap_or_default();
        let mut units: Vec<usize> =
            ranges.iter().filter(|(range, _)| range.contains(&pc)).map(|(_, unit)| *unit).collect();
        units.dedup();
        units
    }

    fn unit_ranges(&self) -> Vec<(std::ops::Range<u64>, usize)> {
        let mut ranges = Vec::new();
        let mut aranges = self.dwarf.debug_aranges.headers();
        while let Ok(Some(header)) = aranges.next() {
            let Some(unit) = self.unit_containing(header.debug_info_offset().0) else { continue };
            let mut entries = header.entries();
            while let Ok(Some(entry)) = entries.next() {
                let range = entry.range();
                ranges.push((range.begin..range.end, unit));
            }
        }
        if !ranges.is_empty() {
            return ranges;
        }
        for (index, header) in self.headers.iter().enumerate() {
            let Some(unit) = parsed_unit(&self.dwarf, header) else { continue };
            let Ok(mut unit_ranges) = self.dwarf.unit_ranges(&unit) else { continue };
            while let Ok(Some(range)) = unit_ranges.next() {
                ranges.push((range.begin..range.end, index));
            }
        }
        ranges
    }

    /// The unit whose DIEs include the `.debug_info` offset `offset`.
    fn unit_containing(&self, offset: usize) -> Option<usize> {
        let after = self
            .headers
            .partition_point(|h| h.offset().as_debug_info_offset().is_some_and(|start| start.0 <= offset));
        after.checked_sub(1)
    }

    /// The function (a subprogram DIE with code) that starts at `pc`.
    pub fn function_at(&mut self, pc: u64) -> Option<DieRef> {
        for unit in self.units_at(pc) {
            if let Some(&offset) = self.index(unit)?.functions.get(&pc) {
                return Some(DieRef { unit, offset });
            }
        }
        None
    }

    /// Runs `f` on the DIE `die` and its unit.
    pub fn with_entry<T>(
        &mut self,
        die: DieRef,
        f: impl FnOnce(
            &gimli::Dwarf<Reader>,
            &gimli::Unit<Reader>,
            &gimli::DebuggingInformationEntry<'_, '_, Reader>,
        ) -> T,
    ) -> Option<T> {
        let index = self.index(die.unit)?;
        let entry = index.unit.entry(die.offset).ok()?;
        Some(f(&self.dwarf, &index.unit, &entry))
    }

    /// The DIE an attribute of `die` refers to (a type, a specification, an abstract origin), in
    /// its own unit or another.
    pub fn reference(&mut self, die: DieRef, attr: gimli::DwAt) -> Option<DieRef> {
        let value = self.with_entry(die, |_, _, entry| entry.attr_value(attr).ok().flatten())??;
        self.resolve(die.unit, value)
    }

    fn resolve(&mut self, unit: usize, value: AttributeValue<Reader>) -> Option<DieRef> {
        match value {
            AttributeValue::UnitRef(offset) => Some(DieRef { unit, offset }),
            AttributeValue::DebugInfoRef(offset) => {
                let unit = self.unit_containing(offset.0)?;
                let header = &self.headers[unit];
                let offset = offset.to_unit_offset(header)?;
                Some(DieRef { unit, offset })
            }
            _ => None,
        }
    }

    /// The children of `die`, in order, with their tags.
    pub fn children(&mut self, die: DieRef) -> Vec<(gimli::DwTag, DieRef)> {
        let Some(index) = self.index(die.unit) else { return Vec::new() };
        let mut out = Vec::new();
        let Ok(mut tree) = index.unit.entries_tree(Some(die.offset)) else { return out };
        let Ok(root) = tree.root() else { return out };
        let mut children = root.children();
        while let Ok(Some(child)) = children.next() {
            let entry = child.entry();
            out.push((entry.tag(), DieRef { unit: die.unit, offset: entry.offset() }));
        }
        out
    }

    /// The children of `die` of the given tag (the members of a structure, the variants of a
    /// variant part, a function's template parameters).
    pub fn children_tagged(&mut self, die: DieRef, tag: gimli::DwTag) -> Vec<DieRef> {
        self.children(die).into_iter().filter(|(t, _)| *t == tag).map(|(_, d)| d).collect()
    }

    /// The size of an address in the unit of `die` (a pointer's size, which DWARF leaves out).
    pub fn address_size(&self, die: DieRef) -> u64 {
        self.headers.get(die.unit).map_or(8, |header| u64::from(header.address_size()))
    }

    /// The DIE's tag.
    pub fn tag(&mut self, die: DieRef) -> Option<gimli::DwTag> {
        self.with_entry(die, |_, _, entry| entry.tag())
    }

    /// The DIE's own name (`DW_AT_name`).
    pub fn name(&mut self, die: DieRef) -> Option<String> {
        self.with_entry(die, |dwarf, unit, entry| {
            let value = entry.attr_value(gimli::DW_AT_name).ok()??;
            let name = attr_string(dwarf, unit, value)?;
            Some(name.to_string_lossy().ok()?.into_owned())
        })?
    }

    /// The DIE that holds this one (a method's type, a type's namespace).
    pub fn parent(&mut self, die: DieRef) -> Option<DieRef> {
        let index = self.index(die.unit)?;
        index.parents.get(&die.offset).map(|&offset| DieRef { unit: die.unit, offset })
    }

    /// The DIE's name with its enclosing namespaces and types: `app::tasks::{async_fn_env#0}`.
    pub fn qualified_name(&mut self, die: DieRef) -> Option<String> {
        let own = self.name(die)?;
        let index = self.index(die.unit)?;
        let mut parts = vec![own];
        let mut at = die.offset;
        while let Some(&parent) = index.parents.get(&at) {
            at = parent;
            let parent = DieRef { unit: die.unit, offset: parent };
            if self.tag(parent) == Some(gimli::DW_TAG_compile_unit) {
                break;
            }
            if let Some(name) = self.name(parent) {
                parts.push(name);
            }
        }
        parts.reverse();
        Some(parts.join("::"))
    }

    /// An unsigned constant attribute of the DIE (a size, an offset, a line).
    pub fn udata(&mut self, die: DieRef, attr: gimli::DwAt) -> Option<u64> {
        self.with_entry(die, |_, _, entry| {
            let value = entry.attr_value(attr).ok()??;
            value.udata_value().or_else(|| value.sdata_value().map(|v| v as u64))
        })?
    }

    /// The source file a `DW_AT_decl_file` of the DIE names, as the compiler saw it (joined to its
    /// directory).
    pub fn decl_file(&mut self, die: DieRef) -> Option<String> {
        self.with_entry(die, |dwarf, unit, entry| {
            let index = match entry.attr_value(gimli::DW_AT_decl_file).ok()?? {
                AttributeValue::FileIndex(index) => index,
                other => other.udata_value()?,
            };
            let header = unit.line_program.as_ref()?.header();
            let file = header.file(index)?;
            let mut path = PathBuf::new();
            if let Some(dir) = file.directory(header) {
                path.push(attr_string(dwarf, unit, dir)?.to_string_lossy().ok()?.as_ref());
            }
            path.push(attr_string(dwarf, unit, file.path_name())?.to_string_lossy().ok()?.as_ref());
            if path.is_relative() {
                if let Some(comp_dir) = &unit.comp_dir {
                    path = Path::new(comp_dir.to_string_lossy().ok()?.as_ref()).join(path);
                }
            }
            Some(crate::source_paths::without_dot_dots(&path).to_string_lossy().into_owned())
        })?
    }
}

/// `Dwarf::unit`, for a unit whose root DIE holds no string index too large to be one: gimli 0.31
/// resolves the root's strings (its name, its directory) while it parses the unit, with the same
/// unchecked multiplication as in [`attr_string`].
fn parsed_unit<R: gimli::Reader<Offset = usize>>(
    dwarf: &gimli::Dwarf<R>,
    header: &gimli::UnitHeader<R>,
) -> Option<gimli::Unit<R>> {
    let abbreviations = dwarf.abbreviations(header).ok()?;
    let mut entries = header.entries(&abbreviations);
    let (_, root) = entries.next_dfs().ok()??;
    let mut attrs = root.attrs();
    while let Some(attr) = attrs.next().ok()? {
        if !plausible_string_index(&attr.value()) {
            return None;
        }
    }
    dwarf.unit(header.clone()).ok()
}

/// A string attribute's text (`Dwarf::attr_string`). A string index (`DW_FORM_strx`) too large to
/// be one is refused first: gimli 0.31 multiplies it by the word size unchecked, which overflows on
/// hostile debug info (found by the `debug_info` fuzzer).
fn attr_string<R: gimli::Reader<Offset = usize>>(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    value: AttributeValue<R>,
) -> Option<R> {
    if !plausible_string_index(&value) {
        return None;
    }
    dwarf.attr_string(unit, value).ok()
}

/// False for a string index (`DW_FORM_strx`) too large to be one: gimli 0.31 multiplies it by the
/// word size (at most 8) unchecked.
fn plausible_string_index<R: gimli::Reader<Offset = usize>>(value: &AttributeValue<R>) -> bool {
    !matches!(value, AttributeValue::DebugStrOffsetsIndex(index) if index.0 > usize::MAX / 8)
}
