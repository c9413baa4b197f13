//! Hadoop's compression codecs for text files, chosen by file extension as
//! Hadoop's `CompressionCodecFactory` chooses them, as streams: a decoder
//! reads through a file once without holding it, an encoder writes as records
//! come.
//!
//! Formats, byte for byte what Hadoop's codecs read and write:
//! - `.gz` (`GzipCodec`): gzip; concatenated members are one stream.
//! - `.bz2` (`BZip2Codec`): bzip2; concatenated streams too.
//! - `.deflate` (`DefaultCodec`, `DeflateCodec`): a zlib stream (header and
//!   Adler-32 trailer), what `java.util.zip.Deflater` writes; concatenated
//!   streams are read.
//! - `.zst` (`ZStandardCodec`): zstd frames.
//! - `.snappy` (`SnappyCodec`) and `.lz4` (`Lz4Codec`): Hadoop's
//!   `BlockCompressorStream` framing, not the formats' own framing: blocks,
//!   each a big-endian u32 of its raw length, then chunks of a big-endian u32
//!   compressed length and a raw snappy or lz4 block, until the chunks
//!   decompress to the block's raw length.
//!
//! None of them is split: a compressed file is one partition.

use std::io::{self, BufRead, Read, Write};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A compression codec for text input and output, named as Hadoop names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Codec {
    /// gzip, `.gz` (Hadoop's `GzipCodec`).
    Gzip,
    /// bzip2, `.bz2` (`BZip2Codec`).
    Bzip2,
    /// snappy in Hadoop's block framing, `.snappy` (`SnappyCodec`).
    Snappy,
    /// lz4 in Hadoop's block framing, `.lz4` (`Lz4Codec`).
    Lz4,
    /// a zlib stream, `.deflate` (`DefaultCodec`).
    Deflate,
    /// zstd, `.zst` (`ZStandardCodec`).
    Zstd,
}

impl Codec {
    /// Every codec.
    pub const ALL: [Codec; 6] = [
        Codec::Gzip,
        Codec::Bzip2,
        Codec::Snappy,
        Codec::Lz4,
        Codec::Deflate,
        Codec::Zstd,
    ];

    /// The file extension Hadoop gives the codec's files, with its dot.
    pub fn extension(self) -> &'static str {
        match self {
            Codec::Gzip => ".gz",
            Codec::Bzip2 => ".bz2",
            Codec::Snappy => ".snappy",
            Codec::Lz4 => ".lz4",
            Codec::Deflate => ".deflate",
            Codec::Zstd => ".zst",
        }
    }

    /// The codec of a file by its name's extension, or `None` for plain text.
    pub fn for_path(path: &str) -> Option<Codec> {
        let name = path.rsplit('/').next().unwrap_or(path);
        Codec::ALL
            .into_iter()
            .find(|c| name.ends_with(c.extension()))
    }

    /// A codec by name: `gzip`, `bzip2`, `snappy`, `lz4`, `deflate`, `zstd`,
    /// an extension (`gz`, `.bz2`, `zst`...), or Hadoop's class name
    /// (`org.apache.hadoop.io.compress.GzipCodec`, or just `GzipCodec`), as
    /// Spark's `compression` options accept them.
    pub fn from_name(name: &str) -> Result<Codec> {
        let short = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
        let short = short.strip_suffix("codec").unwrap_or(&short);
        Ok(match short {
            "gzip" | "gz" => Codec::Gzip,
            "bzip2" | "bz2" => Codec::Bzip2,
            "snappy" => Codec::Snappy,
            "lz4" => Codec::Lz4,
            "deflate" | "default" | "zlib" => Codec::Deflate,
            "zstd" | "zst" | "zstandard" => Codec::Zstd,
            _ => {
                return Err(Error::Config(format!(
                    "unknown compression codec {name:?} (known: gzip, bzip2, snappy, lz4, deflate, zstd)"
                )));
            }
        })
    }

    /// The codec's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Bzip2 => "bzip2",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
            Codec::Deflate => "deflate",
            Codec::Zstd => "zstd",
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A reader of the decompressed bytes of `r`, a whole file in `codec`.
pub(crate) fn decoder<'a, R: BufRead + Send + 'a>(
    codec: Codec,
    r: R,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match codec {
        Codec::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Codec::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        Codec::Deflate => Box::new(MultiZlib(Some(flate2::bufread::ZlibDecoder::new(r)))),
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
        Codec::Snappy | Codec::Lz4 => Box::new(BlockDecoder::new(codec, r)),
    })
}

/// zlib streams back to back, read as one (Hadoop's `DecompressorStream`
/// starts over when a stream ends before the file does).
struct MultiZlib<R: BufRead>(Option<flate2::bufread::ZlibDecoder<R>>);

impl<R: BufRead> Read for MultiZlib<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(d) = self.0.as_mut() else {
                return Ok(0);
            };
            let n = d.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            let mut rest = self.0.take().expect("checked above").into_inner();
            if rest.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.0 = Some(flate2::bufread::ZlibDecoder::new(rest));
        }
    }
}

/// Hadoop's block framing: the most raw bytes one block holds, so that a
/// compressed chunk fits the 256 KiB buffer of Hadoop's decompressors
/// (`io.compression.codec.{snappy,lz4}.buffersize`): the buffer less the
/// codec's worst-case expansion, as Hadoop's own compressors reckon it.
fn block_raw_max(codec: Codec) -> usize {
    const BUFFER: usize = 256 * 1024;
    match codec {
        Codec::Snappy => BUFFER - (BUFFER / 6 + 32),
        _ => BUFFER - (BUFFER / 255 + 16),
    }
}

/// The largest compressed chunk a block-framed file may declare before its
/// bytes are read: Hadoop's own writers stay under 256 KiB, and a length
/// beyond this is damage, not data.
const CHUNK_MAX: usize = 64 << 20;

/// Reads Hadoop's block framing of snappy or lz4.
struct BlockDecoder<R> {
    codec: Codec,
    r: R,
    /// Raw bytes of the current block not yet produced.
    block_left: usize,
    comp: Vec<u8>,
    out: Vec<u8>,
    at: usize,
}

impl<R: Read> BlockDecoder<R> {
    fn new(codec: Codec, r: R) -> Self {
        BlockDecoder {
            codec,
            r,
            block_left: 0,
            comp: Vec::new(),
            out: Vec::new(),
            at: 0,
        }
    }

    /// A big-endian u32; `None` at a clean end of the input.
    fn read_u32(&mut self, what: &str) -> io::Result<Option<u32>> {
        let mut b = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match self.r.read(&mut b[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(corrupt(format!("{} {what} cut short", self.codec))),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Some(u32::from_be_bytes(b)))
    }

    /// Decompresses the next chunk into `out`; false at the end of the input.
    fn next_chunk(&mut self) -> io::Result<bool> {
        while self.block_left == 0 {
            match self.read_u32("block length")? {
                None => return Ok(false),
                Some(n) => self.block_left = n as usize,
            }
        }
        let len = self
            .read_u32("chunk length")?
            .ok_or_else(|| corrupt(format!("{} block ends before its data", self.codec)))?
            as usize;
        if len > CHUNK_MAX {
            return Err(corrupt(format!(
                "{} chunk of {len} bytes (at most {CHUNK_MAX})",
                self.codec
            )));
        }
        self.comp.resize(len, 0);
        self.r.read_exact(&mut self.comp).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                corrupt(format!("{} chunk of {len} bytes cut short", self.codec))
            } else {
                e
            }
        })?;
        let n = match self.codec {
            Codec::Snappy => {
                let n =
                    snap::raw::decompress_len(&self.comp).map_err(|e| corrupt(e.to_string()))?;
                if n > self.block_left {
                    return Err(corrupt(format!(
                        "snappy chunk of {n} bytes in a block with {} left",
                        self.block_left
                    )));
                }
                self.out.resize(n, 0);
                snap::raw::Decoder::new()
                    .decompress(&self.comp, &mut self.out)
                    .map_err(|e| corrupt(format!("snappy: {e}")))?
            }
            _ => {
                // lz4 expands at most 255-fold: no larger buffer than that.
                let cap = self
                    .block_left
                    .min(len.saturating_mul(255).saturating_add(16));
                self.out.resize(cap, 0);
                lz4_flex::block::decompress_into(&self.comp, &mut self.out)
                    .map_err(|e| corrupt(format!("lz4: {e}")))?
            }
        };
        self.out.truncate(n);
        self.block_left -= n;
        self.at = 0;
        Ok(true)
    }
}

impl<R: Read> Read for BlockDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.out.len() {
            if buf.is_empty() || !self.next_chunk()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn corrupt(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A writer that compresses into `W`; [`Encoder::finish`] writes the
/// codec's trailer and must be called.
pub(crate) enum Encoder<W: Write> {
    Gzip(flate2::write::GzEncoder<W>),
    Bzip2(bzip2::write::BzEncoder<W>),
    Deflate(flate2::write::ZlibEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
    Block(BlockEncoder<W>),
}

impl<W: Write> Encoder<W> {
    /// An encoder at Hadoop's default levels (gzip and zlib 6, bzip2's 900 k
    /// blocks, zstd 3).
    pub(crate) fn new(codec: Codec, w: W) -> io::Result<Encoder<W>> {
        Ok(match codec {
            Codec::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::new(6),
            )),
            Codec::Bzip2 => {
                Encoder::Bzip2(bzip2::write::BzEncoder::new(w, bzip2::Compression::best()))
            }
            Codec::Deflate => Encoder::Deflate(flate2::write::ZlibEncoder::new(
                w,
                flate2::Compression::new(6),
            )),
            Codec::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(w, 3)?),
            Codec::Snappy | Codec::Lz4 => Encoder::Block(BlockEncoder {
                codec,
                w,
                buf: Vec::new(),
                comp: Vec::new(),
            }),
        })
    }

    /// Writes what is buffered and the codec's trailer; gives the writer back.
    pub(crate) fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Gzip(e) => e.finish(),
            Encoder::Bzip2(e) => e.finish(),
            Encoder::Deflate(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
            Encoder::Block(mut e) => {
                e.emit_all()?;
                Ok(e.w)
            }
        }
    }

    fn inner(&mut self) -> &mut dyn Write {
        match self {
            Encoder::Gzip(e) => e,
            Encoder::Bzip2(e) => e,
            Encoder::Deflate(e) => e,
            Encoder::Zstd(e) => e,
            Encoder::Block(e) => e,
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner().flush()
    }
}

/// Writes Hadoop's block framing: one chunk per block, as Hadoop's own
/// compressors do for blocks that fit their buffer.
pub(crate) struct BlockEncoder<W> {
    codec: Codec,
    w: W,
    buf: Vec<u8>,
    comp: Vec<u8>,
}

impl<W: Write> BlockEncoder<W> {
    fn emit(&mut self, raw_len: usize) -> io::Result<()> {
        let raw = &self.buf[..raw_len];
        match self.codec {
            Codec::Snappy => {
                self.comp.resize(snap::raw::max_compress_len(raw.len()), 0);
                let n = snap::raw::Encoder::new()
                    .compress(raw, &mut self.comp)
                    .map_err(io::Error::other)?;
                self.comp.truncate(n);
            }
            _ => self.comp = lz4_flex::block::compress(raw),
        }
        self.w.write_all(&(raw.len() as u32).to_be_bytes())?;
        self.w.write_all(&(self.comp.len() as u32).to_be_bytes())?;
        self.w.write_all(&self.comp)?;
        self.buf.drain(..raw_len);
        Ok(())
    }

    fn emit_all(&mut self) -> io::Result<()> {
        while !self.buf.is_empty() {
            self.emit(self.buf.len().min(block_raw_max(self.codec)))?;
        }
        self.w.flush()
    }
}

impl<W: Write> Write for BlockEncoder<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let max = block_raw_max(self.codec);
        self.buf.extend_from_slice(data);
        while self.buf.len() >= max {
            self.emit(max)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("line {i} {}\n", "word ".repeat(i % 13)))
            .collect::<String>()
            .into_bytes()
    }

    fn compress(codec: Codec, data: &[u8], piece: usize) -> Vec<u8> {
        let mut e = Encoder::new(codec, Vec::new()).unwrap();
        for c in data.chunks(piece.max(1)) {
            e.write_all(c).unwrap();
        }
        e.finish().unwrap()
    }

    fn decompress(codec: Codec, bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        decoder(codec, bytes)?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn every_codec_round_trips_small_large_and_empty() {
        let big = text(40_000);
        assert!(big.len() > 3 * block_raw_max(Codec::Snappy));
        for codec in Codec::ALL {
            for data in [&b""[..], b"one line\n", &big] {
                for piece in [7, 1 << 20] {
                    let c = compress(codec, data, piece);
                    assert_eq!(
                        decompress(codec, &c).unwrap(),
                        data,
                        "{codec} piece {piece}"
                    );
                }
            }
        }
    }

    #[test]
    fn concatenated_streams_read_as_one() {
        for codec in [
            Codec::Gzip,
            Codec::Bzip2,
            Codec::Deflate,
            Codec::Zstd,
            Codec::Lz4,
        ] {
            let mut both = compress(codec, b"first\n", 64);
            both.extend(compress(codec, b"second\n", 64));
            assert_eq!(
                decompress(codec, &both).unwrap(),
                b"first\nsecond\n",
                "{codec}"
            );
        }
    }

    #[test]
    fn block_framing_is_hadoops() {
        // One block of 6 raw bytes, one chunk: [raw len][chunk len][snappy].
        let c = compress(Codec::Snappy, b"hello\n", 64);
        assert_eq!(&c[..4], &6u32.to_be_bytes());
        let len = u32::from_be_bytes(c[4..8].try_into().unwrap()) as usize;
        assert_eq!(c.len(), 8 + len);
        assert_eq!(
            snap::raw::Decoder::new().decompress_vec(&c[8..]).unwrap(),
            b"hello\n"
        );
        // A block whose raw bytes span two chunks (Hadoop writes these for one
        // write larger than its buffer): the block length covers both.
        let (a, b) = (b"abcabcabc".as_slice(), b"xyz\n".as_slice());
        let mut framed = ((a.len() + b.len()) as u32).to_be_bytes().to_vec();
        for part in [a, b] {
            let comp = lz4_flex::block::compress(part);
            framed.extend((comp.len() as u32).to_be_bytes());
            framed.extend(comp);
        }
        // Hadoop writes an empty block for an empty stream.
        framed.extend(0u32.to_be_bytes());
        assert_eq!(decompress(Codec::Lz4, &framed).unwrap(), b"abcabcabcxyz\n");
    }

    #[test]
    fn damaged_input_is_an_error_not_a_panic() {
        let big = text(2000);
        for codec in Codec::ALL {
            let c = compress(codec, &big, 1 << 20);
            let cut = &c[..c.len() / 2];
            assert!(decompress(codec, cut).is_err(), "{codec} cut");
        }
        // A chunk length claiming 4 GiB allocates nothing.
        let mut huge = 10u32.to_be_bytes().to_vec();
        huge.extend(u32::MAX.to_be_bytes());
        let e = decompress(Codec::Snappy, &huge).unwrap_err().to_string();
        assert!(e.contains("at most"), "{e}");
        // A block claiming 4 GiB of raw bytes: its one chunk is decoded into a
        // buffer sized by what lz4 could produce, then the missing rest is an error.
        let mut liar = u32::MAX.to_be_bytes().to_vec();
        let comp = lz4_flex::block::compress(b"x");
        liar.extend((comp.len() as u32).to_be_bytes());
        liar.extend(comp);
        let mut d = decoder(Codec::Lz4, &liar[..]).unwrap();
        let mut one = [0u8; 1];
        assert_eq!(d.read(&mut one).unwrap(), 1);
        let e = d.read(&mut one).unwrap_err().to_string();
        assert!(e.contains("ends before its data"), "{e}");
    }

    #[test]
    fn codecs_by_extension_and_name() {
        assert_eq!(
            Codec::for_path("hdfs://nn/d/part-00000.gz"),
            Some(Codec::Gzip)
        );
        assert_eq!(Codec::for_path("/d/x.txt.bz2"), Some(Codec::Bzip2));
        assert_eq!(Codec::for_path("/d/x.zst"), Some(Codec::Zstd));
        assert_eq!(Codec::for_path("/d/x.deflate"), Some(Codec::Deflate));
        assert_eq!(Codec::for_path("/d.gz/x.txt"), None);
        for c in Codec::ALL {
            assert_eq!(Codec::from_name(c.name()).unwrap(), c);
            assert_eq!(Codec::from_name(c.extension()).unwrap(), c);
        }
        assert_eq!(
            Codec::from_name("org.apache.hadoop.io.compress.GzipCodec").unwrap(),
            Codec::Gzip
        );
        assert_eq!(Codec::from_name("DefaultCodec").unwrap(), Codec::Deflate);
        assert_eq!(Codec::from_name("ZStandardCodec").unwrap(), Codec::Zstd);
        let e = Codec::from_name("lzo").unwrap_err().to_string();
        assert!(e.contains("unknown compression codec \"lzo\""), "{e}");
    }
}
