//! Hadoop's SequenceFile (version 6, what `SequenceFile.Writer` writes), read
//! as a stream of records: uncompressed, record-compressed (each value a
//! codec stream) and block-compressed (blocks of four codec streams: key
//! lengths, keys, value lengths, values), with the codecs of [`super::Codec`].
//!
//! Layout: `SEQ` and the version byte; the key and value class names (a
//! vint length and UTF-8); a compressed and a block-compressed flag; the
//! codec's class name when compressed; metadata (a big-endian i32 count of
//! Text pairs); a 16-byte sync marker. Records are a big-endian i32 record
//! length and i32 key length, then the serialized key and value; a record
//! length of -1 is followed by the sync marker. Blocks are the -1 escape and
//! the sync, a vint record count, then the four buffers, each a vint length
//! and its compressed bytes. Keys and values are the Writables' serialized
//! forms: [`Writable`] decodes `Text` and `BytesWritable`.

use std::collections::VecDeque;
use std::io::{self, Read};

use super::compress::{self, Codec};
use crate::{Error, Result};

/// A record type that a SequenceFile holds, by Hadoop's Writable class.
pub trait Writable: crate::Data {
    /// Hadoop's class name of the Writable.
    const CLASS: &'static str;
    /// The value from its serialized form.
    fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String>;
}

/// `org.apache.hadoop.io.Text`: a vint length and UTF-8 bytes.
impl Writable for String {
    const CLASS: &'static str = "org.apache.hadoop.io.Text";
    fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let mut r = bytes;
        let n = read_vlong(&mut r).map_err(|e| e.to_string())?;
        if n < 0 || n as usize != r.len() {
            return Err(format!("a Text of {n} bytes in {} bytes", r.len()));
        }
        String::from_utf8(r.to_vec()).map_err(|e| format!("a Text that is not UTF-8: {e}"))
    }
}

/// `org.apache.hadoop.io.BytesWritable`: a big-endian i32 length and the bytes.
impl Writable for Vec<u8> {
    const CLASS: &'static str = "org.apache.hadoop.io.BytesWritable";
    fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let (len, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or("a BytesWritable shorter than its length")?;
        let n = i32::from_be_bytes(*len);
        if n < 0 || n as usize != rest.len() {
            return Err(format!(
                "a BytesWritable of {n} bytes in {} bytes",
                rest.len()
            ));
        }
        Ok(rest.to_vec())
    }
}

fn bad(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Hadoop's `WritableUtils.readVLong`.
fn read_vlong(r: &mut impl Read) -> io::Result<i64> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    let first = b[0] as i8;
    if first >= -112 {
        return Ok(first as i64);
    }
    let negative = first < -120;
    let len = if negative {
        -(first as i32 + 120)
    } else {
        -(first as i32 + 112)
    };
    let mut v: i64 = 0;
    for _ in 0..len {
        r.read_exact(&mut b)?;
        v = (v << 8) | b[0] as i64;
    }
    Ok(if negative { !v } else { v })
}

/// A length read from the file, checked against a bound before anything is
/// allocated for it.
fn length(n: i64, what: &str) -> io::Result<usize> {
    const MAX: i64 = 256 << 20;
    if !(0..=MAX).contains(&n) {
        return Err(bad(format!("{what} of {n} bytes (at most {MAX})")));
    }
    Ok(n as usize)
}

fn read_bytes(r: &mut impl Read, n: usize, what: &str) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(n as u64).read_to_end(&mut buf)?;
    if buf.len() != n {
        return Err(bad(format!("{what} cut short")));
    }
    Ok(buf)
}

fn read_i32(r: &mut impl Read) -> io::Result<Option<i32>> {
    let mut b = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut b[got..])? {
            0 if got == 0 => return Ok(None),
            0 => return Err(bad("a record length cut short")),
            n => got += n,
        }
    }
    Ok(Some(i32::from_be_bytes(b)))
}

fn read_text(r: &mut impl Read, what: &str) -> io::Result<String> {
    let n = length(read_vlong(r)?, what)?;
    String::from_utf8(read_bytes(r, n, what)?).map_err(|_| bad(format!("{what} is not UTF-8")))
}

/// The records of one SequenceFile, as serialized keys and values.
pub(crate) struct SeqReader<R> {
    r: R,
    /// Hadoop's class names of the keys and values.
    pub(crate) key_class: String,
    pub(crate) value_class: String,
    codec: Option<Codec>,
    block: bool,
    sync: [u8; 16],
    pending: VecDeque<(Vec<u8>, Vec<u8>)>,
}

impl<R: Read> SeqReader<R> {
    /// Reads the header.
    pub(crate) fn new(mut r: R) -> io::Result<SeqReader<R>> {
        let mut magic = [0u8; 4];
        r.read_exact(&mut magic)
            .map_err(|_| bad("not a SequenceFile (shorter than its header)"))?;
        if &magic[..3] != b"SEQ" {
            return Err(bad("not a SequenceFile (no SEQ magic)"));
        }
        if magic[3] != 6 {
            return Err(bad(format!(
                "SequenceFile version {} (only version 6, Hadoop 0.17 and later, is read)",
                magic[3]
            )));
        }
        let key_class = read_text(&mut r, "the key class")?;
        let value_class = read_text(&mut r, "the value class")?;
        let mut flags = [0u8; 2];
        r.read_exact(&mut flags)?;
        let (compressed, block) = (flags[0] != 0, flags[1] != 0);
        let codec = if compressed {
            let name = read_text(&mut r, "the codec class")?;
            Some(Codec::from_name(&name).map_err(|e| bad(e.to_string()))?)
        } else {
            None
        };
        let count = read_i32(&mut r)?.ok_or_else(|| bad("metadata cut short"))?;
        for _ in 0..length(count as i64, "metadata")? {
            read_text(&mut r, "a metadata key")?;
            read_text(&mut r, "a metadata value")?;
        }
        let mut sync = [0u8; 16];
        r.read_exact(&mut sync)?;
        Ok(SeqReader {
            r,
            key_class,
            value_class,
            codec,
            block: block && compressed,
            sync,
            pending: VecDeque::new(),
        })
    }

    fn check_sync(&mut self) -> io::Result<()> {
        let mut s = [0u8; 16];
        self.r.read_exact(&mut s)?;
        if s != self.sync {
            return Err(bad("a sync marker that is not the file's (damaged file)"));
        }
        Ok(())
    }

    fn decompress(&self, bytes: &[u8], what: &str) -> io::Result<Vec<u8>> {
        let codec = self.codec.expect("only compressed files decompress");
        let mut out = Vec::new();
        compress::decoder(codec, bytes)?
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("{what} ({codec}): {e}")))?;
        Ok(out)
    }

    /// The next record's serialized key and value, or `None` at the end.
    pub(crate) fn next(&mut self) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        if self.block {
            while self.pending.is_empty() {
                if !self.next_block()? {
                    return Ok(None);
                }
            }
            return Ok(self.pending.pop_front());
        }
        loop {
            let Some(len) = read_i32(&mut self.r)? else {
                return Ok(None);
            };
            if len == -1 {
                self.check_sync()?;
                continue;
            }
            let len = length(len as i64, "a record")?;
            let key_len = read_i32(&mut self.r)?.ok_or_else(|| bad("a record cut short"))?;
            let key_len = length(key_len as i64, "a key")?;
            if key_len > len {
                return Err(bad(format!(
                    "a key of {key_len} bytes in a record of {len}"
                )));
            }
            let key = read_bytes(&mut self.r, key_len, "a key")?;
            let value = read_bytes(&mut self.r, len - key_len, "a value")?;
            let value = match self.codec {
                Some(_) => self.decompress(&value, "a value")?,
                None => value,
            };
            return Ok(Some((key, value)));
        }
    }

    /// Reads one compressed block into `pending`; false at the end.
    fn next_block(&mut self) -> io::Result<bool> {
        match read_i32(&mut self.r)? {
            None => return Ok(false),
            Some(-1) => self.check_sync()?,
            Some(n) => {
                return Err(bad(format!(
                    "a block that starts with {n}, not a sync marker"
                )));
            }
        }
        let count = length(read_vlong(&mut self.r)?, "a block's record count")?;
        let mut buffers = Vec::with_capacity(4);
        for what in ["key lengths", "keys", "value lengths", "values"] {
            let n = length(read_vlong(&mut self.r)?, what)?;
            let raw = read_bytes(&mut self.r, n, what)?;
            buffers.push(self.decompress(&raw, what)?);
        }
        let (mut klens, mut keys) = (&buffers[0][..], &buffers[1][..]);
        let (mut vlens, mut values) = (&buffers[2][..], &buffers[3][..]);
        for _ in 0..count {
            let k = length(read_vlong(&mut klens)?, "a key")?;
            let v = length(read_vlong(&mut vlens)?, "a value")?;
            let key = read_bytes(&mut keys, k, "a block's keys")?;
            let value = read_bytes(&mut values, v, "a block's values")?;
            self.pending.push_back((key, value));
        }
        Ok(true)
    }
}

/// Decodes a record into the engine's types, naming the file on a mismatch.
pub(crate) fn decode<K: Writable, V: Writable>(
    path: &str,
    (k, v): (Vec<u8>, Vec<u8>),
) -> Result<(K, V)> {
    let err = |what: &str, e: String| Error::Task(format!("{path}: a {what}: {e}"));
    Ok((
        K::from_bytes(&k).map_err(|e| err("key", e))?,
        V::from_bytes(&v).map_err(|e| err("value", e))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlongs_decode_as_hadoops_writable_utils() {
        // Encodings from WritableUtils.writeVLong's rules.
        for (bytes, v) in [
            (&[0x00][..], 0i64),
            (&[0x7f], 127),
            (&[0x90], -112),
            (&[0x8f, 0x80], 128),
            (&[0x8e, 0x01, 0x00], 256),
            (&[0x87, 0x70], -113),
            (&[0x8c, 0x7f, 0xff, 0xff, 0xff], i32::MAX as i64),
        ] {
            assert_eq!(read_vlong(&mut &bytes[..]).unwrap(), v, "{bytes:?}");
        }
    }

    #[test]
    fn damaged_headers_are_errors() {
        let e = SeqReader::new(&b"PAR1xxxx"[..]).err().unwrap().to_string();
        assert!(e.contains("no SEQ magic"), "{e}");
        let e = SeqReader::new(&b"SEQ\x05"[..]).err().unwrap().to_string();
        assert!(e.contains("version 5"), "{e}");
        // A class name claiming 2 GiB allocates nothing.
        let e = SeqReader::new(&b"SEQ\x06\x8c\x7f\xff\xff\xff"[..])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("at most"), "{e}");
    }

    #[test]
    fn writables_decode_and_refuse_bad_lengths() {
        assert_eq!(String::from_bytes(b"\x03abc").unwrap(), "abc");
        assert!(String::from_bytes(b"\x05abc").is_err());
        assert_eq!(
            Vec::<u8>::from_bytes(b"\0\0\0\x02\x01\x02").unwrap(),
            [1, 2]
        );
        assert!(Vec::<u8>::from_bytes(b"\0\0\0\x09\x01").is_err());
    }
}
