//! Record encoding: bincode 2 (standard config, varint integers) for values,
//! and lz4-compressed frames of many records for blocks on disk and the wire.
//!
//! A frame is a 16-byte header, `[compressed length][raw length][records]
//! [CRC-32C]` (each a u32 LE), then the lz4 block; the raw bytes are the
//! records encoded back to back. The CRC-32C (the checksum HDFS keeps for its
//! blocks) covers the header's first 12 bytes and the lz4 block, so a flipped
//! bit in a shuffle block, a spill file or a cached partition on disk is an
//! [`Error::Corrupt`], never records silently wrong; a reducer turns it into a
//! fetch failure and the map output is recomputed from lineage, and a damaged
//! cached partition is recomputed like a miss. The record count lets records
//! that encode to zero bytes (`()`) survive a frame. Every such file ends
//! with an end frame (a header counting no records, over no bytes), so one
//! cut short at a frame boundary is corrupt too; an empty file holds no
//! records.
//!
//! Every length read from bytes is checked before anything is allocated for
//! it: a frame over 256 MiB, a raw length that lz4 could not have produced from
//! the compressed length, and a record whose encoded lengths claim more memory
//! than its bytes could describe are errors (bincode 2's own limit, chosen from
//! the input's length: see [`decode_prefix`]).

use std::io::{Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

const CONFIG: bincode::config::Configuration = bincode::config::standard();
/// Raw bytes gathered before a frame is compressed and written.
pub const FRAME_TARGET: usize = 64 * 1024;
/// Frames larger than this are refused when decoding (corrupt input).
pub const MAX_FRAME: usize = 256 * 1024 * 1024;
/// Records in one frame at most: only records of zero bytes reach it (any
/// other record fills [`FRAME_TARGET`] first).
const MAX_FRAME_RECORDS: u32 = 1 << 20;
/// Bytes of a frame's header.
const HEADER: usize = 16;
/// lz4 turns at most 255 raw bytes into one compressed byte (a long match
/// costs one length byte per 255 bytes), plus a few bytes per block.
const MAX_LZ4_RATIO: usize = 255;
/// bincode claims at most this many bytes of memory per byte of input while
/// decoding (a varint-encoded `u128` claims 16 for 1).
const CLAIM_PER_BYTE: usize = 16;

/// Encodes one value.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_into(value, &mut buf);
    buf
}

/// Appends the encoding of one value to `buf`.
pub fn encode_into<T: Serialize + ?Sized>(value: &T, buf: &mut Vec<u8>) {
    // Writing to a Vec cannot fail; a Serialize impl that errors is a bug in the record type.
    if let Err(e) = bincode::serde::encode_into_std_write(value, buf, CONFIG) {
        panic!("spindle: record type failed to serialize: {e}");
    }
}

/// [`encode_into`] with a short cut for the commonest key, a `String` shorter
/// than 251 bytes (a length byte and its bytes, as bincode writes it): the
/// map-side combine encodes the key of every record.
pub fn encode_key_into<T: Serialize + 'static>(value: &T, buf: &mut Vec<u8>) {
    if let Some(s) = (value as &dyn std::any::Any).downcast_ref::<String>()
        && s.len() < 251
    {
        buf.push(s.len() as u8);
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    encode_into(value, buf)
}

/// Decodes one value that fills `bytes` exactly.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T> {
    let (v, used) = decode_prefix(bytes, what)?;
    if used != bytes.len() {
        return Err(Error::Decode {
            what,
            message: format!("{} trailing bytes", bytes.len() - used),
        });
    }
    Ok(v)
}

/// Decodes one value from the start of `bytes`, returning how many bytes it used.
///
/// bincode allocates a string or byte buffer of the length its prefix claims
/// before reading it, so the decoder runs with a limit on what it may claim:
/// the smallest of 1 MiB, 16 MiB, 256 MiB, 4 GiB that covers 16 bytes per byte
/// of input (the most a valid encoding can claim). A corrupt length is then a
/// `LimitExceeded` error, never an allocation of what it claims.
pub fn decode_prefix<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<(T, usize)> {
    let claim = bytes.len().saturating_mul(CLAIM_PER_BYTE);
    let r = if claim <= 1 << 20 {
        decode_limited::<T, { 1 << 20 }>(bytes)
    } else if claim <= 1 << 24 {
        decode_limited::<T, { 1 << 24 }>(bytes)
    } else if claim <= 1 << 28 {
        decode_limited::<T, { 1 << 28 }>(bytes)
    } else if claim <= 1 << 32 {
        decode_limited::<T, { 1 << 32 }>(bytes)
    } else {
        decode_limited::<T, { usize::MAX }>(bytes)
    };
    r.map_err(|e| Error::Decode {
        what,
        message: match e {
            bincode::error::DecodeError::LimitExceeded => {
                "a length in the data exceeds what its bytes can hold (corrupt input)".into()
            }
            e => e.to_string(),
        },
    })
}

fn decode_limited<T: DeserializeOwned, const LIMIT: usize>(
    bytes: &[u8],
) -> std::result::Result<(T, usize), bincode::error::DecodeError> {
    bincode::serde::decode_from_slice(bytes, CONFIG.with_limit::<LIMIT>())
}

/// Writes records as lz4 frames.
pub struct FrameWriter<W: Write> {
    out: W,
    raw: Vec<u8>,
    records: u32,
    written: u64,
}

impl<W: Write> FrameWriter<W> {
    /// A writer that appends frames to `out`.
    pub fn new(out: W) -> Self {
        FrameWriter {
            out,
            raw: Vec::with_capacity(FRAME_TARGET + 1024),
            records: 0,
            written: 0,
        }
    }

    /// Adds one record.
    pub fn push<T: Serialize>(&mut self, record: &T) -> std::io::Result<()> {
        encode_into(record, &mut self.raw);
        self.records += 1;
        if self.raw.len() >= FRAME_TARGET || self.records >= MAX_FRAME_RECORDS {
            self.flush_frame()?;
        }
        Ok(())
    }

    /// Bytes held in memory, not yet written.
    pub fn buffered(&self) -> usize {
        self.raw.len()
    }

    /// Compresses and writes what is buffered as one frame.
    pub fn flush_frame(&mut self) -> std::io::Result<()> {
        if self.records == 0 {
            return Ok(());
        }
        let compressed = lz4_flex::block::compress(&self.raw);
        let mut header = [0u8; HEADER];
        header[0..4].copy_from_slice(&(compressed.len() as u32).to_le_bytes());
        header[4..8].copy_from_slice(&(self.raw.len() as u32).to_le_bytes());
        header[8..12].copy_from_slice(&self.records.to_le_bytes());
        let sum = checksum(&header, &compressed);
        header[12..16].copy_from_slice(&sum.to_le_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(&compressed)?;
        self.written += (HEADER + compressed.len()) as u64;
        self.raw.clear();
        self.records = 0;
        Ok(())
    }

    /// Writes the last frame and the end frame, and gives back the sink and
    /// the bytes written.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        self.flush_frame()?;
        let mut end = [0u8; HEADER];
        let sum = checksum(&end, &[]);
        end[12..16].copy_from_slice(&sum.to_le_bytes());
        self.out.write_all(&end)?;
        self.written += HEADER as u64;
        self.out.flush()?;
        Ok((self.out, self.written))
    }
}

/// Reads the frames of a block one at a time, each into a batch of records.
pub struct FrameReader {
    data: Vec<u8>,
    pos: usize,
    ended: bool,
}

impl FrameReader {
    /// Reads frames from a whole block held in memory.
    pub fn new(data: Vec<u8>) -> Self {
        FrameReader {
            data,
            pos: 0,
            ended: false,
        }
    }

    /// The records of the next frame, or None at the end.
    pub fn next_batch<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>> {
        const WHAT: &str = "shuffle block";
        if self.ended || self.data.is_empty() {
            return Ok(None);
        }
        if self.pos >= self.data.len() {
            return Err(corrupt(WHAT, "truncated: no end frame".into()));
        }
        let header = self
            .data
            .get(self.pos..self.pos + HEADER)
            .ok_or_else(|| corrupt(WHAT, "truncated frame header".into()))?;
        let h = FrameHeader::parse(header, WHAT)?;
        let start = self.pos + HEADER;
        if h.is_end(header, WHAT)? {
            if start != self.data.len() {
                return Err(corrupt(
                    WHAT,
                    format!("{} bytes after the end frame", self.data.len() - start),
                ));
            }
            self.ended = true;
            return Ok(None);
        }
        let body = self
            .data
            .get(start..start + h.clen)
            .ok_or_else(|| corrupt(WHAT, "truncated frame body".into()))?;
        let out = decode_frame(header, body, &h, WHAT)?;
        self.pos = start + h.clen;
        Ok(Some(out))
    }
}

/// The CRC-32C of a frame: its header's first 12 bytes, then its lz4 block.
fn checksum(header: &[u8], body: &[u8]) -> u32 {
    crate::crc32c::extend(crate::crc32c::of(&header[..12]), body)
}

fn corrupt(what: &'static str, message: String) -> Error {
    Error::Corrupt { what, message }
}

/// A frame's header, its lengths checked: a frame claiming more than
/// [`MAX_FRAME`], or more raw bytes than lz4 can make of its compressed ones,
/// is corrupt.
struct FrameHeader {
    clen: usize,
    rlen: usize,
    records: u32,
    crc: u32,
}

impl FrameHeader {
    fn parse(header: &[u8], what: &'static str) -> Result<Self> {
        let word = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
        let (clen, rlen) = (word(0) as usize, word(4) as usize);
        let (records, crc) = (word(8), word(12));
        if rlen > MAX_FRAME || clen > MAX_FRAME {
            return Err(corrupt(what, "frame larger than 256 MiB".into()));
        }
        if rlen > clen.saturating_mul(MAX_LZ4_RATIO) + 64 {
            return Err(corrupt(
                what,
                format!(
                    "frame claims {rlen} raw bytes from {clen} compressed (more than lz4 can expand)"
                ),
            ));
        }
        if records > MAX_FRAME_RECORDS {
            return Err(corrupt(
                what,
                format!("frame claims {records} records (at most {MAX_FRAME_RECORDS})"),
            ));
        }
        Ok(FrameHeader {
            clen,
            rlen,
            records,
            crc,
        })
    }

    /// Whether this is the end frame (no records, no bytes, its checksum right).
    fn is_end(&self, header: &[u8], what: &'static str) -> Result<bool> {
        if self.records != 0 {
            return Ok(false);
        }
        if self.clen != 0 || self.rlen != 0 || checksum(header, &[]) != self.crc {
            return Err(corrupt(
                what,
                "a frame of no records that is not an end frame".into(),
            ));
        }
        Ok(true)
    }
}

/// Checks one frame's checksum, decompresses its body and decodes its records.
fn decode_frame<T: DeserializeOwned>(
    header: &[u8],
    body: &[u8],
    h: &FrameHeader,
    what: &'static str,
) -> Result<Vec<T>> {
    let sum = checksum(header, body);
    if sum != h.crc {
        return Err(corrupt(
            what,
            format!(
                "checksum mismatch (CRC-32C {sum:08x}, the frame says {:08x})",
                h.crc
            ),
        ));
    }
    let raw = lz4_flex::block::decompress(body, h.rlen)
        .map_err(|e| corrupt(what, format!("lz4: {e}")))?;
    if raw.len() != h.rlen {
        return Err(corrupt(
            what,
            format!("{} raw bytes where the header says {}", raw.len(), h.rlen),
        ));
    }
    let mut out = Vec::new();
    let mut at = 0;
    for _ in 0..h.records {
        let (v, used) = decode_prefix::<T>(&raw[at..], "shuffle record")?;
        at += used;
        out.push(v);
    }
    if at != raw.len() {
        return Err(Error::Decode {
            what: "shuffle record",
            message: format!(
                "{} bytes left after the frame's {} records",
                raw.len() - at,
                h.records
            ),
        });
    }
    Ok(out)
}

/// Reads frames one at a time from a byte stream (a spill file or a cached
/// partition), holding only the current frame in memory.
pub struct FrameStream<R: Read> {
    inner: R,
    /// What the stream holds, for errors.
    what: &'static str,
    body: Vec<u8>,
    /// Whether any byte was read (an empty file holds no records).
    started: bool,
    ended: bool,
}

impl<R: Read> FrameStream<R> {
    /// Reads the frames of a spill file from `inner`.
    pub fn new(inner: R) -> Self {
        Self::named(inner, "spill file")
    }

    /// Reads frames from `inner`, naming it `what` in errors.
    pub fn named(inner: R, what: &'static str) -> Self {
        FrameStream {
            inner,
            what,
            body: Vec::new(),
            started: false,
            ended: false,
        }
    }

    /// The records of the next frame, or None at a clean end.
    pub fn next_batch<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>> {
        let what = self.what;
        if self.ended {
            return Ok(None);
        }
        let mut header = [0u8; HEADER];
        let mut got = 0;
        while got < header.len() {
            match read_some(&mut self.inner, &mut header[got..], what)? {
                0 if got == 0 && !self.started => return Ok(None),
                0 if got == 0 => return Err(corrupt(what, "truncated: no end frame".into())),
                0 => return Err(corrupt(what, "truncated frame header".into())),
                n => got += n,
            }
        }
        self.started = true;
        let h = FrameHeader::parse(&header, what)?;
        if h.is_end(&header, what)? {
            let mut after = [0u8; 1];
            if read_some(&mut self.inner, &mut after, what)? != 0 {
                return Err(corrupt(what, "bytes after the end frame".into()));
            }
            self.ended = true;
            return Ok(None);
        }
        // Grown as bytes arrive, so a header claiming more than the file holds
        // costs no more memory than the file.
        self.body.clear();
        let got = (&mut self.inner)
            .take(h.clen as u64)
            .read_to_end(&mut self.body)
            .map_err(|e| Error::io(format!("reading a {what}"), e))?;
        if got != h.clen {
            return Err(corrupt(
                what,
                format!("truncated frame body: {got} of {} bytes", h.clen),
            ));
        }
        decode_frame(&header, &self.body, &h, what).map(Some)
    }
}

/// Rewrites every frame's checksum to match its bytes, so that a fuzzer's
/// mutations reach the decoders behind the checksum (a hostile peer can
/// compute checksums too). Fuzzing and tests only.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn reseal(bytes: &mut [u8]) {
    let mut pos = 0;
    while pos + HEADER <= bytes.len() {
        let clen = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let end = (pos + HEADER).saturating_add(clen).min(bytes.len());
        let sum = checksum(&bytes[pos..pos + 12], &bytes[pos + HEADER..end]);
        bytes[pos + 12..pos + HEADER].copy_from_slice(&sum.to_le_bytes());
        pos = pos.saturating_add(HEADER).saturating_add(clen);
    }
}

/// One read, retried when interrupted.
fn read_some(r: &mut impl Read, buf: &mut [u8], what: &str) -> Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            r => return r.map_err(|e| Error::io(format!("reading a {what}"), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_encoded_as_any_value_is() {
        for len in [0, 1, 7, 250, 251, 300, 70_000] {
            let s = "x".repeat(len);
            let (mut fast, mut plain) = (Vec::new(), Vec::new());
            encode_key_into(&s, &mut fast);
            encode_into(&s, &mut plain);
            assert_eq!(fast, plain, "a string of {len} bytes");
        }
        let (mut fast, mut plain) = (Vec::new(), Vec::new());
        encode_key_into(&(3u32, "a".to_string()), &mut fast);
        encode_into(&(3u32, "a".to_string()), &mut plain);
        assert_eq!(fast, plain);
    }

    #[test]
    fn frames_round_trip_many_records() {
        let mut w = FrameWriter::new(Vec::new());
        let records: Vec<(String, u64)> = (0..20_000).map(|i| (format!("word{i}"), i)).collect();
        for r in &records {
            w.push(r).unwrap();
        }
        let (bytes, n) = w.finish().unwrap();
        assert_eq!(n as usize, bytes.len());
        let mut r = FrameReader::new(bytes);
        let mut back = Vec::new();
        while let Some(batch) = r.next_batch::<(String, u64)>().unwrap() {
            back.extend(batch);
        }
        assert_eq!(back, records);
    }

    #[test]
    fn corrupt_frames_are_errors_not_panics() {
        let mut w = FrameWriter::new(Vec::new());
        w.push(&1u32).unwrap();
        let (bytes, _) = w.finish().unwrap();
        assert_eq!(read_all::<u32>(bytes.clone()).unwrap(), vec![1]);
        // Cut inside the end frame, or without it: a frame boundary is no end.
        for cut in [1, HEADER] {
            let e = read_all::<u32>(bytes[..bytes.len() - cut].to_vec()).unwrap_err();
            assert!(matches!(e, Error::Corrupt { .. }), "{e}");
        }
        let e = read_all::<u32>([&bytes[..], &[0]].concat()).unwrap_err();
        assert!(e.to_string().contains("1 bytes after the end frame"), "{e}");
        assert!(FrameReader::new(vec![1, 2, 3]).next_batch::<u32>().is_err());
        let huge = [0u8, 0, 0, 0, 255, 255, 255, 255, 1, 0, 0, 0, 0, 0, 0, 0];
        assert!(FrameReader::new(huge.to_vec()).next_batch::<u32>().is_err());
    }

    #[test]
    fn frame_streams_read_what_frame_writers_wrote() {
        let mut w = FrameWriter::new(Vec::new());
        let records: Vec<(u64, String)> = (0..50_000).map(|i| (i, format!("v{i}"))).collect();
        for r in &records {
            w.push(r).unwrap();
        }
        let (bytes, _) = w.finish().unwrap();
        let mut r = FrameStream::new(&bytes[..]);
        let mut back = Vec::new();
        while let Some(batch) = r.next_batch::<(u64, String)>().unwrap() {
            back.extend(batch);
        }
        assert_eq!(back, records);
        // A cut anywhere inside a frame is an error, never a panic or a short read.
        for cut in [3, 9, bytes.len() - 1] {
            let mut r = FrameStream::new(&bytes[..cut]);
            let mut failed = false;
            loop {
                match r.next_batch::<(u64, String)>() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            assert!(failed, "cut at {cut}");
        }
    }

    #[test]
    fn values_with_trailing_bytes_are_refused() {
        let mut b = encode(&7u32);
        assert_eq!(decode::<u32>(&b, "n").unwrap(), 7);
        b.push(0);
        assert!(decode::<u32>(&b, "n").is_err());
    }

    /// A frame header with these lengths and one record, its checksum over `body`.
    fn header(clen: u32, rlen: u32, body: &[u8]) -> Vec<u8> {
        let mut h = clen.to_le_bytes().to_vec();
        h.extend_from_slice(&rlen.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&checksum(&h, body).to_le_bytes());
        h
    }

    /// Every record of a block.
    fn read_all<T: DeserializeOwned>(bytes: Vec<u8>) -> Result<Vec<T>> {
        let mut r = FrameReader::new(bytes);
        let mut back = Vec::new();
        while let Some(batch) = r.next_batch::<T>()? {
            back.extend(batch);
        }
        Ok(back)
    }

    #[test]
    fn a_flipped_bit_anywhere_in_a_block_is_a_checksum_error() {
        let mut w = FrameWriter::new(Vec::new());
        for i in 0..3000u64 {
            w.push(&(i, format!("value {i}"))).unwrap();
        }
        let (bytes, _) = w.finish().unwrap();
        assert_eq!(
            read_all::<(u64, String)>(bytes.clone()).unwrap().len(),
            3000
        );
        // Every byte of the header's lengths and count, of the checksum, and
        // a spread of the lz4 block: all are caught, by the checksum or by
        // the length checks that come before it.
        let mut at: Vec<usize> = (0..HEADER).collect();
        at.extend((HEADER..bytes.len()).step_by(97));
        for i in at {
            for bit in [0x01u8, 0x80] {
                let mut bad = bytes.clone();
                bad[i] ^= bit;
                let e = read_all::<(u64, String)>(bad.clone()).unwrap_err();
                assert!(matches!(e, Error::Corrupt { .. }), "byte {i}: {e}");
                let mut s = FrameStream::new(&bad[..]);
                let e = loop {
                    match s.next_batch::<(u64, String)>() {
                        Ok(Some(_)) => {}
                        Ok(None) => panic!("byte {i}: a spill file read to its end"),
                        Err(e) => break e,
                    }
                };
                assert!(matches!(e, Error::Corrupt { .. }), "byte {i}: {e}");
            }
        }
        let mut bad = bytes.clone();
        bad[HEADER + 5] ^= 0x10;
        let e = read_all::<(u64, String)>(bad).unwrap_err().to_string();
        assert!(
            e.starts_with("corrupt shuffle block: checksum mismatch (CRC-32C "),
            "{e}"
        );
    }

    #[test]
    fn records_of_zero_bytes_keep_their_number() {
        // `()` encodes to nothing: the frame's record count carries them.
        let mut w = FrameWriter::new(Vec::new());
        for _ in 0..2_500_000 {
            w.push(&()).unwrap();
        }
        let (bytes, _) = w.finish().unwrap();
        assert_eq!(read_all::<()>(bytes.clone()).unwrap().len(), 2_500_000);
        let mut s = FrameStream::new(&bytes[..]);
        let mut n = 0;
        while let Some(b) = s.next_batch::<()>().unwrap() {
            n += b.len();
        }
        assert_eq!(n, 2_500_000);
        // A few, and pairs of them.
        let mut w = FrameWriter::new(Vec::new());
        for _ in 0..3 {
            w.push(&((), ())).unwrap();
        }
        let (bytes, _) = w.finish().unwrap();
        assert_eq!(read_all::<((), ())>(bytes).unwrap().len(), 3);
    }

    #[test]
    fn a_frame_whose_records_do_not_fill_it_is_refused() {
        // Two u32s written, one claimed: the bytes left over are an error.
        let raw = [encode(&7u32), encode(&9u32)].concat();
        let c = lz4_flex::block::compress(&raw);
        let mut frame = header(c.len() as u32, raw.len() as u32, &c);
        frame.extend_from_slice(&c);
        let e = read_all::<u32>(frame).unwrap_err().to_string();
        assert!(e.contains("bytes left after the frame's 1 records"), "{e}");
    }

    #[test]
    fn a_frame_claiming_a_huge_raw_length_is_refused_before_allocating_it() {
        // 256 MiB raw from 10 compressed bytes: lz4 cannot expand that much.
        let mut bytes = header(10, 256 << 20, &[0; 10]);
        bytes.extend_from_slice(&[0; 10]);
        let (r, largest) = spindle_test_support::largest_allocation(|| {
            FrameReader::new(bytes.clone()).next_batch::<u32>()
        });
        let e = r.unwrap_err().to_string();
        assert!(e.contains("more than lz4 can expand"), "{e}");
        assert!(largest < 1 << 20, "allocated {largest} bytes");
        let (r, largest) = spindle_test_support::largest_allocation(|| {
            FrameStream::new(&bytes[..]).next_batch::<u32>()
        });
        assert!(
            r.unwrap_err()
                .to_string()
                .contains("more than lz4 can expand")
        );
        assert!(largest < 1 << 20, "allocated {largest} bytes");
    }

    #[test]
    fn the_lz4_expansion_bound_holds_for_the_most_compressible_data() {
        let raw = vec![0u8; 16 << 20];
        let c = lz4_flex::block::compress(&raw);
        assert!(raw.len() <= c.len() * MAX_LZ4_RATIO + 64, "{}", c.len());
        let mut w = FrameWriter::new(Vec::new());
        w.push(&vec![0u8; 8 << 20]).unwrap();
        let (bytes, _) = w.finish().unwrap();
        let back = FrameReader::new(bytes).next_batch::<Vec<u8>>().unwrap();
        assert_eq!(back.unwrap()[0].len(), 8 << 20);
    }

    #[test]
    fn a_spill_frame_claiming_more_than_the_file_holds_costs_only_the_file() {
        // 200 MiB compressed claimed, 3 bytes present.
        let mut bytes = header(200 << 20, 200 << 20, &[]);
        bytes.extend_from_slice(&[1, 2, 3]);
        let (r, largest) = spindle_test_support::largest_allocation(|| {
            FrameStream::new(&bytes[..]).next_batch::<u32>()
        });
        let e = r.unwrap_err().to_string();
        assert!(e.contains("truncated frame body: 3 of"), "{e}");
        assert!(largest < 1 << 20, "allocated {largest} bytes");
    }

    #[test]
    fn a_record_claiming_a_huge_string_is_refused_before_allocating_it() {
        // A String whose varint length prefix (0xfd: u64 follows) says 1 GiB.
        let mut rec = vec![0xfd];
        rec.extend_from_slice(&(1u64 << 30).to_le_bytes());
        rec.extend_from_slice(b"abc");
        let (r, largest) =
            spindle_test_support::largest_allocation(|| decode::<String>(&rec, "record"));
        let e = r.unwrap_err().to_string();
        assert!(e.contains("exceeds what its bytes can hold"), "{e}");
        assert!(largest < 2 << 20, "allocated {largest} bytes");
        // Inside a frame too.
        let raw = rec.clone();
        let c = lz4_flex::block::compress(&raw);
        let mut frame = header(c.len() as u32, raw.len() as u32, &c);
        frame.extend_from_slice(&c);
        let (r, largest) = spindle_test_support::largest_allocation(|| {
            FrameReader::new(frame).next_batch::<String>()
        });
        assert!(r.unwrap_err().to_string().contains("exceeds"));
        assert!(largest < 2 << 20, "allocated {largest} bytes");
    }

    #[test]
    fn the_record_limit_admits_every_valid_encoding() {
        // Varint integers claim up to 16 bytes of memory per byte of input.
        let small: Vec<u128> = (0..100_000).map(|i| i % 100).collect();
        assert_eq!(decode::<Vec<u128>>(&encode(&small), "v").unwrap(), small);
        let nested: Vec<(String, Option<Vec<u64>>)> = (0..10_000)
            .map(|i| (format!("k{i}"), (i % 3 == 0).then(|| vec![1, 2, 3])))
            .collect();
        let back: Vec<(String, Option<Vec<u64>>)> = decode(&encode(&nested), "v").unwrap();
        assert_eq!(back, nested);
        let big = "x".repeat(3 << 20);
        assert_eq!(decode::<String>(&encode(&big), "v").unwrap(), big);
    }
}
