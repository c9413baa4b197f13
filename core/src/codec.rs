//! Record encoding: bincode 2 (standard config, varint integers) for values,
//! and lz4-compressed frames of many records for blocks on disk and the wire.
//!
//! A frame is `[compressed length: u32 LE][raw length: u32 LE][lz4 block]`;
//! the raw bytes are records encoded back to back.

use std::io::{Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

const CONFIG: bincode::config::Configuration = bincode::config::standard();
/// Raw bytes gathered before a frame is compressed and written.
pub const FRAME_TARGET: usize = 64 * 1024;
/// Frames larger than this are refused when decoding (corrupt input).
const MAX_FRAME: usize = 256 * 1024 * 1024;

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
pub fn decode_prefix<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<(T, usize)> {
    bincode::serde::decode_from_slice(bytes, CONFIG).map_err(|e| Error::Decode {
        what,
        message: e.to_string(),
    })
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
    if rlen > MAX_FRAME || clen > MAX_FRAME {
        return Err(Error::Decode {
            what,
            message: "frame larger than 256 MiB".into(),
        });
    }
    Ok((clen, rlen))
}

/// Decompresses one frame body and decodes its records.
fn decode_frame<T: DeserializeOwned>(body: &[u8], rlen: usize) -> Result<Vec<T>> {
    let raw = lz4_flex::block::decompress(body, rlen).map_err(|e| Error::Decode {
        what: "shuffle frame",
        message: e.to_string(),
    })?;
    let mut out = Vec::with_capacity(rlen / 16 + 1);
    let mut at = 0;
    while at < raw.len() {
        let (v, used) = decode_prefix::<T>(&raw[at..], "shuffle record")?;
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
        self.body.resize(clen, 0);
        self.inner
            .read_exact(&mut self.body)
            .map_err(|e| corrupt(format!("truncated frame body: {e}")))?;
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
}
