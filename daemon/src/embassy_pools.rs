//! Names for embassy-executor tasks, from the firmware's symbols: the `#[embassy_executor::task]`
//! macro puts each task function's storage in a static `POOL` inside a function of the task's name
//! (`app::ticker::POOL`), and embassy's task id is the address of a task header inside it. So the
//! device sends only that address (`EmbassyTaskSpawned`), and the host names the task.

use object::{Object, ObjectSymbol, SymbolKind};
use std::collections::HashMap;
use std::path::Path;

/// One `#[task]` function's pool.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pool {
    /// Its first address.
    pub start: u64,
    /// One past its last.
    pub end: u64,
    /// The task's name (`ticker`; `main` for `#[embassy_executor::main]`).
    pub name: String,
    /// The path of the function the `#[task]` macro wraps its body in (`app::__ticker_task`): the
    /// future type `F` of its `TaskStorage<F>` is named inside it.
    pub wrapper: String,
    /// The address of `TaskStorage<F>::poll` for its future type `F`, when the symbol names `F`
    /// (v0 mangling); its debug info names `F` (for await traces). Thumb addresses have the low
    /// bit set, as in the symbol table.
    pub poll: Option<u64>,
}

/// The task pools of a firmware: address ranges and the task they hold.
#[derive(Debug, Default, Clone)]
pub struct EmbassyPools {
    /// Sorted by start.
    pools: Vec<Pool>,
    /// Every `TaskStorage<F>::poll`: with legacy mangling (stable rustc's) the symbols do not
    /// say which `F`, so the debug info of each is asked.
    pub polls: Vec<u64>,
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
        let mut pools = Vec::new();
        // `<embassy_executor::raw::TaskStorage<app::__ticker_task::...>>::poll`, by the function's
        // module path and name (`app::__ticker_task`).
        let mut polls: HashMap<String, u64> = HashMap::new();
        let mut every_poll = Vec::new();
        for symbol in file.symbols() {
            let Ok(raw) = symbol.name() else { continue };
            let name = format!("{:#}", rustc_demangle::demangle(raw));
            match symbol.kind() {
                SymbolKind::Data if symbol.size() > 0 => {
                    if let Some((function, task)) = task_name(&name) {
                        let start = symbol.address();
                        let end = start + symbol.size();
                        pools.push(Pool { start, end, name: task, wrapper: function, poll: None });
                    }
                }
                SymbolKind::Text if is_storage_poll(&name) => {
                    every_poll.push(symbol.address());
                    if let Some(function) = poll_of(&name) {
                        polls.insert(function, symbol.address());
                    }
                }
                _ => {}
            }
        }
        let mut pools: Vec<Pool> =
            pools.into_iter().map(|pool| Pool { poll: polls.get(&pool.wrapper).copied(), ..pool }).collect();
        pools.sort();
        every_poll.sort_unstable();
        EmbassyPools { pools, polls: every_poll }
    }

    /// The pool that holds `addr`.
    pub fn pool_at(&self, addr: u64) -> Option<&Pool> {
        let index = self.pools.partition_point(|pool| pool.start <= addr).checked_sub(1)?;
        let pool = &self.pools[index];
        (addr < pool.end).then_some(pool)
    }

    /// The task whose pool holds `addr`.
    pub fn task_at(&self, addr: u64) -> Option<&str> {
        self.pool_at(addr).map(|pool| pool.name.as_str())
    }

    /// Whether any pool was found.
    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }
}

/// `app::ticker::POOL` → (`app::__ticker_task`, `ticker`); `app::__embassy_main::POOL` (the
/// `#[embassy_executor::main]` task) → (`app::____embassy_main_task`, `main`). The first is the
/// path of the function the macro wraps the task's body in, which the future type's name holds.
fn task_name(symbol: &str) -> Option<(String, String)> {
    let path = symbol.strip_suffix("::POOL")?;
    let (module, function) = path.rsplit_once("::").unwrap_or(("", path));
    let task = if function == "__embassy_main" { "main".to_string() } else { function.to_string() };
    let wrapper =
        if module.is_empty() { format!("__{function}_task") } else { format!("{module}::__{function}_task") };
    Some((wrapper, task))
}

/// `TaskStorage<F>::poll`, by either mangling: `<embassy_executor::raw::TaskStorage<…>>::poll` (v0)
/// or `embassy_executor::raw::TaskStorage<F>::poll` (legacy).
fn is_storage_poll(symbol: &str) -> bool {
    symbol.starts_with("<embassy_executor::raw::TaskStorage<") && symbol.ends_with(">>::poll")
        || symbol == "embassy_executor::raw::TaskStorage<F>::poll"
}

/// `<embassy_executor::raw::TaskStorage<app::__ticker_task::__ticker_task_inner_function::{closure#0}>>::poll`
/// → `app::__ticker_task`.
fn poll_of(symbol: &str) -> Option<String> {
    let inner = symbol.strip_prefix("<embassy_executor::raw::TaskStorage<")?.strip_suffix(">>::poll")?;
    let (before, _) = inner.split_once("_task_inner_function")?;
    Some(before.rsplit_once("::")?.0.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_symbol_names_its_task_and_its_poll_function() {
        let ticker = task_name("app::sensors::ticker::POOL").unwrap();
        assert_eq!(ticker, ("app::sensors::__ticker_task".into(), "ticker".into()));
        let main = task_name("app::__embassy_main::POOL").unwrap();
        assert_eq!(main, ("app::____embassy_main_task".into(), "main".into()));
        assert_eq!(task_name("app::ticker::READINGS"), None);
        let poll = "<embassy_executor::raw::TaskStorage<app::sensors::__ticker_task::__ticker_task_inner_function::{closure#0}>>::poll";
        assert_eq!(poll_of(poll).as_deref(), Some(ticker.0.as_str()));
        let poll = "<embassy_executor::raw::TaskStorage<app::____embassy_main_task::____embassy_main_task_inner_function::{closure#0}>>::poll";
        assert_eq!(poll_of(poll).as_deref(), Some(main.0.as_str()));
        assert!(is_storage_poll(poll));
        assert!(is_storage_poll("embassy_executor::raw::TaskStorage<F>::poll"), "legacy mangling");
        assert!(!is_storage_poll("embassy_executor::raw::TaskStorage<F>::spawn"));
    }

    #[test]
    fn an_address_inside_a_pool_is_its_task_and_one_outside_none() {
        let pool = |start, end, name: &str| Pool {
            start,
            end,
            name: name.into(),
            wrapper: String::new(),
            poll: None,
        };
        let pools = EmbassyPools {
            pools: vec![pool(0x2000_0100, 0x2000_0140, "ticker"), pool(0x2000_0140, 0x2000_0170, "waiter")],
            polls: Vec::new(),
        };
        assert_eq!(pools.task_at(0x2000_0100), Some("ticker"));
        assert_eq!(pools.task_at(0x2000_0148), Some("waiter"));
        assert_eq!(pools.task_at(0x2000_0170), None);
        assert_eq!(pools.task_at(0x2000_00ff), None);
    }
}
