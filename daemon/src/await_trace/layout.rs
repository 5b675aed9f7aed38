//! Types as DWARF lays them out, reduced to what an await trace reads: a structure's members and,
//! for an enum or an async state machine, its variant part (where the discriminant is, which
//! variant each value selects, and the source line a variant was declared at — for an `async fn`'s
//! `SuspendN` variant, the line of its `.await`). Each type is read once and kept.

use super::dwarf::{DieRef, Dwarf};
use std::collections::HashMap;
use std::sync::Arc;

/// A type, as far as an await trace needs it.
#[derive(Debug)]
pub(crate) struct Layout {
    /// The qualified name (`core::option::Option<u32>`, `app::run::{async_fn_env#0}`).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// What kind of type it is.
    pub kind: Kind,
}

/// What kind of type a [`Layout`] is.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A structure, union or enum with fields: its members, and its variant part if it has one.
    Struct {
        /// The members outside the variant part.
        members: Vec<Member>,
        /// The variants, for an enum or an async state machine.
        variants: Option<VariantPart>,
    },
    /// An array of `count` elements.
    Array {
        /// The element type.
        element: Option<DieRef>,
        /// How many.
        count: u64,
    },
    /// A pointer or reference, and the type it points at. Never read through: only where it
    /// points inside the same future (a local borrowed across an `.await`) is it followed, in
    /// the bytes already read; where it points at a static, the static is named.
    Pointer {
        /// The type pointed at.
        target: Option<DieRef>,
    },
    /// Anything else (integers, C-like enums, functions).
    Other,
}

/// A member of a structure or a variant.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// Its name (`__awaitee`, `__0`, `0` for a variant's payload).
    pub name: String,
    /// Its offset in the enclosing type.
    pub offset: u64,
    /// Its type.
    pub ty: Option<DieRef>,
    /// Where it was declared: for an async state machine's variant, the `.await` (or the fn).
    pub decl: Option<(String, u32)>,
}

/// The variant part of an enum or state machine.
#[derive(Debug)]
pub(crate) struct VariantPart {
    /// Where the discriminant is and how many bytes it has; `None` for a single-variant part.
    pub discr: Option<(u64, u64)>,
    /// The variants.
    pub variants: Vec<Variant>,
}

/// One variant of a [`VariantPart`].
#[derive(Debug)]
pub(crate) struct Variant {
    /// The discriminant value that selects it; `None` for the default variant.
    pub value: Option<u64>,
    /// Its payload: a member whose type holds the variant's fields.
    pub member: Option<Member>,
}

impl VariantPart {
    /// The variant `discriminant` selects (masked to the discriminant's size), else the default.
    pub fn select(&self, discriminant: u64) -> Option<&Variant> {
        let bits = self.discr.map_or(64, |(_, size)| size * 8);
        let mask = if bits >= 64 { u64::MAX } else { (1 << bits) - 1 };
        self.variants
            .iter()
            .find(|v| v.value.is_some_and(|value| value & mask == discriminant & mask))
            .or_else(|| self.variants.iter().find(|v| v.value.is_none()))
    }
}

/// The layouts read so far, over one firmware's DWARF.
pub(crate) struct Types {
    pub dwarf: Dwarf,
    /// The firmware's statics, to name what a future points at.
    pub statics: super::statics::Statics,
    cache: HashMap<DieRef, Arc<Layout>>,
    /// The types being read now: one met again while it is read contains itself (bad or hostile
    /// DWARF) and has no layout, instead of a recursion that overflows the stack.
    reading: std::collections::HashSet<DieRef>,
    /// The types found to contain themselves, for the trace's words.
    cyclic: std::collections::HashSet<DieRef>,
}

/// Typedefs and qualifiers are looked through at most this many times (a loop in bad DWARF).
const MAX_ALIASES: usize = 16;

impl Types {
    pub fn new(dwarf: Dwarf, statics: super::statics::Statics) -> Self {
        Types {
            dwarf,
            statics,
            cache: HashMap::new(),
            reading: Default::default(),
            cyclic: Default::default(),
        }
    }

    /// The layout of the type `die` (typedefs and qualifiers looked through).
    pub fn layout(&mut self, die: DieRef) -> Option<Arc<Layout>> {
        if let Some(layout) = self.cache.get(&die) {
            return Some(layout.clone());
        }
        let mut ty = die;
        for _ in 0..MAX_ALIASES {
            match self.dwarf.tag(ty)? {
                gimli::DW_TAG_typedef | gimli::DW_TAG_const_type | gimli::DW_TAG_volatile_type => {
                    ty = self.dwarf.reference(ty, gimli::DW_AT_type)?;
                }
                _ => break,
            }
        }
        if !self.reading.insert(ty) {
            self.cyclic.insert(die);
            return None;
        }
        let read = self.read(ty);
        self.reading.remove(&ty);
        let layout = Arc::new(read?);
        self.cache.insert(die, layout.clone());
        Some(layout)
    }

    /// Whether `die` was found to contain itself (it has no layout then).
    pub fn contains_itself(&self, die: DieRef) -> bool {
        self.cyclic.contains(&die)
    }

    fn read(&mut self, die: DieRef) -> Option<Layout> {
        let tag = self.dwarf.tag(die)?;
        let name = self.dwarf.qualified_name(die).unwrap_or_else(|| "<anonymous>".into());
        let size = self.dwarf.udata(die, gimli::DW_AT_byte_size);
        let kind = match tag {
            gimli::DW_TAG_structure_type | gimli::DW_TAG_union_type | gimli::DW_TAG_class_type => {
                let mut members = Vec::new();
                let mut variants = None;
                for (tag, child) in self.dwarf.children(die) {
                    match tag {
                        gimli::DW_TAG_member => members.extend(self.member(child)),
                        gimli::DW_TAG_variant_part => variants = Some(self.variant_part(child)),
                        _ => {}
                    }
                }
                Kind::Struct { members, variants }
            }
            gimli::DW_TAG_array_type => {
                let element = self.dwarf.reference(die, gimli::DW_AT_type);
                let count = self
                    .dwarf
                    .children_tagged(die, gimli::DW_TAG_subrange_type)
                    .first()
                    .and_then(|&range| {
                        self.dwarf.udata(range, gimli::DW_AT_count).or_else(|| {
                            self.dwarf.udata(range, gimli::DW_AT_upper_bound).map(|upper| upper + 1)
                        })
                    })
                    .unwrap_or(0);
                let element_size = element.and_then(|e| self.layout(e)).map_or(0, |l| l.size);
                return Some(Layout {
                    name,
                    size: size.unwrap_or(element_size * count),
                    kind: Kind::Array { element, count },
                });
            }
            gimli::DW_TAG_pointer_type
            | gimli::DW_TAG_reference_type
            | gimli::DW_TAG_rvalue_reference_type => {
                // rustc gives a thin pointer no size: it is an address.
                let size = size.unwrap_or_else(|| self.dwarf.address_size(die));
                let target = self.dwarf.reference(die, gimli::DW_AT_type);
                return Some(Layout { name, size, kind: Kind::Pointer { target } });
            }
            _ => Kind::Other,
        };
        Some(Layout { name, size: size.unwrap_or(0), kind })
    }

    fn member(&mut self, die: DieRef) -> Option<Member> {
        let decl = self
            .dwarf
            .decl_file(die)
            .zip(self.dwarf.udata(die, gimli::DW_AT_decl_line).and_then(|l| u32::try_from(l).ok()));
        Some(Member {
            name: self.dwarf.name(die).unwrap_or_default(),
            offset: self.dwarf.udata(die, gimli::DW_AT_data_member_location).unwrap_or(0),
            ty: self.dwarf.reference(die, gimli::DW_AT_type),
            decl,
        })
    }

    fn variant_part(&mut self, die: DieRef) -> VariantPart {
        let discr = self.dwarf.reference(die, gimli::DW_AT_discr).and_then(|member| {
            let offset = self.dwarf.udata(member, gimli::DW_AT_data_member_location).unwrap_or(0);
            let ty = self.dwarf.reference(member, gimli::DW_AT_type)?;
            Some((offset, self.layout(ty)?.size))
        });
        let mut variants = Vec::new();
        for variant in self.dwarf.children_tagged(die, gimli::DW_TAG_variant) {
            let value = self.dwarf.udata(variant, gimli::DW_AT_discr_value);
            let member = self
                .dwarf
                .children_tagged(variant, gimli::DW_TAG_member)
                .first()
                .and_then(|&m| self.member(m));
            variants.push(Variant { value, member });
        }
        VariantPart { discr, variants }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Types whose DWARF refers to themselves (see [`super::super::fuzzing`]'s seed), and them.
    fn looping_types() -> (Types, Vec<DieRef>) {
        let bytes = super::super::fuzzing::tests::looping_sections();
        let read = Dwarf::from_sections(
            |id| bytes.get(&id).cloned().unwrap_or_default(),
            gimli::RunTimeEndian::Little,
        )
        .unwrap();
        let mut types = Types::new(read, super::super::statics::Statics::default());
        let root = types.dwarf.root().unwrap();
        let found = types.dwarf.children(root).into_iter().map(|(_, die)| die).collect();
        (types, found)
    }

    #[test]
    fn a_type_that_contains_itself_has_a_bounded_layout_not_a_stack_overflow() {
        let (mut types, dies) = looping_types();
        assert_eq!(dies.len(), 2);
        for die in dies {
            // Each is read to the point where it meets itself, no further.
            let layout = types.layout(die).expect("the outer read ends");
            assert!(layout.size <= 8, "{layout:?}");
        }
        // The walk says what it met, where a future of such a type should be.
        let (mut types, dies) = looping_types();
        let frames = super::super::walk::frames(&mut types, &Default::default(), dies[1], &[0; 8], 0);
        assert!(frames.len() <= 2, "{frames:?}");
    }
}
