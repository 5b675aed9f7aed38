//! The QEMU machines asyncmon can run firmware on, and what it needs to know of each: which QEMU
//! and CPU, and where the machine RAM is that QEMU can map to a shared file.

/// One QEMU machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    /// `-machine NAME`.
    pub name: &'static str,
    /// What it is, for `--help` and errors.
    pub board: &'static str,
    /// The QEMU executable.
    pub qemu: &'static str,
    /// The Debian package that provides it.
    pub package: &'static str,
    /// `-cpu`, where the machine has a choice.
    pub cpu: Option<&'static str>,
    /// The RAM the firmware's control block is in.
    pub ram: RamWindow,
    /// Whether QEMU maps that RAM to a `memory-backend-file` (`-machine ...,memory-backend=`);
    /// if not, it is found in the QEMU process's memory.
    pub shared_ram: bool,
    /// Further arguments the machine needs.
    pub args: &'static [&'static str],
}

impl Machine {
    /// QEMU's command line for this machine, its files in `dir` (the RAM file `ram`, where the
    /// machine shares its RAM, and the QMP socket `qmp.sock`), the serial port on `serial`
    /// (`stdio`, `null`). The caller adds the firmware and what else it needs.
    pub fn command(&self, dir: &std::path::Path, serial: &str) -> std::process::Command {
        let mut command = std::process::Command::new(self.qemu);
        if self.shared_ram {
            command
                .arg("-machine")
                .arg(format!("{},memory-backend=ram", self.name))
                .arg("-m")
                .arg(format!("{}M", self.ram.size >> 20))
                .arg("-object")
                .arg(format!(
                    "memory-backend-file,id=ram,size={},mem-path={},share=on",
                    self.ram.size,
                    dir.join("ram").display()
                ));
        } else {
            command.args(["-machine", self.name]);
        }
        if let Some(cpu) = self.cpu {
            command.args(["-cpu", cpu]);
        }
        command
            .args(self.args)
            .args(["-display", "none", "-monitor", "none", "-serial", serial])
            .args(["-semihosting-config", "enable=on,target=native"])
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", dir.join("qmp.sock").display()));
        command
    }

    /// Makes the RAM file QEMU maps in `dir`, at the machine's size, before QEMU starts: whoever
    /// holds it open reads the RAM, even after QEMU ends.
    pub fn ram_file(&self, dir: &std::path::Path) -> std::io::Result<std::fs::File> {
        let file = std::fs::File::options().read(true).write(true).create_new(true).open(dir.join("ram"))?;
        file.set_len(self.ram.size)?;
        Ok(file)
    }
}

/// Where the machine RAM sits in the guest's address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RamWindow {
    /// Its first address.
    pub base: u64,
    /// Its size in bytes (the backend's size must equal it).
    pub size: u64,
}

/// Every machine asyncmon knows, the default first.
pub const MACHINES: &[Machine] = &[
    Machine {
        name: "mps2-an386",
        board: "ARM MPS2 AN386, Cortex-M4F (thumbv7em-none-eabihf)",
        qemu: "qemu-system-arm",
        package: "qemu-system-arm",
        cpu: Some("cortex-m4"),
        ram: RamWindow { base: 0x2100_0000, size: 16 << 20 },
        shared_ram: true,
        args: &[],
    },
    Machine {
        name: "mps2-an385",
        board: "ARM MPS2 AN385, Cortex-M3 (thumbv7m-none-eabi)",
        qemu: "qemu-system-arm",
        package: "qemu-system-arm",
        cpu: Some("cortex-m3"),
        ram: RamWindow { base: 0x2100_0000, size: 16 << 20 },
        shared_ram: true,
        args: &[],
    },
    Machine {
        name: "microbit",
        board: "BBC micro:bit v1, nRF51822, Cortex-M0 (thumbv6m-none-eabi)",
        qemu: "qemu-system-arm",
        package: "qemu-system-arm",
        cpu: None,
        ram: RamWindow { base: 0x2000_0000, size: 16 << 10 },
        // The SoC's RAM is its own: QEMU accepts `memory-backend=` and ignores it.
        shared_ram: false,
        args: &[],
    },
    Machine {
        name: "virt",
        board: "QEMU RISC-V virt, RV32IMAC (riscv32imac-unknown-none-elf)",
        qemu: "qemu-system-riscv32",
        package: "qemu-system-misc",
        cpu: None,
        ram: RamWindow { base: 0x8000_0000, size: 16 << 20 },
        shared_ram: true,
        // No OpenSBI: the ELF runs in machine mode from the start of RAM.
        args: &["-bios", "none"],
    },
];

/// The machine called `name`, or an error that lists the machines there are (and the closest).
pub fn find(name: &str) -> Result<&'static Machine, String> {
    if let Some(machine) = MACHINES.iter().find(|m| m.name.eq_ignore_ascii_case(name)) {
        return Ok(machine);
    }
    let closest = MACHINES
        .iter()
        .map(|m| (strsim::jaro_winkler(&m.name.to_lowercase(), &name.to_lowercase()), m.name))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.8)
        .map(|(_, name)| format!(" Did you mean {name}?"))
        .unwrap_or_default();
    let known: Vec<String> = MACHINES.iter().map(|m| format!("{} ({})", m.name, m.board)).collect();
    Err(format!("asyncmon has no QEMU machine {name:?}.{closest} Machines: {}", known.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_are_found_by_name_and_a_typo_gets_a_suggestion() {
        assert_eq!(find("MPS2-AN386").unwrap().cpu, Some("cortex-m4"));
        let err = find("mps2-an368").unwrap_err();
        assert!(err.contains("Did you mean mps2-an386?") && err.contains("mps2-an385 (ARM MPS2"), "{err}");
        assert!(!find("raspi4b").unwrap_err().contains("Did you mean"));
    }
}
