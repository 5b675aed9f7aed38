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
