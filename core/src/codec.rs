//! Record encoding: bincode 2 (standard config, varint integers) for values,
//! and lz4-compressed frames of many records for blocks on disk and the wire.
//!
//! A frame is `[compressed length: u32 LE][raw length: u32 LE][lz4 block]`;
//! the raw bytes are records encoded back to back.
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
const MAX_FRAME: usize = 256 * 1024 * 1024;
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
    written: u64,
}

impl<W: Write> FrameWriter<W> {
    /// A writer that appends frames to `out`.
    pub fn new(out: W) -> Self {
        FrameWriter {
            out,
            raw: Vec::with_capacity(FRAME_TARGET + 1024),
            written: 0,
        }
    }

    /// Adds one record.
    pub fn push<T: Serialize>(&mut self, record: &T) -> std::io::Result<()> {
        encode_into(record, &mut self.raw);
        if self.raw.len() >= FRAME_TARGET {
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
        if self.raw.is_empty() {
            return Ok(());
        }
        let compressed = lz4_flex::block::compress(&self.raw);
        self.out
            .write_all(&(compressed.len() as u32).to_le_bytes())?;
        self.out.write_all(&(self.raw.len() as u32).to_le_bytes())?;
        self.out.write_all(&compressed)?;
        self.written += 8 + compressed.len() as u64;
        self.raw.clear();
        Ok(())
    }

    /// Writes the last frame and gives back the sink and the bytes written.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        self.flush_frame()?;
        self.out.flush()?;
        Ok((self.out, self.written))
    }
}

/// Reads the frames of a block one at a time, each into a batch of records.
pub struct FrameReader {
    data: Vec<u8>,
    pos: usize,
}

impl FrameReader {
    /// Reads frames from a whole block held in memory.
    pub fn new(data: Vec<u8>) -> Self {
        FrameReader { data, pos: 0 }
    }

    /// The records of the next frame, or None at the end.
    pub fn next_batch<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let corrupt = |m: &str| Error::Decode {
            what: "shuffle frame",
            message: m.to_string(),
        };
        let header = self
            .data
            .get(self.pos..self.pos + 8)
            .ok_or_else(|| corrupt("truncated frame header"))?;
        let (clen, rlen) = frame_lengths(header, "shuffle frame")?;
        let start = self.pos + 8;
        let body = self
            .data
            .get(start..start + clen)
            .ok_or_else(|| corrupt("truncated frame body"))?;
        let out = decode_frame(body, rlen)?;
        self.pos = start + clen;
        Ok(Some(out))
    }
}

/// The compressed and raw lengths of an 8-byte frame header; a frame
/// claiming more than [`MAX_FRAME`] is corrupt.
fn frame_lengths(header: &[u8], what: &'static str) -> Result<(usize, usize)> {
    let len =
        |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes")) as usize;
    let (clen, rlen) = (len(0), len(4));
    let corrupt = |message: String| Err(Error::Decode { what, message });
    if rlen > MAX_FRAME || clen > MAX_FRAME {
        return corrupt("frame larger than 256 MiB".into());
    }
    if rlen > clen.saturating_mul(MAX_LZ4_RATIO) + 64 {
        return corrupt(format!(
            "frame claims {rlen} raw bytes from {clen} compressed (more than lz4 can expand)"
        ));
    }
    Ok((clen, rlen))
}

/// Decompresses one frame body and decodes its records.
fn decode_frame<T: DeserializeOwned>(body: &[u8], rlen: usize) -> Result<Vec<T>> {
    let raw = lz4_flex::block::decompress(body, rlen).map_err(|e| Error::Decode {
        what: "shuffle frame",
        message: e.to_string(),
    })?;
    if raw.len() != rlen {
        return Err(Error::Decode {
            what: "shuffle frame",
            message: format!("{} raw bytes where the header says {rlen}", raw.len()),
        });
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let (v, used) = decode_prefix::<T>(&raw[at..], "shuffle record")?;
        if used == 0 {
            // A record that takes no bytes cannot be told apart from the next one.
            return Err(Error::Decode {
                what: "shuffle record",
                message: "a record encoded in zero bytes".into(),
            });
        }
        at += used;
        out.push(v);
    }
    Ok(out)
}

/// Reads frames one at a time from a byte stream (a spill file), holding
/// only the current frame in memory.
pub struct FrameStream<R: Read> {
    inner: R,
    body: Vec<u8>,
}

impl<R: Read> FrameStream<R> {
    /// Reads frames from `inner`.
    pub fn new(inner: R) -> Self {
        FrameStream {
            inner,
            body: Vec::new(),
        }
    }

    /// The records of the next frame, or None at a clean end.
    pub fn next_batch<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>> {
        let corrupt = |m: String| Error::Decode {
            what: "spill frame",
            message: m,
        };
        let mut header = [0u8; 8];
        let mut got = 0;
        while got < header.len() {
            match self.inner.read(&mut header[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(corrupt("truncated frame header".into())),
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("reading a spill file", e)),
            }
        }
        let (clen, rlen) = frame_lengths(&header, "spill frame")?;
        // Grown as bytes arrive, so a header claiming more than the file holds
        // costs no more memory than the file.
        self.body.clear();
        let got = (&mut self.inner)
            .take(clen as u64)
            .read_to_end(&mut self.body)
            .map_err(|e| Error::io("reading a spill file", e))?;
        if got != clen {
            return Err(corrupt(format!(
                "truncated frame body: {got} of {clen} bytes"
            )));
        }
        decode_frame(&self.body, rlen).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let (mut bytes, _) = w.finish().unwrap();
        bytes.truncate(bytes.len() - 1);
        assert!(FrameReader::new(bytes).next_batch::<u32>().is_err());
        assert!(FrameReader::new(vec![1, 2, 3]).next_batch::<u32>().is_err());
        let huge = [0u8, 0, 0, 0, 255, 255, 255, 255];
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

    /// An 8-byte frame header with these lengths.
    fn header(clen: u32, rlen: u32) -> Vec<u8> {
        let mut h = clen.to_le_bytes().to_vec();
        h.extend_from_slice(&rlen.to_le_bytes());
        h
    }

    #[test]
    fn a_frame_claiming_a_huge_raw_length_is_refused_before_allocating_it() {
        // 256 MiB raw from 10 compressed bytes: lz4 cannot expand that much.
        let mut bytes = header(10, 256 << 20);
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
        let mut bytes = header(200 << 20, 200 << 20);
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
        let mut frame = header(c.len() as u32, raw.len() as u32);
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
