//! What `spindle submit` learns from a driver binary before uploading it: that it is a 64-bit
//! Linux ELF executable for an architecture NodeManagers run (x86_64, aarch64), that it carries
//! the Spindle driver note (`spindle_contract::driver_note`), the highest glibc symbol version
//! it needs (`.gnu.version_r`) and its shared libraries (`DT_NEEDED`). A binary that cannot run
//! on a NodeManager otherwise fails there as an opaque container exit.
//!
//! The reader is small and bounded: it reads the headers and a few tables at their offsets
//! (never the whole file), every offset and size is checked against the file's length, each
//! table is capped, and bad bytes give an error, never a panic (fuzz target `elf`).

use std::fmt;
use std::path::Path;

use spindle_contract::driver_note;

/// The largest table read (section headers, string tables, notes, dynamic section).
const MAX_TABLE: u64 = 16 << 20;

const PT_NOTE: u32 = 4;
const SHT_DYNAMIC: u32 = 6;
const SHT_NOTE: u32 = 7;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
const DT_NEEDED: i64 = 1;

/// An architecture NodeManagers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// The name Rust gives it (`std::env::consts::ARCH`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }
}

/// What a driver binary needs to run on a NodeManager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DriverInfo {
    pub arch: Arch,
    /// The Spindle version of the driver note; `None`: not a Spindle driver.
    pub spindle_version: Option<String>,
    /// The highest `GLIBC_x.y[.z]` symbol version it needs; `None` for a binary that needs no
    /// glibc symbol (static, or musl).
    pub glibc: Option<GlibcVersion>,
    /// `DT_NEEDED`: its shared libraries, in the binary's order.
    pub needed: Vec<String>,
}

/// A glibc symbol version, `GLIBC_2.17` as `[2, 17]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GlibcVersion(pub Vec<u32>);

impl GlibcVersion {
    /// `GLIBC_2.2.5` → `[2, 2, 5]`; `GLIBC_PRIVATE` and other names → `None`.
    fn parse(name: &str) -> Option<GlibcVersion> {
        let v = name.strip_prefix("GLIBC_")?;
        let parts: Option<Vec<u32>> = v.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| !p.is_empty()).map(GlibcVersion)
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        write!(f, "GLIBC_{}", parts.join("."))
    }
}

impl DriverInfo {
    /// One line for the terminal: `x86_64, Spindle 0.1.0, needs GLIBC_2.34; libraries: …`.
    pub(crate) fn summary(&self) -> String {
        let mut s = format!(
            "{} Linux ELF, Spindle {}",
            self.arch.as_str(),
            self.spindle_version.as_deref().unwrap_or("?")
        );
        match &self.glibc {
            Some(v) => s.push_str(&format!(", needs {v}")),
            None => s.push_str(", needs no glibc symbol"),
        }
        if self.needed.is_empty() {
            s.push_str("; no shared libraries");
        } else {
            s.push_str(&format!("; shared libraries: {}", self.needed.join(" ")));
        }
        s
    }

    /// Refuses a binary that is not a Spindle driver, in one line.
    pub(crate) fn require_driver(&self) -> Result<(), String> {
        if self.spindle_version.is_none() {
            return Err(format!(
                "not a Spindle driver (a {} Linux ELF binary without the Spindle note: build the \
                 driver with the spindle crate and spindle::main)",
                self.arch.as_str()
            ));
        }
        Ok(())
    }

    /// A warning when the driver's architecture is not this machine's.
    pub(crate) fn arch_warning(&self) -> Option<String> {
        let here = std::env::consts::ARCH;
        (self.arch.as_str() != here).then(|| {
            format!(
                "the driver is built for {} but this machine is {here}: it runs only on {} \
                 NodeManagers (and not here in client mode)",
                self.arch.as_str(),
                self.arch.as_str()
            )
        })
    }
}

/// Reads `path`'s ELF headers ([`inspect`]).
pub(crate) fn inspect_file(path: &Path) -> Result<DriverInfo, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let len = file
        .metadata()
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    inspect(&FileSource { file, len })
}

/// Where the bytes come from: a file (read at offsets) or memory (tests, fuzzing).
pub(crate) trait Source {
    fn len(&self) -> u64;
    /// Exactly `len` bytes at `offset`; the caller has checked the range.
    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, String>;
}

impl Source for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let start = usize::try_from(offset).map_err(|_| "offset out of range".to_string())?;
        self.get(start..start.saturating_add(len))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| "read past the end".to_string())
    }
}

struct FileSource {
    file: std::fs::File,
    len: u64,
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0; len];
        self.file
            .read_exact_at(&mut buf, offset)
            .map_err(|e| format!("cannot read {len} bytes at offset {offset}: {e}"))?;
        Ok(buf)
    }
}

/// Reads a table of `size` bytes at `offset`, named `what` in errors.
fn table(
    src: &(impl Source + ?Sized),
    what: &str,
    offset: u64,
    size: u64,
) -> Result<Vec<u8>, String> {
    offset
        .checked_add(size)
        .filter(|&end| end <= src.len())
        .ok_or_else(|| {
            format!(
                "truncated ELF file: {what} at offset {offset} ({size} bytes) lies past its end ({} bytes)",
                src.len()
            )
        })?;
    if size > MAX_TABLE {
        return Err(format!(
            "malformed ELF file: {what} claims {size} bytes (more than {MAX_TABLE})"
        ));
    }
    src.read(offset, size as usize)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes(s.try_into().unwrap_or_default()))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap_or_default()))
}

/// The NUL-terminated string at `at` in a string table.
fn str_at(strtab: &[u8], at: u64) -> Option<String> {
    let rest = strtab.get(usize::try_from(at).ok()?..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// Why a file that is not ELF is not: a script, another system's executable, or other bytes.
fn not_elf(head: &[u8]) -> String {
    let magic = u32::from_be_bytes([
        head.first().copied().unwrap_or(0),
        head.get(1).copied().unwrap_or(0),
        head.get(2).copied().unwrap_or(0),
        head.get(3).copied().unwrap_or(0),
    ]);
    if head.starts_with(b"#!") {
        return "a script (starts with #!), not a compiled driver program".into();
    }
    if matches!(
        magic,
        0xfeed_facf | 0xcffa_edfe | 0xfeed_face | 0xcefa_edfe | 0xcafe_babe
    ) {
        return "a macOS (Mach-O) binary; NodeManagers run Linux: build the driver for \
                x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu"
            .into();
    }
    if head.starts_with(b"MZ") {
        return "a Windows (PE) binary; NodeManagers run Linux: build the driver for \
                x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu"
            .into();
    }
    let shown: Vec<String> = head.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!(
        "not an ELF binary (it starts with bytes {}; a driver is a Linux executable built with \
         the spindle crate)",
        shown.join(" ")
    )
}

fn os_abi_name(abi: u8) -> &'static str {
    match abi {
        1 => "HP-UX",
        2 => "NetBSD",
        6 => "Solaris",
        7 => "AIX",
        9 => "FreeBSD",
        12 => "OpenBSD",
        _ => "not Linux",
    }
}

fn machine_name(machine: u16) -> &'static str {
    match machine {
        3 => "i386",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "s390",
        40 => "ARM (32-bit)",
        43 => "SPARC V9",
        243 => "RISC-V",
        258 => "LoongArch",
        _ => "unknown",
    }
}

/// Checks the ELF header and reads what the driver needs; an error says, in one line, why
/// this binary cannot run on a Linux NodeManager. A binary without the Spindle note is not an
/// error here ([`DriverInfo::require_driver`]).
pub(crate) fn inspect(src: &(impl Source + ?Sized)) -> Result<DriverInfo, String> {
    if src.len() < 4 {
        return Err(format!(
            "not an ELF binary ({} bytes; a driver is a Linux executable built with the spindle crate)",
            src.len()
        ));
    }
    let head = src.read(0, src.len().min(64) as usize)?;
    if !head.starts_with(b"\x7fELF") {
        return Err(not_elf(&head));
    }
    if head.len() < 64 {
        return Err(format!(
            "truncated ELF file ({} bytes, shorter than an ELF header)",
            head.len()
        ));
    }
    match head[4] {
        2 => {}
        1 => {
            return Err(
                "a 32-bit ELF binary; NodeManagers run 64-bit drivers (x86_64 or aarch64)".into(),
            );
        }
        c => return Err(format!("malformed ELF header: class {c}")),
    }
    match head[5] {
        1 => {}
        2 => {
            return Err(
                "a big-endian ELF binary; NodeManagers run little-endian x86_64 or aarch64".into(),
            );
        }
        d => return Err(format!("malformed ELF header: data encoding {d}")),
    }
    let abi = head[7];
    if abi != 0 && abi != 3 {
        return Err(format!(
            "an ELF binary for another operating system (OS/ABI {abi}, {}); NodeManagers run Linux",
            os_abi_name(abi)
        ));
    }
    match u16_at(&head, 16) {
        2 | 3 => {}
        1 => return Err("an object file (ELF type REL), not a linked executable".into()),
        4 => return Err("a core dump, not an executable".into()),
        t => return Err(format!("not an executable (ELF type {t})")),
    }
    let arch = match u16_at(&head, 18) {
        62 => Arch::X86_64,
        183 => Arch::Aarch64,
        m => {
            return Err(format!(
                "built for the {} architecture (ELF machine {m}); NodeManagers run x86_64 or aarch64",
                machine_name(m)
            ));
        }
    };
    let elf = Elf::read_tables(src, &head)?;
    Ok(DriverInfo {
        arch,
        spindle_version: elf.spindle_version(src)?,
        glibc: elf.glibc(src)?,
        needed: elf.needed(src)?,
    })
}

/// A section header's fields that matter here.
#[derive(Clone, Copy, Debug)]
struct Section {
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
}

/// A program header's fields that matter here.
#[derive(Clone, Copy, Debug)]
struct Segment {
    kind: u32,
    offset: u64,
    size: u64,
    align: u64,
}

struct Elf {
    sections: Vec<Section>,
    segments: Vec<Segment>,
}

impl Elf {
    fn read_tables(src: &(impl Source + ?Sized), head: &[u8]) -> Result<Elf, String> {
        let (phoff, shoff) = (u64_at(head, 32), u64_at(head, 40));
        let (phentsize, phnum) = (u16_at(head, 54), u16_at(head, 56));
        let (shentsize, shnum) = (u16_at(head, 58), u16_at(head, 60));
        let mut segments = Vec::new();
        if phnum > 0 {
            if phentsize != 56 {
                return Err(format!(
                    "malformed ELF header: program header size {phentsize}"
                ));
            }
            let t = table(src, "the program headers", phoff, u64::from(phnum) * 56)?;
            segments = t
                .chunks_exact(56)
                .map(|p| Segment {
                    kind: u32_at(p, 0),
                    offset: u64_at(p, 8),
                    size: u64_at(p, 32),
                    align: u64_at(p, 48),
                })
                .collect();
        }
        let mut sections = Vec::new();
        if shnum > 0 && shoff > 0 {
            if shentsize != 64 {
                return Err(format!(
                    "malformed ELF header: section header size {shentsize}"
                ));
            }
            let t = table(src, "the section headers", shoff, u64::from(shnum) * 64)?;
            sections = t
                .chunks_exact(64)
                .map(|s| Section {
                    kind: u32_at(s, 4),
                    offset: u64_at(s, 24),
                    size: u64_at(s, 32),
                    link: u32_at(s, 40),
                    info: u32_at(s, 44),
                    align: u64_at(s, 48),
                })
                .collect();
        }
        Ok(Elf { sections, segments })
    }

    fn section(&self, index: u32, of: &str) -> Result<&Section, String> {
        self.sections.get(index as usize).ok_or_else(|| {
            format!("malformed ELF file: {of} links to section {index}, which does not exist")
        })
    }

    /// The version in the Spindle driver note, from the note sections (or, in a file without
    /// section headers, the note segments).
    fn spindle_version(&self, src: &(impl Source + ?Sized)) -> Result<Option<String>, String> {
        let mut areas: Vec<(u64, u64, u64)> = self
            .sections
            .iter()
            .filter(|s| s.kind == SHT_NOTE)
            .map(|s| (s.offset, s.size, s.align))
            .collect();
        if self.sections.is_empty() {
            areas = self
                .segments
                .iter()
                .filter(|p| p.kind == PT_NOTE)
                .map(|p| (p.offset, p.size, p.align))
                .collect();
        }
        for (offset, size, align) in areas {
            let notes = table(src, "a note section", offset, size)?;
            if let Some(v) = find_driver_note(&notes, if align == 8 { 8 } else { 4 }) {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// The highest `GLIBC_*` version of `.gnu.version_r`.
    fn glibc(&self, src: &(impl Source + ?Sized)) -> Result<Option<GlibcVersion>, String> {
        let mut best: Option<GlibcVersion> = None;
        for s in self.sections.iter().filter(|s| s.kind == SHT_GNU_VERNEED) {
            let data = table(src, "the version needs (.gnu.version_r)", s.offset, s.size)?;
            let strs = self.section(s.link, ".gnu.version_r")?;
            let strtab = table(src, "the dynamic strings", strs.offset, strs.size)?;
            // Each entry is at least 16 bytes: more entries than that cannot be real.
            let max = (data.len() / 16).min(s.info as usize);
            let mut at = 0usize;
            for _ in 0..max {
                let (count, aux, next) = (
                    u16_at(&data, at + 2),
                    u32_at(&data, at + 8),
                    u32_at(&data, at + 12),
                );
                let mut a = at.saturating_add(aux as usize);
                for _ in 0..usize::from(count).min(data.len() / 16) {
                    if a.checked_add(16).is_none_or(|end| end > data.len()) {
                        break;
                    }
                    if let Some(v) = str_at(&strtab, u64::from(u32_at(&data, a + 8)))
                        .as_deref()
                        .and_then(GlibcVersion::parse)
                        && best.as_ref().is_none_or(|b| v > *b)
                    {
                        best = Some(v);
                    }
                    match u32_at(&data, a + 12) {
                        0 => break,
                        n => a = a.saturating_add(n as usize),
                    }
                }
                if next == 0 {
                    break;
                }
                at = at.saturating_add(next as usize);
                if at >= data.len() {
                    break;
                }
            }
        }
        Ok(best)
    }

    /// `DT_NEEDED` of the dynamic section.
    fn needed(&self, src: &(impl Source + ?Sized)) -> Result<Vec<String>, String> {
        let mut needed = Vec::new();
        let Some(dynamic) = self.sections.iter().find(|s| s.kind == SHT_DYNAMIC) else {
            // A static binary has none. (Without section headers, PT_DYNAMIC is not read: its
            // file offset would need the load segments' mapping.)
            return Ok(needed);
        };
        let data = table(src, "the dynamic section", dynamic.offset, dynamic.size)?;
        let strs = self.section(dynamic.link, "the dynamic section")?;
        let strtab = table(src, "the dynamic strings", strs.offset, strs.size)?;
        for entry in data.chunks_exact(16) {
            match u64_at(entry, 0) as i64 {
                0 => break,
                DT_NEEDED => needed.push(str_at(&strtab, u64_at(entry, 8)).ok_or_else(|| {
                    "malformed ELF file: a DT_NEEDED name lies outside the dynamic strings"
                        .to_string()
                })?),
                _ => {}
            }
        }
        Ok(needed)
    }
}

/// The version of the first Spindle driver note among `notes` (padded to `align`).
fn find_driver_note(notes: &[u8], align: usize) -> Option<String> {
    let pad = |n: usize| n.checked_add(align - 1).map(|n| n / align * align);
    let mut at = 0usize;
    while at.checked_add(12).is_some_and(|end| end <= notes.len()) {
        let namesz = u32_at(notes, at) as usize;
        let descsz = u32_at(notes, at + 4) as usize;
        let kind = u32_at(notes, at + 8);
        let name_at = at + 12;
        let desc_at = name_at.checked_add(pad(namesz)?)?;
        let end = desc_at.checked_add(pad(descsz)?)?;
        let name = notes.get(name_at..name_at.checked_add(namesz)?)?;
        let desc = notes.get(desc_at..desc_at.checked_add(descsz)?)?;
        if name == driver_note::NOTE_NAME && kind == driver_note::NOTE_TYPE_DRIVER {
            return Some(driver_note::note_version(desc));
        }
        at = end;
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What a synthetic ELF file holds.
    pub(crate) struct Spec {
        pub machine: u16,
        pub os_abi: u8,
        pub note: bool,
        pub needed: Vec<&'static str>,
        pub versions: Vec<&'static str>,
    }

    impl Default for Spec {
        fn default() -> Spec {
            Spec {
                machine: 62,
                os_abi: 0,
                note: true,
                needed: vec!["libc.so.6", "libgcc_s.so.1"],
                versions: vec!["GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_PRIVATE", "GLIBC_2.3"],
            }
        }
    }

    fn push32(v: &mut Vec<u8>, x: u32) {
        v.extend_from_slice(&x.to_le_bytes());
    }

    fn push64(v: &mut Vec<u8>, x: u64) {
        v.extend_from_slice(&x.to_le_bytes());
    }

    /// A small ELF64 file with the layout of a linked executable: a note (the Spindle driver
    /// note when `spec.note`, always a GNU build-id-like note before it), dynamic strings, a
    /// dynamic section with `DT_NEEDED`, `.gnu.version_r` needing `spec.versions` from
    /// libc.so.6, section headers and one `PT_NOTE` program header.
    pub(crate) fn synthetic(spec: &Spec) -> Vec<u8> {
        let mut notes = Vec::new();
        push32(&mut notes, 4);
        push32(&mut notes, 4);
        push32(&mut notes, 3);
        notes.extend_from_slice(b"GNU\0\x01\x02\x03\x04");
        if spec.note {
            let n = driver_note::DRIVER_NOTE;
            // SAFETY: DriverNote is repr(C) of u32s and byte arrays, without padding.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    (&n as *const driver_note::DriverNote).cast::<u8>(),
                    std::mem::size_of::<driver_note::DriverNote>(),
                )
            };
            notes.extend_from_slice(bytes);
        }
        let mut dynstr = vec![0u8];
        let name_of = |s: &str, t: &mut Vec<u8>| {
            let at = t.len() as u32;
            t.extend_from_slice(s.as_bytes());
            t.push(0);
            at
        };
        let needed: Vec<u32> = spec
            .needed
            .iter()
            .map(|n| name_of(n, &mut dynstr))
            .collect();
        let libc = name_of("libc.so.6", &mut dynstr);
        let versions: Vec<u32> = spec
            .versions
            .iter()
            .map(|n| name_of(n, &mut dynstr))
            .collect();
        let mut dynamic = Vec::new();
        for n in &needed {
            push64(&mut dynamic, DT_NEEDED as u64);
            push64(&mut dynamic, u64::from(*n));
        }
        push64(&mut dynamic, 0);
        push64(&mut dynamic, 0);
        let mut verneed = Vec::new();
        verneed.extend_from_slice(&1u16.to_le_bytes());
        verneed.extend_from_slice(&(versions.len() as u16).to_le_bytes());
        push32(&mut verneed, libc);
        push32(&mut verneed, 16);
        push32(&mut verneed, 0);
        for (i, v) in versions.iter().enumerate() {
            push32(&mut verneed, 0);
            verneed.extend_from_slice(&0u16.to_le_bytes());
            verneed.extend_from_slice(&(i as u16 + 2).to_le_bytes());
            push32(&mut verneed, *v);
            push32(&mut verneed, if i + 1 < versions.len() { 16 } else { 0 });
        }
        let shstrtab = b"\0.note\0.dynstr\0.dynamic\0.gnu.version_r\0.shstrtab\0".to_vec();
        // Layout: header, one program header, then the tables, then the section headers.
        let mut file = vec![0u8; 64 + 56];
        let place = |file: &mut Vec<u8>, data: &[u8]| {
            while !file.len().is_multiple_of(8) {
                file.push(0);
            }
            let at = file.len() as u64;
            file.extend_from_slice(data);
            (at, data.len() as u64)
        };
        let t_notes = place(&mut file, &notes);
        let t_dynstr = place(&mut file, &dynstr);
        let t_dynamic = place(&mut file, &dynamic);
        let t_verneed = place(&mut file, &verneed);
        let t_shstr = place(&mut file, &shstrtab);
        while !file.len().is_multiple_of(8) {
            file.push(0);
        }
        let shoff = file.len() as u64;
        // (name, type, offset/size, link, info, align)
        let sections = [
            (0, 0, (0, 0), 0, 0, 0),
            (1, SHT_NOTE, t_notes, 0, 0, 4),
            (7, 3, t_dynstr, 0, 0, 1),
            (15, SHT_DYNAMIC, t_dynamic, 2, 0, 8),
            (24, SHT_GNU_VERNEED, t_verneed, 2, 1, 4),
            (39, 3, t_shstr, 0, 0, 1),
        ];
        for (name, kind, (off, size), link, info, align) in sections {
            push32(&mut file, name);
            push32(&mut file, kind);
            push64(&mut file, 0);
            push64(&mut file, 0);
            push64(&mut file, off);
            push64(&mut file, size);
            push32(&mut file, link);
            push32(&mut file, info);
            push64(&mut file, align);
            push64(&mut file, 0);
        }
        let mut head = Vec::new();
        head.extend_from_slice(b"\x7fELF\x02\x01\x01");
        head.push(spec.os_abi);
        head.extend_from_slice(&[0; 8]);
        head.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN (a PIE)
        head.extend_from_slice(&spec.machine.to_le_bytes());
        push32(&mut head, 1);
        push64(&mut head, 0);
        push64(&mut head, 64); // phoff
        push64(&mut head, shoff);
        push32(&mut head, 0);
        for v in [64u16, 56, 1, 64, sections.len() as u16, 5] {
            head.extend_from_slice(&v.to_le_bytes());
        }
        let mut ph = Vec::new();
        push32(&mut ph, PT_NOTE);
        push32(&mut ph, 4);
        push64(&mut ph, t_notes.0);
        push64(&mut ph, 0);
        push64(&mut ph, 0);
        push64(&mut ph, t_notes.1);
        push64(&mut ph, t_notes.1);
        push64(&mut ph, 4);
        file[..64].copy_from_slice(&head);
        file[64..120].copy_from_slice(&ph);
        file
    }

    #[test]
    fn a_synthetic_driver_is_read_fully() {
        let info = inspect(synthetic(&Spec::default()).as_slice()).unwrap();
        assert_eq!(info.arch, Arch::X86_64);
        assert_eq!(
            info.spindle_version.as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(info.glibc, Some(GlibcVersion(vec![2, 17])));
        assert_eq!(info.needed, vec!["libc.so.6", "libgcc_s.so.1"]);
        assert!(info.require_driver().is_ok());
        assert_eq!(
            info.summary(),
            format!(
                "x86_64 Linux ELF, Spindle {}, needs GLIBC_2.17; shared libraries: libc.so.6 libgcc_s.so.1",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn glibc_versions_compare_as_numbers() {
        let v = |s| GlibcVersion::parse(s).unwrap();
        assert!(v("GLIBC_2.34") > v("GLIBC_2.4"));
        assert!(v("GLIBC_2.2.5") > v("GLIBC_2.2"));
        assert_eq!(GlibcVersion::parse("GLIBC_PRIVATE"), None);
        assert_eq!(GlibcVersion::parse("GCC_3.0"), None);
        assert_eq!(v("GLIBC_2.2.5").to_string(), "GLIBC_2.2.5");
    }

    #[test]
    fn a_binary_without_the_note_is_not_a_driver() {
        let info = inspect(
            synthetic(&Spec {
                note: false,
                ..Spec::default()
            })
            .as_slice(),
        )
        .unwrap();
        let e = info.require_driver().unwrap_err();
        assert!(e.starts_with("not a Spindle driver"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn other_systems_and_architectures_are_refused_by_name() {
        let e = |spec: Spec| inspect(synthetic(&spec).as_slice()).unwrap_err();
        let arm = e(Spec {
            machine: 40,
            ..Spec::default()
        });
        assert!(
            arm.contains("ARM (32-bit)") && arm.contains("machine 40"),
            "{arm}"
        );
        let bsd = e(Spec {
            os_abi: 9,
            ..Spec::default()
        });
        assert!(bsd.contains("FreeBSD"), "{bsd}");
        let aarch64 = inspect(
            synthetic(&Spec {
                machine: 183,
                ..Spec::default()
            })
            .as_slice(),
        )
        .unwrap();
        assert_eq!(aarch64.arch, Arch::Aarch64);
        assert_eq!(
            aarch64.arch_warning().is_some(),
            std::env::consts::ARCH != "aarch64"
        );
    }

    #[test]
    fn non_elf_files_say_what_they_are() {
        let e = |b: &[u8]| inspect(b).unwrap_err();
        assert!(e(b"#!/bin/sh\necho hi\n").contains("script"));
        assert!(e(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]).contains("Mach-O"));
        assert!(e(b"MZ\x90\0\x03\0\0\0").contains("Windows"));
        assert!(
            e(b"hello world").contains("68 65 6c 6c"),
            "{}",
            e(b"hello world")
        );
        assert!(e(b"").contains("0 bytes"));
        assert!(e(b"\x7fELF\x02\x01").contains("truncated"));
        let mut b = synthetic(&Spec::default());
        b[4] = 1;
        assert!(e(&b).contains("32-bit"));
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error_or_a_reading_never_a_panic() {
        let good = synthetic(&Spec::default());
        for len in 0..good.len() {
            let _ = inspect(&good[..len]);
        }
        // Flip every byte in turn (the headers' offsets and sizes included).
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0xff;
            let _ = inspect(b.as_slice());
        }
        // A section header table claiming a huge size fails without reading it.
        let mut b = good.clone();
        b[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
        let e = inspect(b.as_slice()).unwrap_err();
        assert!(e.contains("section headers"), "{e}");
    }

    /// The committed fuzz seeds (`fuzz/corpus/elf/`, also the stand-in driver of the CLI's
    /// bad-input tests) are this builder's output; `SPINDLE_WRITE_ELF_SEEDS=1` rewrites them.
    #[test]
    fn committed_seeds_are_the_builders() {
        let dir = spindle_test_support::repo_root().join("fuzz/corpus/elf");
        let seeds = [
            ("driver-x86_64", synthetic(&Spec::default())),
            (
                "driver-aarch64",
                synthetic(&Spec {
                    machine: 183,
                    ..Spec::default()
                }),
            ),
            (
                "not-a-driver",
                synthetic(&Spec {
                    note: false,
                    needed: vec!["libc.so.6"],
                    ..Spec::default()
                }),
            ),
        ];
        for (name, bytes) in seeds {
            let path = dir.join(name);
            if std::env::var_os("SPINDLE_WRITE_ELF_SEEDS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            }
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == bytes,
                "{} differs from the builder's output",
                path.display()
            );
        }
    }

    /// Our reading of real binaries matches binutils' `readelf` (written independently of us).
    #[test]
    fn real_binaries_agree_with_readelf() {
        let me = std::env::current_exe().unwrap();
        let Ok(out) = std::process::Command::new("readelf")
            .args(["-d", "-V", "-h"])
            .arg(&me)
            .output()
        else {
            panic!("readelf (binutils) is needed by this test");
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let needed: Vec<String> = text
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .filter_map(|l| l.split('[').nth(1)?.split(']').next().map(str::to_string))
            .collect();
        let max = text
            .split_whitespace()
            .filter_map(GlibcVersion::parse)
            .max();
        let info = inspect_file(&me).unwrap();
        assert_eq!(info.needed, needed);
        assert_eq!(info.glibc, max);
        assert!(info.glibc.is_some(), "{text}");
        assert_eq!(info.arch.as_str(), std::env::consts::ARCH);
        // The test binary does not link the spindle crate.
        assert_eq!(info.spindle_version, None);
    }
}
