//! Reads the logs YARN aggregated into HDFS: Hadoop's TFile container
//! format (the default `yarn.log-aggregation.file-formats`), one file per
//! NodeManager. Only what `spindle logs` needs, uncompressed or with the
//! `gz` algorithm (`yarn.nodemanager.log-aggregation.compression-type`,
//! default `none`): TFile's gz is Hadoop's `DefaultCodec`, zlib streams, one
//! after another when the writer flushed within a block.
//!
//! Layout (facts from Hadoop's BCFile, TFile and AggregatedLogFormat):
//! the file ends with the meta index offset (i64), the BCFile version
//! (2 × i16) and a 16-byte magic; the meta index lists named regions
//! (offset, compressed size, raw size, each a TFile VLong), among them
//! `BCFile.index`, which lists the data blocks. Data blocks hold key/value
//! entries: a VInt key length and the key, then the value in chunks (a VInt
//! length, negative when more chunks follow). Keys are Java `writeUTF`
//! strings: `VERSION`, `APPLICATION_ACL`, `APPLICATION_OWNER`, or a
//! container id, whose value is, per log file: `writeUTF(name)`,
//! `writeUTF(decimal length)`, then the bytes.

/// The BCFile magic at the end of every TFile.
const MAGIC: [u8; 16] = [
    0xd1, 0x11, 0xd3, 0x68, 0x91, 0xb5, 0xd7, 0xb6, 0x39, 0xdf, 0x41, 0x40, 0x92, 0xba, 0xe1, 0x50,
];

use super::agglog::{AggregatedLog, LogFile, inflate};

type R<T> = Result<T, String>;

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    fn take(&mut self, n: usize, what: &str) -> R<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("truncated {what} at byte {}", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self, what: &str) -> R<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn be(&mut self, n: usize, what: &str) -> R<i64> {
        let b = self.take(n, what)?;
        // Sign-extend a big-endian two's complement number of n bytes.
        let mut v: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
        for &x in b {
            v = (v << 8) | x as i64;
        }
        Ok(v)
    }

    fn ube(&mut self, n: usize, what: &str) -> R<i64> {
        let b = self.take(n, what)?;
        Ok(b.iter().fold(0i64, |v, &x| (v << 8) | x as i64))
    }

    /// TFile's `Utils.readVLong`.
    fn vlong(&mut self, what: &str) -> R<i64> {
        let first = self.byte(what)? as i8 as i64;
        if first >= -32 {
            return Ok(first);
        }
        Ok(match (first + 128) / 8 {
            7..=11 => ((first + 52) << 8) | self.ube(1, what)?,
            3..=6 => ((first + 88) << 16) | self.ube(2, what)?,
            1 | 2 => ((first + 112) << 24) | self.ube(3, what)?,
            0 => {
                let len = (first + 129) as usize;
                if !(4..=8).contains(&len) {
                    return Err(format!("corrupt VLong in {what}"));
                }
                self.be(len, what)?
            }
            _ => return Err(format!("corrupt VLong in {what}")),
        })
    }

    fn vint(&mut self, what: &str) -> R<i64> {
        let v = self.vlong(what)?;
        if v < i32::MIN as i64 || v > i32::MAX as i64 {
            return Err(format!("{what}: {v} does not fit an int"));
        }
        Ok(v)
    }

    /// TFile's `Utils.readString`: VInt length (-1 = null), UTF-8 bytes.
    fn string(&mut self, what: &str) -> R<String> {
        let n = self.vint(what)?;
        if n < 0 {
            return Ok(String::new());
        }
        Ok(String::from_utf8_lossy(self.take(n as usize, what)?).into_owned())
    }

    /// Java's `DataInput.readUTF`: u16 length, (modified) UTF-8.
    fn utf(&mut self, what: &str) -> R<String> {
        let n = self.ube(2, what)? as usize;
        Ok(String::from_utf8_lossy(self.take(n, what)?).into_owned())
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }
}

#[derive(Debug)]
struct Region {
    offset: usize,
    size: usize,
}

fn region(c: &mut Cursor<'_>, what: &str) -> R<(Region, i64)> {
    let offset = c.vlong(what)?;
    let size = c.vlong(what)?;
    let raw = c.vlong(what)?;
    if offset < 0 || size < 0 {
        return Err(format!("negative region in {what}"));
    }
    Ok((
        Region {
            offset: offset as usize,
            size: size as usize,
        },
        raw,
    ))
}

fn slice<'a>(file: &'a [u8], r: &Region, what: &str) -> R<&'a [u8]> {
    r.offset
        .checked_add(r.size)
        .filter(|&e| e <= file.len())
        .map(|e| &file[r.offset..e])
        .ok_or_else(|| format!("{what} region lies outside the file"))
}

/// Decodes one aggregated log file (the whole file in memory).
pub(crate) fn decode(file: &[u8]) -> R<AggregatedLog> {
    if file.len() < 28 || file[file.len() - 16..] != MAGIC {
        return Err("not a TFile (no BCFile magic at the end)".into());
    }
    let mut tail = Cursor::new(&file[file.len() - 28..]);
    let meta_offset = tail.be(8, "meta index offset")?;
    let major = tail.be(2, "version")?;
    if major != 1 {
        return Err(format!("BCFile version {major} (expected 1)"));
    }
    let meta_offset = usize::try_from(meta_offset)
        .ok()
        .filter(|&o| o <= file.len() - 28)
        .ok_or("meta index offset lies outside the file")?;
    let mut meta = Cursor::new(&file[meta_offset..file.len() - 28]);
    let n = meta.vint("meta index")?;
    let mut data_index = None;
    for _ in 0..n.max(0) {
        let name = meta.string("meta index name")?;
        let algo = meta.string("meta index compression")?;
        let (r, raw) = region(&mut meta, "meta index region")?;
        if name == "data:BCFile.index" {
            data_index = Some((algo, r, raw));
        }
    }
    let (algo, r, raw) = data_index.ok_or("no BCFile.index meta block")?;
    let index = block(slice(file, &r, "BCFile.index")?, &algo, raw, "BCFile.index")?;
    let mut idx = Cursor::new(&index);
    let default_algo = idx.string("data index compression")?;
    let blocks = idx.vint("data block count")?;
    let mut out = AggregatedLog::default();
    // Data blocks of a real TFile do not overlap; an index naming one region
    // many times would otherwise copy it as often as it likes.
    let mut regions: Vec<(Region, i64)> = Vec::new();
    for _ in 0..blocks.max(0) {
        let (r, raw) = region(&mut idx, "data block region")?;
        if let Some((p, _)) = regions.last()
            && r.offset < p.offset.saturating_add(p.size)
        {
            return Err(format!(
                "data block at byte {} starts inside the one before (overlapping regions)",
                r.offset
            ));
        }
        regions.push((r, raw));
    }
    for (r, raw) in &regions {
        let data = block(
            slice(file, r, "data block")?,
            &default_algo,
            *raw,
            "data block",
        )?;
        let mut b = Cursor::new(&data);
        while !b.done() {
            let klen = b.vint("key length")?;
            let key_bytes = b.take(klen.max(0) as usize, "key")?;
            let value = chunks(&mut b)?;
            entry(key_bytes, &value, &mut out)?;
        }
    }
    Ok(out)
}

/// A block's bytes: as stored (`none`), or inflated (`gz`) to exactly the
/// raw size its index gives.
fn block<'a>(stored: &'a [u8], algo: &str, raw: i64, what: &str) -> R<std::borrow::Cow<'a, [u8]>> {
    match algo {
        "none" => Ok(stored.into()),
        "gz" => {
            let out = inflate(stored, raw, what)?;
            if out.len() as i64 != raw {
                return Err(format!(
                    "{what}: inflates to {} bytes, its index says {raw}",
                    out.len()
                ));
            }
            Ok(out.into())
        }
        other => Err(super::agglog::unknown_compression(other)),
    }
}

/// A TFile value: chunks until one with a non-negative length.
fn chunks(b: &mut Cursor<'_>) -> R<Vec<u8>> {
    let mut v = Vec::new();
    loop {
        let n = b.vint("value chunk length")?;
        let last = n >= 0;
        v.extend_from_slice(b.take(n.unsigned_abs() as usize, "value chunk")?);
        if last {
            return Ok(v);
        }
    }
}

fn entry(key: &[u8], value: &[u8], out: &mut AggregatedLog) -> R<()> {
    let key = Cursor::new(key).utf("log key")?;
    let mut v = Cursor::new(value);
    match key.as_str() {
        "VERSION" | "APPLICATION_ACL" => {}
        "APPLICATION_OWNER" => out.owner = Some(v.utf("application owner")?),
        container => {
            while !v.done() {
                let name = v.utf("log file name")?;
                let len: usize = v
                    .utf("log file length")?
                    .trim()
                    .parse()
                    .map_err(|_| format!("log {name} of {container}: bad length"))?;
                let contents = v.take(len, "log file contents")?.to_vec();
                out.files.push(LogFile {
                    container: container.to_string(),
                    name,
                    contents,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TFile's `Utils.writeVLong`, written here from its documented
    /// encoding, to check the reader on every length class.
    fn write_vlong(out: &mut Vec<u8>, n: i64) {
        if (-32..128).contains(&n) {
            out.push(n as u8);
            return;
        }
        if (-(20 << 8)..(20 << 8)).contains(&n) {
            out.push(((n >> 8) - 52) as u8);
            out.push(n as u8);
        } else if (-(16 << 16)..(16 << 16)).contains(&n) {
            out.push(((n >> 16) - 88) as u8);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if (-(8 << 24)..(8 << 24)).contains(&n) {
            out.push(((n >> 24) - 112) as u8);
            out.extend_from_slice(&((n >> 8) as u16).to_be_bytes());
            out.push(n as u8);
        } else {
            out.push((8 - 129) as u8);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }

    #[test]
    fn vlongs_decode_in_every_length_class() {
        for n in [
            0i64,
            1,
            -1,
            -32,
            127,
            128,
            -33,
            5000,
            -5000,
            1 << 20,
            -(1 << 20),
            100 << 24,
            i64::MAX,
            i64::MIN,
        ] {
            let mut b = Vec::new();
            write_vlong(&mut b, n);
            let mut c = Cursor::new(&b);
            assert_eq!(c.vlong("t").unwrap(), n, "{n} as {b:?}");
            assert!(c.done());
        }
        assert!(Cursor::new(&[0x80u8 + 2]).vlong("t").is_err());
        assert!(Cursor::new(&[]).vlong("t").is_err());
    }

    fn utf(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    fn string(out: &mut Vec<u8>, s: &str) {
        write_vlong(out, s.len() as i64);
        out.extend_from_slice(s.as_bytes());
    }

    /// A minimal file in the documented layout: one data block, two chunks in one value.
    fn sample() -> Vec<u8> {
        sample_listing_the_block(1, false)
    }

    use crate::yarn::agglog::tests::zlib;

    /// The same file with an index that lists its one data block `times` times,
    /// its data block and index compressed with `gz` when asked.
    fn sample_listing_the_block(times: i64, gz: bool) -> Vec<u8> {
        let mut block = Vec::new();
        let mut kv = |key: &str, value: &[u8], split: bool| {
            let mut k = Vec::new();
            utf(&mut k, key);
            write_vlong(&mut block, k.len() as i64);
            block.extend_from_slice(&k);
            if split && value.len() > 3 {
                write_vlong(&mut block, -3);
                block.extend_from_slice(&value[..3]);
                write_vlong(&mut block, value.len() as i64 - 3);
                block.extend_from_slice(&value[3..]);
            } else {
                write_vlong(&mut block, value.len() as i64);
                block.extend_from_slice(value);
            }
        };
        kv("VERSION", &1i32.to_be_bytes(), false);
        let mut owner = Vec::new();
        utf(&mut owner, "alice");
        kv("APPLICATION_OWNER", &owner, false);
        let mut logs = Vec::new();
        for (name, body) in [("stderr", "warn\n"), ("stdout", "hello world\n")] {
            utf(&mut logs, name);
            utf(&mut logs, &body.len().to_string());
            logs.extend_from_slice(body.as_bytes());
        }
        kv("container_1_0001_01_000001", &logs, true);
        let algo = if gz { "gz" } else { "none" };
        let stored = if gz { zlib(&block, 2) } else { block.clone() };
        let mut file = stored.clone();
        let index_at = file.len();
        let mut index = Vec::new();
        string(&mut index, algo);
        write_vlong(&mut index, times);
        for _ in 0..times {
            for v in [0, stored.len() as i64, block.len() as i64] {
                write_vlong(&mut index, v);
            }
        }
        let stored_index = if gz { zlib(&index, 1) } else { index.clone() };
        file.extend_from_slice(&stored_index);
        let meta_at = file.len() as i64;
        write_vlong(&mut file, 1);
        string(&mut file, "data:BCFile.index");
        string(&mut file, algo);
        for v in [
            index_at as i64,
            stored_index.len() as i64,
            index.len() as i64,
        ] {
            write_vlong(&mut file, v);
        }
        file.extend_from_slice(&meta_at.to_be_bytes());
        file.extend_from_slice(&[0, 1, 0, 0]);
        file.extend_from_slice(&MAGIC);
        file
    }

    #[test]
    fn decodes_containers_and_their_files() {
        let log = decode(&sample()).unwrap();
        assert_eq!(log.owner.as_deref(), Some("alice"));
        assert_eq!(log.files.len(), 2);
        assert_eq!(log.files[1].container, "container_1_0001_01_000001");
        assert_eq!(log.files[1].name, "stdout");
        assert_eq!(log.files[1].contents, b"hello world\n");
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        let good = sample();
        assert!(decode(b"hello").is_err());
        for cut in [1, 5, 20, 40, good.len() / 2] {
            let mut bad = good[..good.len() - 28 - cut.min(good.len() - 28)].to_vec();
            bad.extend_from_slice(&good[good.len() - 28..]);
            let _ = decode(&bad); // must not panic
        }
        let mut flipped = good.clone();
        for i in 0..flipped.len() - 16 {
            flipped[i] ^= 0xff;
            let _ = decode(&flipped);
            flipped[i] ^= 0xff;
        }
    }

    #[test]
    fn an_index_repeating_a_block_cannot_multiply_the_output() {
        assert_eq!(
            decode(&sample_listing_the_block(1, false))
                .unwrap()
                .files
                .len(),
            2
        );
        // 10 000 entries of 3 bytes each point at one block: a small file
        // that would otherwise decode to 10 000 copies of its logs.
        let e = decode(&sample_listing_the_block(10_000, false)).unwrap_err();
        assert!(e.contains("overlapping regions"), "{e}");
        let e = decode(&sample_listing_the_block(10_000, true)).unwrap_err();
        assert!(e.contains("overlapping regions"), "{e}");
    }

    #[test]
    fn gz_blocks_of_several_zlib_streams_inflate_to_their_raw_size() {
        let plain = decode(&sample()).unwrap();
        let gz = decode(&sample_listing_the_block(1, true)).unwrap();
        assert_eq!(gz.files, plain.files);
        assert_eq!(gz.owner.as_deref(), Some("alice"));
        // A raw size that is not what the block inflates to, or absurd, is an error.
        let stored = zlib(b"abcdef", 1);
        assert_eq!(&*block(&stored, "gz", 6, "t").unwrap(), b"abcdef");
        assert!(
            block(&stored, "gz", 5, "t")
                .unwrap_err()
                .contains("index says 5")
        );
        assert!(
            block(&stored, "gz", 7, "t")
                .unwrap_err()
                .contains("index says 7")
        );
        assert!(
            block(&stored, "gz", 1 << 40, "t")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(block(b"garbage", "gz", 6, "t").is_err());
        assert!(
            block(&stored, "lzo", 6, "t")
                .unwrap_err()
                .contains("\"lzo\"")
        );
    }
}
