//! Names for embassy-executor tasks, from the firmware's symbols: the `#[embassy_executor::task]`
//! macro puts each task function's storage in a static `POOL` inside a function of the task's name
//! (`app::ticker::POOL`), and embassy's task id is the address of a task header inside it. So the
//! device sends only that address (`EmbassyTaskSpawned`), and the host names the task.

use object::{Object, ObjectSymbol, SymbolKind};
use std::path::Path;

/// The task pools of a firmware: address ranges and the task they hold.
#[derive(Debug, Default, Clone)]
pub struct EmbassyPools {
    /// (start, end, task name), sorted by start.
    pools: Vec<(u64, u64, String)>,
}

impl EmbassyPools {
    /// The pools in the ELF at `path` (none when it cannot be read).
    pub fn from_path(path: &Path) -> EmbassyPools {
        match std::fs::read(path) {
            Ok(data) => EmbassyPools::from_elf(&data),
            Err(e) => {
                tracing::warn!("cannot read {} for embassy task names: {e}", path.display());
                EmbassyPools::default()
            }
        }
    }

    /// The pools in an ELF's symbol table.
    pub fn from_elf(data: &[u8]) -> EmbassyPools {
        let Ok(file) = object::File::parse(data) else { return EmbassyPools::default() };
        let mut pools: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Data && s.size() > 0)
            .filter_map(|s| {
                let name = format!("{:#}", rustc_demangle::demangle(s.name().ok()?));
                let task = task_name(&name)?;
                Some((s.address(), s.address() + s.size(), task))
            })
            .collect();
        pools.sort();
        EmbassyPools { pools }
    }

    /// The task whose pool holds `addr`.
    pub fn task_at(&self, addr: u64) -> Option<&str> {
        let index = self.pools.partition_point(|(start, _, _)| *start <= addr).checked_sub(1)?;
        let (_, end, name) = &self.pools[index];
        (addr < *end).then_some(name.as_str())
    }

    /// Whether any pool was found.
    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }
}

/// `app::ticker::POOL` → `ticker`; `app::__embassy_main::POOL` (the `#[embassy_executor::main]`
/// task) → `main`.
fn task_name(symbol: &str) -> Option<String> {
    let path = symbol.strip_suffix("::POOL")?;
    let function = path.rsplit("::").next()?;
    Some(if function == "__embassy_main" { "main".to_string() } else { function.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_symbol_names_its_task() {
        assert_eq!(task_name("app::sensors::ticker::POOL").as_deref(), Some("ticker"));
        assert_eq!(task_name("app::__embassy_main::POOL").as_deref(), Some("main"));
        assert_eq!(task_name("app::ticker::READINGS"), None);
    }

    #[test]
    fn an_address_inside_a_pool_is_its_task_and_one_outside_none() {
        let pools = EmbassyPools {
            pools: vec![
                (0x2000_0100, 0x2000_0140, "ticker".into()),
                (0x2000_0140, 0x2000_0170, "waiter".into()),
            ],
        };
        assert_eq!(pools.task_at(0x2000_0100), Some("ticker"));
        assert_eq!(pools.task_at(0x2000_0148), Some("waiter"));
        assert_eq!(pools.task_at(0x2000_0170), None);
        assert_eq!(pools.task_at(0x2000_00ff), None);
    }
}
