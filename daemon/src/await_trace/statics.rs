//! The firmware's statics by address, from its ELF symbols: a future that points at a static (an
//! embassy-sync `Channel`, `Signal`, `Mutex`) is said with the static's name ("the lock of Mutex
//! SHARED"). Only the pointer's value is looked up; nothing is read from the target for it.

use object::{Object, ObjectSymbol, SymbolKind};
use std::path::Path;

/// Data symbols, sorted by run-time address.
#[derive(Debug, Default)]
pub(crate) struct Statics {
    /// (run-time address, size, the name's last path segment).
    symbols: Vec<(u64, u64, String)>,
}

impl Statics {
    /// The data symbols of the ELF at `path`, loaded `bias` bytes above their link addresses. A
    /// file that cannot be read has none (futures are then described without names).
    pub fn read(path: &Path, bias: u64) -> Statics {
        let symbols = crate::elf_memory::with_elf(path, |file| {
            Ok(file
                .symbols()
                .filter(|s| s.kind() == SymbolKind::Data && s.size() > 0)
                .filter_map(|s| Some((s.address().wrapping_add(bias), s.size(), short_name(s.name().ok()?)?)))
                .collect::<Vec<_>>())
        })
        .unwrap_or_default();
        Statics::from_symbols(symbols)
    }

    fn from_symbols(mut symbols: Vec<(u64, u64, String)>) -> Statics {
        symbols.sort_by_key(|s| s.0);
        Statics { symbols }
    }

    /// The static whose bytes hold `address`.
    pub fn name_at(&self, address: u64) -> Option<&str> {
        let i = self.symbols.partition_point(|s| s.0 <= address).checked_sub(1)?;
        let (start, size, name) = &self.symbols[i];
        (address - start < *size).then_some(name.as_str())
    }
}

/// `app::tasks::READINGS` → `READINGS`; compiler-made statics (`.L…`, `__…`, anonymous) have none.
fn short_name(raw: &str) -> Option<String> {
    let name = format!("{:#}", rustc_demangle::demangle(raw));
    let last = name.rsplit("::").next()?;
    let plain = !last.is_empty()
        && !last.starts_with('_')
        && !last.starts_with('.')
        && last.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| last.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_inside_a_static_names_it() {
        let statics = Statics::from_symbols(vec![
            (0x2000_0100, 0x40, "READINGS".into()),
            (0x2000_0000, 0x10, "FAULT".into()),
        ]);
        assert_eq!(statics.name_at(0x2000_0000), Some("FAULT"));
        assert_eq!(statics.name_at(0x2000_0120), Some("READINGS"));
        assert_eq!(statics.name_at(0x2000_0010), None, "between the two");
        assert_eq!(statics.name_at(0x1000), None, "below them all");
    }

    #[test]
    fn rust_symbols_are_named_by_their_last_segment() {
        assert_eq!(
            short_name("_RNvNtCs3YCs6OwavY3_24asyncmon_embassy_example5tasks8READINGS").as_deref(),
            Some("READINGS")
        );
        assert_eq!(short_name("__compiler_made"), None);
        assert_eq!(short_name(".Lanon.1"), None);
    }
}
