//! The firmware's doorbell, as agent and host both see it: a static named [`SYMBOL`] of three
//! little-endian `u32`s — [`MAGIC`] once published, a kind, and a value the kind explains. The host
//! finds it by name in the ELF and reads it from target memory, as it finds `_SEGGER_RTT`; after
//! writing a command into the down channel it rings the doorbell, and the executor reads the
//! command at once instead of on its next poll.

/// The doorbell static's symbol name.
pub const SYMBOL: &str = "ASYNCMON_DOORBELL";
/// The doorbell's size in target memory.
pub const SIZE: usize = 12;
/// "DBEL": a doorbell has been published.
pub const MAGIC: u32 = 0x4442_454c;
/// Kind: no doorbell.
pub const KIND_NONE: u32 = 0;
/// Kind: the value is the file descriptor of a pipe's read end in the firmware process (the
/// simulated board); the host writes a byte into `/proc/PID/fd/VALUE`.
pub const KIND_PIPE_FD: u32 = 1;
/// Kind: the value is a Cortex-M interrupt number; the host pends it in the NVIC's set-pending
/// register ([`nvic_set_pending`]).
pub const KIND_NVIC_INTERRUPT: u32 = 2;
/// Kind: the value is the number of the board's serial port (0: the first) whose receive interrupt
/// rings; the host that runs the board writes a byte into that port. QEMU's machines: their
/// `-serial` is a chardev the host reaches from outside the guest, where the NVIC is not (QEMU's
/// gdbstub cannot write the set-pending register).
pub const KIND_SERIAL: u32 = 3;

/// A doorbell, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doorbell {
    /// The firmware published none: the executor polls the down channel on its own.
    None,
    /// A pipe in the firmware process (the simulated board).
    PipeFd(u32),
    /// A Cortex-M interrupt.
    NvicInterrupt(u16),
    /// A byte on the board's serial port of this number.
    Serial(u32),
}

impl Doorbell {
    /// Decodes the doorbell static's bytes; anything not published (or not understood) is `None`.
    pub fn decode(bytes: &[u8; SIZE]) -> Doorbell {
        let word = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        match (word(0), word(4), word(8)) {
            (MAGIC, KIND_PIPE_FD, fd) => Doorbell::PipeFd(fd),
            (MAGIC, KIND_NVIC_INTERRUPT, irq) => {
                u16::try_from(irq).map_or(Doorbell::None, Doorbell::NvicInterrupt)
            }
            (MAGIC, KIND_SERIAL, port) => Doorbell::Serial(port),
            _ => Doorbell::None,
        }
    }
}

/// Where and what to write to pend Cortex-M interrupt `irq`: the NVIC's `ISPR` register for its
/// group of 32 (`0xE000_E200` + 4 per group), with its bit set (a write of zeros elsewhere changes
/// nothing: writing the register only ever sets).
pub fn nvic_set_pending(irq: u16) -> (u64, u32) {
    (0xE000_E200 + 4 * u64::from(irq / 32), 1 << (irq % 32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(magic: u32, kind: u32, value: u32) -> [u8; SIZE] {
        let mut b = [0; SIZE];
        b[0..4].copy_from_slice(&magic.to_le_bytes());
        b[4..8].copy_from_slice(&kind.to_le_bytes());
        b[8..12].copy_from_slice(&value.to_le_bytes());
        b
    }

    #[test]
    fn a_doorbell_is_read_only_once_published() {
        assert_eq!(Doorbell::decode(&bytes(MAGIC, KIND_PIPE_FD, 7)), Doorbell::PipeFd(7));
        assert_eq!(Doorbell::decode(&bytes(MAGIC, KIND_NVIC_INTERRUPT, 30)), Doorbell::NvicInterrupt(30));
        assert_eq!(Doorbell::decode(&bytes(MAGIC, KIND_SERIAL, 0)), Doorbell::Serial(0));
        assert_eq!(Doorbell::decode(&bytes(0, KIND_PIPE_FD, 7)), Doorbell::None, "not published yet");
        assert_eq!(Doorbell::decode(&bytes(MAGIC, 9, 7)), Doorbell::None, "a kind this host does not know");
        assert_eq!(Doorbell::decode(&bytes(MAGIC, KIND_NVIC_INTERRUPT, 70_000)), Doorbell::None);
    }

    #[test]
    fn an_interrupt_is_pended_in_its_groups_set_pending_register() {
        assert_eq!(nvic_set_pending(0), (0xE000_E200, 1));
        assert_eq!(nvic_set_pending(31), (0xE000_E200, 1 << 31));
        assert_eq!(nvic_set_pending(32), (0xE000_E204, 1));
        assert_eq!(nvic_set_pending(70), (0xE000_E208, 1 << 6));
    }
}
