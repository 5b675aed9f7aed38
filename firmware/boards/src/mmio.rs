//! Memory-mapped device registers at fixed addresses.

/// A 32-bit device register.
#[derive(Clone, Copy)]
pub(crate) struct Reg(pub usize);

impl Reg {
    /// Reads the register.
    pub(crate) fn read(self) -> u32 {
        // SAFETY: `Reg`s are only made for the device registers of the board this crate was built
        // for; a volatile 32-bit read of them has no effect beyond the device's own.
        unsafe { core::ptr::read_volatile(self.0 as *const u32) }
    }

    /// Writes the register.
    pub(crate) fn write(self, value: u32) {
        // SAFETY: as for `read`: a register of this board's devices, written whole.
        unsafe { core::ptr::write_volatile(self.0 as *mut u32, value) }
    }
}

/// An 8-bit device register (a 16550 UART's: a wider access would reach its neighbours).
#[cfg(feature = "riscv-virt")]
#[derive(Clone, Copy)]
pub(crate) struct Reg8(pub usize);

#[cfg(feature = "riscv-virt")]
impl Reg8 {
    /// Reads the register.
    pub(crate) fn read(self) -> u8 {
        // SAFETY: as for `Reg::read`: a register of this board's devices, read as one byte.
        unsafe { core::ptr::read_volatile(self.0 as *const u8) }
    }

    /// Writes the register.
    pub(crate) fn write(self, value: u8) {
        // SAFETY: as for `Reg::write`: a register of this board's devices, written as one byte.
        unsafe { core::ptr::write_volatile(self.0 as *mut u8, value) }
    }
}
