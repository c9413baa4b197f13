//! A small, bounded reader of Java object serialization
//! (`java.io.ObjectOutputStream`, stream version 5), for the one place
//! Hadoop stores Java-serialized data that `spindle logs` must read: the
//! index of an IFile aggregated log ([`super::ifile`]).
//!
//! It builds a plain tree of what the stream says (objects with their
//! fields by name, as the stream's class descriptors name them, plus the
//! objects a class's `writeObject` wrote after its fields, which is where
//! `ArrayList` and `HashMap` keep their elements) and never loads or runs
//! anything. Arrays, proxy classes, class objects and externalizable data
//! without block framing are refused, as are nesting deeper than
//! [`MAX_DEPTH`]; every length is checked against the bytes that remain.
//!
//! Grammar facts (Java Object Serialization Specification, chapter 6): the
//! stream starts `AC ED 00 05`; handles count up from `0x7E0000` in the
//! order new strings, class descriptors, objects and enum constants appear
//! (a class descriptor's handle is taken before its field type names are
//! read); an object's data runs from its topmost serializable class down.

use std::rc::Rc;

/// Objects nested deeper than this are refused (Hadoop's index nests 5).
pub(crate) const MAX_DEPTH: usize = 32;

const MAGIC: [u8; 4] = [0xac, 0xed, 0x00, 0x05];
const BASE_HANDLE: i64 = 0x7e_0000;

const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_CLASS: u8 = 0x76;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_RESET: u8 = 0x79;
const TC_BLOCKDATALONG: u8 = 0x7a;
const TC_EXCEPTION: u8 = 0x7b;
const TC_LONGSTRING: u8 = 0x7c;
const TC_PROXYCLASSDESC: u8 = 0x7d;
const TC_ENUM: u8 = 0x7e;

const SC_WRITE_METHOD: u8 = 0x01;
const SC_SERIALIZABLE: u8 = 0x02;
const SC_EXTERNALIZABLE: u8 = 0x04;
const SC_BLOCK_DATA: u8 = 0x08;

/// What went wrong and at which byte of the serialized data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadError {
    pub offset: usize,
    pub message: String,
}

type R<T> = Result<T, ReadError>;

/// A value in the stream. Objects live in [`Stream::objects`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    /// byte, char, short, int, long.
    Int(i64),
    /// float, double.
    Float(f64),
    Bool(bool),
    Str(Rc<str>),
    Enum {
        class: Rc<str>,
        name: Rc<str>,
    },
    Object(usize),
}

/// An object's fields by name, topmost class first.
type Fields = Vec<(Rc<str>, Value)>;

/// One deserialized object.
#[derive(Debug, Default)]
pub(crate) struct Object {
    pub class: Rc<str>,
    /// Where its `TC_OBJECT` byte is in the stream.
    pub at: usize,
    /// Fields of every serializable class of the object, topmost first.
    pub fields: Fields,
    /// The objects a `writeObject` method wrote after the fields (block
    /// data left out): a list's elements, a map's keys and values in turn.
    pub written: Vec<Value>,
}

impl Object {
    /// A field by name (the lowest class's, when two classes share a name).
    pub(crate) fn field(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }
}

/// A whole stream's first object and every object it reaches.
#[derive(Debug)]
pub(crate) struct Stream {
    pub root: Value,
    pub objects: Vec<Object>,
}

#[derive(Debug)]
struct Field {
    name: Rc<str>,
    kind: u8,
}

#[derive(Debug)]
struct ClassDesc {
    name: Rc<str>,
    flags: u8,
    fields: Vec<Field>,
    parent: Option<Rc<ClassDesc>>,
}

#[derive(Debug, Clone)]
enum Handle {
    /// Taken, not yet complete (a class descriptor or enum being read).
    Pending,
    Class(Rc<ClassDesc>),
    Value(Value),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    handles: Vec<Handle>,
    objects: Vec<Object>,
}

/// Reads the first object of a serialized stream.
pub(crate) fn read(buf: &[u8]) -> R<Stream> {
    let mut r = Reader {
        buf,
        pos: 0,
        handles: Vec::new(),
        objects: Vec::new(),
    };
    if r.take(4)? != MAGIC {
        return Err(ReadError {
            offset: 0,
            message: "not a Java serialization stream (no AC ED 00 05 header)".into(),
        });
    }
    let root = r.content(0)?;
    Ok(Stream {
        root,
        objects: r.objects,
    })
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, at: usize, message: impl Into<String>) -> R<T> {
        Err(ReadError {
            offset: at,
            message: message.into(),
        })
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        match self.pos.checked_add(n).filter(|&e| e <= self.buf.len()) {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => self.fail(
                self.pos,
                format!(
                    "truncated: {n} bytes wanted, {} left",
                    self.buf.len() - self.pos
                ),
            ),
        }
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    fn peek(&self) -> R<u8> {
        match self.buf.get(self.pos) {
            Some(&b) => Ok(b),
            None => self.fail(self.pos, "truncated: the stream ends inside an object"),
        }
    }

    fn be(&mut self, n: usize) -> R<i64> {
        let b = self.take(n)?;
        let mut v: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
        for &x in b {
            v = (v << 8) | x as i64;
        }
        Ok(v)
    }

    /// `DataInput.readUTF`: a u16 length, then modified UTF-8.
    fn utf(&mut self) -> R<Rc<str>> {
        let n = self.take(2)?;
        let n = u16::from_be_bytes([n[0], n[1]]) as usize;
        Ok(modified_utf8(self.take(n)?).into())
    }

    fn new_handle(&mut self, h: Handle) -> usize {
        self.handles.push(h);
        self.handles.len() - 1
    }

    fn handle(&mut self) -> R<Handle> {
        let at = self.pos;
        let raw = self.be(4)?;
        let index = raw - BASE_HANDLE;
        match usize::try_from(index)
            .ok()
            .and_then(|i| self.handles.get(i))
        {
            Some(Handle::Pending) => self.fail(
                at,
                format!("reference 0x{raw:x} to an object still being read"),
            ),
            Some(h) => Ok(h.clone()),
            None => self.fail(
                at,
                format!(
                    "reference 0x{raw:x} to no earlier object ({} so far)",
                    self.handles.len()
                ),
            ),
        }
    }

    /// One `content` element that is an object (or null, a string, an enum,
    /// a back-reference).
    fn content(&mut self, depth: usize) -> R<Value> {
        let at = self.pos;
        if depth > MAX_DEPTH {
            return self.fail(at, format!("objects nested deeper than {MAX_DEPTH}"));
        }
        match self.u8()? {
            TC_NULL => Ok(Value::Null),
            TC_REFERENCE => match self.handle()? {
                Handle::Value(v) => Ok(v),
                _ => self.fail(
                    at,
                    "a reference to a class descriptor where a value belongs",
                ),
            },
            TC_STRING => {
                let s = self.utf()?;
                self.new_handle(Handle::Value(Value::Str(s.clone())));
                Ok(Value::Str(s))
            }
            TC_LONGSTRING => {
                let n = self.be(8)?;
                let n = usize::try_from(n)
                    .ok()
                    .filter(|&n| n <= self.buf.len() - self.pos)
                    .map_or_else(|| self.fail(at, format!("string of {n} bytes")), Ok)?;
                let s: Rc<str> = modified_utf8(self.take(n)?).into();
                self.new_handle(Handle::Value(Value::Str(s.clone())));
                Ok(Value::Str(s))
            }
            TC_OBJECT => {
                let desc = self
                    .class_desc(depth)?
                    .map_or_else(|| self.fail(at, "an object of no class"), Ok)?;
                let index = self.objects.len();
                self.objects.push(Object {
                    class: desc.name.clone(),
                    at,
                    ..Default::default()
                });
                self.new_handle(Handle::Value(Value::Object(index)));
                let (fields, written) = self.class_data(&desc, depth)?;
                let o = &mut self.objects[index];
                o.fields = fields;
                o.written = written;
                Ok(Value::Object(index))
            }
            TC_ENUM => {
                let desc = self
                    .class_desc(depth)?
                    .map_or_else(|| self.fail(at, "an enum constant of no class"), Ok)?;
                let h = self.new_handle(Handle::Pending);
                let name_at = self.pos;
                let Value::Str(name) = self.content(depth + 1)? else {
                    return self.fail(name_at, "an enum constant whose name is not a string");
                };
                let v = Value::Enum {
                    class: desc.name.clone(),
                    name,
                };
                self.handles[h] = Handle::Value(v.clone());
                Ok(v)
            }
            TC_RESET => {
                self.handles.clear();
                self.content(depth)
            }
            TC_ARRAY => self.fail(at, "an array (not used by the classes read here)"),
            TC_CLASS => self.fail(at, "a class object (not used by the classes read here)"),
            TC_CLASSDESC | TC_PROXYCLASSDESC => {
                self.fail(at, "a class descriptor where a value belongs")
            }
            TC_EXCEPTION => self.fail(at, "the writer failed while writing (TC_EXCEPTION)"),
            TC_BLOCKDATA | TC_BLOCKDATALONG | TC_ENDBLOCKDATA => {
                self.fail(at, "block data where an object belongs")
            }
            other => self.fail(at, format!("unknown type code 0x{other:02x}")),
        }
    }

    /// A class descriptor: new, a back-reference, or null (`None`).
    fn class_desc(&mut self, depth: usize) -> R<Option<Rc<ClassDesc>>> {
        let at = self.pos;
        match self.u8()? {
            TC_NULL => Ok(None),
            TC_REFERENCE => match self.handle()? {
                Handle::Class(c) => Ok(Some(c)),
                _ => self.fail(
                    at,
                    "a reference to a value where a class descriptor belongs",
                ),
            },
            TC_CLASSDESC => {
                let name = self.utf()?;
                self.take(8)?; // serialVersionUID
                let h = self.new_handle(Handle::Pending);
                let flags = self.u8()?;
                let count_at = self.pos;
                let count = self.be(2)? as u16 as usize;
                // Each field takes at least 3 bytes (type code, name length).
                if count * 3 > self.buf.len() - self.pos {
                    return self.fail(count_at, format!("{count} fields in class {name}"));
                }
                let mut fields = Vec::with_capacity(count);
                for _ in 0..count {
                    let kind_at = self.pos;
                    let kind = self.u8()?;
                    let fname = self.utf()?;
                    match kind {
                        b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' => {}
                        b'L' | b'[' => {
                            let type_at = self.pos;
                            if !matches!(self.content(depth + 1)?, Value::Str(_)) {
                                return self
                                    .fail(type_at, "a field type name that is not a string");
                            }
                        }
                        other => {
                            return self.fail(
                                kind_at,
                                format!("field {fname} of {name}: unknown type code {other:#04x}"),
                            );
                        }
                    }
                    fields.push(Field { name: fname, kind });
                }
                self.annotation(depth)?;
                let parent = self.class_desc(depth + 1)?;
                let desc = Rc::new(ClassDesc {
                    name,
                    flags,
                    fields,
                    parent,
                });
                self.handles[h] = Handle::Class(desc.clone());
                Ok(Some(desc))
            }
            TC_PROXYCLASSDESC => self.fail(at, "a proxy class (not used by the classes read here)"),
            other => self.fail(
                at,
                format!("type code 0x{other:02x} where a class descriptor belongs"),
            ),
        }
    }

    /// What a class's `writeObject` (or a class annotation) wrote: block data
    /// (skipped) and objects, up to `TC_ENDBLOCKDATA`.
    fn annotation(&mut self, depth: usize) -> R<Vec<Value>> {
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                TC_ENDBLOCKDATA => {
                    self.pos += 1;
                    return Ok(out);
                }
                TC_BLOCKDATA => {
                    self.pos += 1;
                    let n = self.u8()? as usize;
                    self.take(n)?;
                }
                TC_BLOCKDATALONG => {
                    self.pos += 1;
                    let at = self.pos;
                    let n = self.be(4)?;
                    let n = usize::try_from(n)
                        .map_or_else(|_| self.fail(at, format!("block data of {n} bytes")), Ok)?;
                    self.take(n)?;
                }
                _ => out.push(self.content(depth + 1)?),
            }
        }
    }

    /// An object's data, topmost class first.
    fn class_data(&mut self, desc: &Rc<ClassDesc>, depth: usize) -> R<(Fields, Vec<Value>)> {
        let mut chain = Vec::new();
        let mut c = Some(desc.clone());
        while let Some(d) = c {
            if chain.len() > MAX_DEPTH {
                return self.fail(
                    self.pos,
                    format!("a class hierarchy deeper than {MAX_DEPTH}"),
                );
            }
            c = d.parent.clone();
            chain.push(d);
        }
        let mut fields = Vec::new();
        let mut written = Vec::new();
        for d in chain.iter().rev() {
            if d.flags & SC_EXTERNALIZABLE != 0 {
                if d.flags & SC_BLOCK_DATA == 0 {
                    return self.fail(
                        self.pos,
                        format!("{}: externalizable data without block framing", d.name),
                    );
                }
                written.extend(self.annotation(depth)?);
                continue;
            }
            if d.flags & SC_SERIALIZABLE == 0 {
                continue;
            }
            for f in &d.fields {
                let v = match f.kind {
                    b'B' => Value::Int(self.be(1)?),
                    b'C' => Value::Int(self.be(2)? & 0xffff),
                    b'S' => Value::Int(self.be(2)?),
                    b'I' => Value::Int(self.be(4)?),
                    b'J' => Value::Int(self.be(8)?),
                    b'F' => Value::Float(f32::from_bits(self.be(4)? as u32) as f64),
                    b'D' => Value::Float(f64::from_bits(self.be(8)? as u64)),
                    b'Z' => Value::Bool(self.u8()? != 0),
                    _ => self.content(depth + 1)?,
                };
                fields.push((f.name.clone(), v));
            }
            if d.flags & SC_WRITE_METHOD != 0 {
                written.extend(self.annotation(depth)?);
            }
        }
        Ok((fields, written))
    }
}

/// Java's modified UTF-8 (NUL as `C0 80`, characters beyond the BMP as two
/// encoded surrogates); anything malformed becomes U+FFFD.
fn modified_utf8(b: &[u8]) -> String {
    if b.is_ascii() {
        return String::from_utf8_lossy(b).into_owned();
    }
    let mut units = Vec::with_capacity(b.len());
    let mut i = 0;
    let cont = |x: Option<&u8>| x.filter(|&&c| c & 0xc0 == 0x80).map(|&c| (c & 0x3f) as u16);
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            units.push(c as u16);
            i += 1;
        } else if c & 0xe0 == 0xc0 {
            match cont(b.get(i + 1)) {
                Some(c2) => {
                    units.push(((c as u16 & 0x1f) << 6) | c2);
                    i += 2;
                }
                None => {
                    units.push(0xfffd);
                    i += 1;
                }
            }
        } else if c & 0xf0 == 0xe0 {
            match (cont(b.get(i + 1)), cont(b.get(i + 2))) {
                (Some(c2), Some(c3)) => {
                    units.push(((c as u16 & 0x0f) << 12) | (c2 << 6) | c3);
                    i += 3;
                }
                _ => {
                    units.push(0xfffd);
                    i += 1;
                }
            }
        } else {
            units.push(0xfffd);
            i += 1;
        }
    }
    String::from_utf16_lossy(&units)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes streams in the grammar above, for tests of this reader and of
    /// the IFile index (written from the specification, not by Java: the
    /// end-to-end test reads files the real NodeManagers wrote).
    pub(crate) struct Writer {
        pub out: Vec<u8>,
    }

    impl Writer {
        pub(crate) fn new() -> Self {
            Writer {
                out: MAGIC.to_vec(),
            }
        }
        pub(crate) fn u8(&mut self, b: u8) -> &mut Self {
            self.out.push(b);
            self
        }
        pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
            self.out.extend_from_slice(b);
            self
        }
        pub(crate) fn utf(&mut self, s: &str) -> &mut Self {
            self.bytes(&(s.len() as u16).to_be_bytes())
                .bytes(s.as_bytes())
        }
        pub(crate) fn string(&mut self, s: &str) -> &mut Self {
            self.u8(TC_STRING).utf(s)
        }
        pub(crate) fn reference(&mut self, handle: u32) -> &mut Self {
            self.u8(TC_REFERENCE)
                .bytes(&(0x7e_0000 + handle).to_be_bytes())
        }
        /// A new class descriptor: fields as (type code, name, type name);
        /// the type name is written as a new string. No parent.
        pub(crate) fn class(
            &mut self,
            name: &str,
            flags: u8,
            fields: &[(u8, &str, &str)],
        ) -> &mut Self {
            self.u8(TC_CLASSDESC).utf(name).bytes(&[0; 8]).u8(flags);
            self.bytes(&(fields.len() as u16).to_be_bytes());
            for (kind, fname, tname) in fields {
                self.u8(*kind).utf(fname);
                if *kind == b'L' || *kind == b'[' {
                    self.string(tname);
                }
            }
            self.u8(TC_ENDBLOCKDATA).u8(TC_NULL)
        }
        pub(crate) fn object(&mut self) -> &mut Self {
            self.u8(TC_OBJECT)
        }
        pub(crate) fn block(&mut self, b: &[u8]) -> &mut Self {
            self.u8(TC_BLOCKDATA).u8(b.len() as u8).bytes(b)
        }
        pub(crate) fn end(&mut self) -> &mut Self {
            self.u8(TC_ENDBLOCKDATA)
        }
    }

    pub(crate) const SERIALIZABLE: u8 = SC_SERIALIZABLE;
    pub(crate) const WRITE_METHOD: u8 = SC_SERIALIZABLE | SC_WRITE_METHOD;
    pub(crate) const ENUM: u8 = TC_ENUM;

    #[test]
    fn fields_by_name_lists_maps_enums_and_back_references() {
        let mut w = Writer::new();
        // handle 0: class Point; 1: "Ljava/lang/String;"; 2: the Point object
        w.object().class(
            "Point",
            SERIALIZABLE,
            &[
                (b'J', "x", ""),
                (b'Z', "on", ""),
                (b'L', "name", "Ljava/lang/String;"),
            ],
        );
        w.bytes(&(-5i64).to_be_bytes()).u8(1).string("p\u{e9}"); // handle 3: the name
        let s = read(&w.out).unwrap();
        let Value::Object(i) = s.root else { panic!() };
        let o = &s.objects[i];
        assert_eq!(&*o.class, "Point");
        assert_eq!(o.field("x"), Some(&Value::Int(-5)));
        assert_eq!(o.field("on"), Some(&Value::Bool(true)));
        assert_eq!(o.field("name"), Some(&Value::Str("p\u{e9}".into())));

        // An ArrayList (size field, then block data and elements) holding a
        // string, the same string again by reference, null and an enum.
        let mut w = Writer::new();
        w.object()
            .class("java.util.ArrayList", WRITE_METHOD, &[(b'I', "size", "")]);
        w.bytes(&4i32.to_be_bytes()).block(&4i32.to_be_bytes());
        w.string("a"); // handle 2
        w.reference(2).u8(TC_NULL);
        w.u8(ENUM).class("Color", SERIALIZABLE, &[]).string("RED"); // handles 3, 4, 5
        w.end();
        let s = read(&w.out).unwrap();
        let Value::Object(i) = s.root else { panic!() };
        let list = &s.objects[i];
        assert_eq!(list.field("size"), Some(&Value::Int(4)));
        assert_eq!(
            list.written,
            vec![
                Value::Str("a".into()),
                Value::Str("a".into()),
                Value::Null,
                Value::Enum {
                    class: "Color".into(),
                    name: "RED".into()
                }
            ]
        );
    }

    #[test]
    fn bad_streams_fail_with_the_offset() {
        let e = read(b"\xac\xed\x00\x04").unwrap_err();
        assert_eq!(e.offset, 0);
        // A reference to nothing.
        let mut w = Writer::new();
        w.reference(7);
        let e = read(&w.out).unwrap_err();
        assert_eq!(e.offset, 5, "{e:?}");
        assert!(e.message.contains("no earlier object"), "{e:?}");
        // An array, and an unknown type code.
        for (code, want) in [(TC_ARRAY, "an array"), (0x42, "unknown type code 0x42")] {
            let mut w = Writer::new();
            w.u8(code);
            let e = read(&w.out).unwrap_err();
            assert_eq!((e.offset, e.message.contains(want)), (4, true), "{e:?}");
        }
        // A class claiming 65535 fields in a short stream.
        let mut w = Writer::new();
        w.object()
            .u8(TC_CLASSDESC)
            .utf("X")
            .bytes(&[0; 8])
            .u8(2)
            .bytes(&[0xff, 0xff]);
        let e = read(&w.out).unwrap_err();
        assert!(e.message.contains("65535 fields"), "{e:?}");
        // Deep nesting: an object whose field holds an object, and so on.
        let mut w = Writer::new();
        w.object()
            .class("N", SERIALIZABLE, &[(b'L', "next", "LN;")]);
        for _ in 0..100 {
            w.object().reference(0);
        }
        let e = read(&w.out).unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e:?}");
        // Truncation anywhere is an error, never a panic.
        let mut w = Writer::new();
        w.object().class(
            "Point",
            SERIALIZABLE,
            &[(b'J', "x", ""), (b'L', "s", "LS;")],
        );
        w.bytes(&[0; 8]).string("tail");
        for cut in 0..w.out.len() {
            assert!(read(&w.out[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn modified_utf8_decodes_nul_and_surrogate_pairs() {
        assert_eq!(modified_utf8(b"\xc0\x80"), "\0");
        // U+1F600 as two 3-byte surrogates.
        assert_eq!(modified_utf8(b"\xed\xa0\xbd\xed\xb8\x80"), "\u{1f600}");
        assert_eq!(modified_utf8(b"a\xffb"), "a\u{fffd}b");
    }
}
