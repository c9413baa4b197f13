//! CRC-32C (Castagnoli, the checksum HDFS keeps for its blocks) of the
//! frames in shuffle blocks, spill files and cached partitions. Every frame
//! is summed when written and when read, so the CPU's own instruction
//! (SSE 4.2) is used where there is one; a table serves elsewhere.

/// The CRC-32C of `bytes` continuing from `crc` (0 for the first bytes).
pub fn extend(crc: u32, bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("sse4.2") {
        // SAFETY: the CPU has just been found to have SSE 4.2.
        return unsafe { extend_sse42(crc, bytes) };
    }
    extend_table(crc, bytes)
}

/// The CRC-32C of `bytes`.
pub fn of(bytes: &[u8]) -> u32 {
    extend(0, bytes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn extend_sse42(crc: u32, bytes: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u8, _mm_crc32_u64};
    let mut c = u64::from(!crc);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        c = _mm_crc32_u64(c, u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    let mut c = c as u32;
    for &b in words.remainder() {
        c = _mm_crc32_u8(c, b);
    }
    !c
}

/// The reflected polynomial of CRC-32C.
const POLY: u32 = 0x82F6_3B78;

/// The CRC of each byte value, one bit at a time folded into a table.
const TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            bit += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

fn extend_table(crc: u32, bytes: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in bytes {
        c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_value_of_crc32c_and_the_instruction_agrees_with_the_table() {
        // The catalogued check value of CRC-32/ISCSI.
        assert_eq!(of(b"123456789"), 0xE306_9283);
        assert_eq!(extend_table(0, b"123456789"), 0xE306_9283);
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for len in [0, 1, 7, 8, 9, 63, 64, 65, 999, 1000] {
            assert_eq!(of(&bytes[..len]), extend_table(0, &bytes[..len]), "{len}");
            // Summing in two pieces is summing the whole.
            let (a, b) = bytes[..len].split_at(len / 3);
            assert_eq!(extend(of(a), b), of(&bytes[..len]), "{len}");
        }
    }
}
