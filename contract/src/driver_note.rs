//! The mark of a Spindle driver: an ELF note that the `spindle` crate puts into every driver
//! binary and `spindle submit` looks for, so that a binary which is not a driver (`/bin/true`,
//! a script, a program built without the `spindle` crate) is refused before it is uploaded,
//! instead of failing later as an opaque container exit.
//!
//! The note has the standard ELF layout (`namesz`, `descsz`, `type`, the name padded to 4
//! bytes, the description padded to 4 bytes), so it lands in the binary's note segment
//! (`PT_NOTE`) next to the GNU build id and survives `strip`; `readelf -n` shows it.

/// The note's name, NUL-terminated as ELF notes are.
pub const NOTE_NAME: &[u8; 8] = b"Spindle\0";
/// The note's type: "driver".
pub const NOTE_TYPE_DRIVER: u32 = 1;
/// The length of the description: the version of the `spindle` crate, NUL-padded.
pub const NOTE_DESC_LEN: usize = 16;

/// A Spindle driver note as it lies in the binary (ELF `Elf_Nhdr` followed by name and
/// description, all 4-byte aligned).
#[repr(C, align(4))]
#[derive(Debug)]
pub struct DriverNote {
    namesz: u32,
    descsz: u32,
    kind: u32,
    name: [u8; 8],
    desc: [u8; NOTE_DESC_LEN],
}

/// The note of this version of Spindle: what the `spindle` crate links into every driver.
pub const DRIVER_NOTE: DriverNote = DriverNote {
    namesz: NOTE_NAME.len() as u32,
    descsz: NOTE_DESC_LEN as u32,
    kind: NOTE_TYPE_DRIVER,
    name: *NOTE_NAME,
    desc: padded_version(env!("CARGO_PKG_VERSION")),
};

/// `version` NUL-padded (or cut) to [`NOTE_DESC_LEN`] bytes, at compile time.
const fn padded_version(version: &str) -> [u8; NOTE_DESC_LEN] {
    let bytes = version.as_bytes();
    let mut out = [0u8; NOTE_DESC_LEN];
    let mut i = 0;
    while i < bytes.len() && i < NOTE_DESC_LEN {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// The Spindle version a driver note's description names (text up to the first NUL).
pub fn note_version(desc: &[u8]) -> String {
    let end = desc.iter().position(|&b| b == 0).unwrap_or(desc.len());
    String::from_utf8_lossy(&desc[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_has_the_elf_note_layout() {
        assert_eq!(std::mem::size_of::<DriverNote>(), 12 + 8 + NOTE_DESC_LEN);
        assert_eq!(std::mem::align_of::<DriverNote>(), 4);
        assert_eq!(DRIVER_NOTE.namesz, 8);
        assert_eq!(note_version(&DRIVER_NOTE.desc), env!("CARGO_PKG_VERSION"));
        assert_eq!(note_version(b"0.1.0\0\0\0"), "0.1.0");
        assert_eq!(padded_version("0123456789abcdefXYZ"), *b"0123456789abcdef");
    }
}
