//! The text PostgreSQL prints for a `jsonb` value (`view::text`), written
//! on the client from anything serde serialises: a `serde_json::Value`, or
//! a folded aggregate itself, without building a JSON tree first (a
//! rebuild writes every view of the store this way, and building the
//! trees was a sixth of its client's time, docs/performance.md).
//!
//! A rebuild compares each folded view with the stored one by the SHA-256
//! of this text: PostgreSQL hashes `view::text` of every `tickets` row in
//! the snapshot, the rebuild hashes its own view written the same way, and
//! only the views whose digests differ travel to the database to be parsed
//! and compared as `jsonb`. Parsing every view into `jsonb` and comparing
//! it was most of the database's share of a rebuild (docs/performance.md).
//!
//! Getting this text wrong costs speed, never correctness: a view whose
//! text differs from PostgreSQL's is compared as `jsonb` like any changed
//! view. Values whose text this module does not know how PostgreSQL would
//! print (fractional or exponent numbers, whose `numeric` form keeps the
//! written scale; map keys that are neither strings nor integers) give
//! `None` and take that path.
//!
//! The form is `jsonb`'s output function (`JsonbToCString`): object keys in
//! `jsonb`'s storage order (shorter keys first, then bytewise), `", "`
//! between elements and `": "` after keys, and strings escaped by
//! `escape_json`: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control
//! characters as lowercase `\u00xx`, everything else as it is.

use std::borrow::Cow;
use std::fmt::{self, Display, Write};
use std::ops::Range;

use serde::ser::{self, Serialize};

/// `value` as PostgreSQL prints it as `jsonb`, or `None` when this module
/// cannot be sure of PostgreSQL's text.
pub fn jsonb_text<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut out = String::with_capacity(256);
    write_jsonb_text(value, &mut out).then_some(out)
}

/// Writes `value` as [`jsonb_text`] does into `out` (cleared first), so a
/// caller that writes many reuses one buffer; `false` when this module
/// cannot be sure of PostgreSQL's text. The text is what
/// `serde_json::to_value(value)` would print as `jsonb`.
pub fn write_jsonb_text<T: Serialize + ?Sized>(value: &T, out: &mut String) -> bool {
    let mut sink = Sink {
        out: std::mem::take(out),
        scratch: String::new(),
        members: Vec::new(),
    };
    sink.out.clear();
    let written = value.serialize(&mut Text { sink: &mut sink }).is_ok();
    *out = sink.out;
    written
}

/// Why a value has no text here: PostgreSQL's would be its own.
#[derive(Debug)]
struct Unsure;

impl Display for Unsure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PostgreSQL's text of this value is not known here")
    }
}

impl std::error::Error for Unsure {}

impl ser::Error for Unsure {
    fn custom<T: Display>(_: T) -> Unsure {
        Unsure
    }
}

/// The text being written, and room that every object in it reuses.
struct Sink {
    out: String,
    /// An object's members while they are put in order.
    scratch: String,
    /// The members of the objects being written, innermost last: each
    /// one's key and where its `"key": value` text lies in `out`.
    members: Vec<(Cow<'static, str>, Range<usize>)>,
}

/// Writes one value at the end of the sink's text.
struct Text<'a> {
    sink: &'a mut Sink,
}

impl<'a> Text<'a> {
    fn integer(self, n: impl itoa::Integer) -> Result<(), Unsure> {
        self.sink.out.push_str(itoa::Buffer::new().format(n));
        Ok(())
    }

    fn object(self) -> Object<'a> {
        self.sink.out.push('{');
        Object {
            start: self.sink.out.len(),
            first_member: self.sink.members.len(),
            sink: self.sink,
            key: String::new(),
        }
    }

    fn array(self) -> Array<'a> {
        self.sink.out.push('[');
        Array {
            sink: self.sink,
            first: true,
        }
    }

    /// `{"variant": ` … `}`: how serde_json writes a variant with content.
    fn open_variant(&mut self, variant: &str) {
        self.sink.out.push('{');
        write_string(variant, &mut self.sink.out);
        self.sink.out.push_str(": ");
    }
}

/// An array's elements, `", "` between them.
struct Array<'a> {
    sink: &'a mut Sink,
    first: bool,
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsure> {
        if !self.first {
            self.sink.out.push_str(", ");
        }
        self.first = false;
        value.serialize(&mut Text { sink: self.sink })
    }
}

/// An object's members, written after its `{` as they come, and put in
/// `jsonb`'s order when it ends.
struct Object<'a> {
    sink: &'a mut Sink,
    /// Where its first member's text starts.
    start: usize,
    /// Where its members start in the sink's list.
    first_member: usize,
    /// The key of the map entry being written, until its value is.
    key: String,
}

impl<'a> Object<'a> {
    fn member<T: Serialize + ?Sized>(&mut self, key: Cow<'static, str>, value: &T) -> Result<(), Unsure> {
        let out = &mut self.sink.out;
        if self.sink.members.len() > self.first_member {
            out.push_str(", ");
        }
        let from = out.len();
        write_string(&key, out);
        out.push_str(": ");
        value.serialize(&mut Text { sink: self.sink })?;
        let to = self.sink.out.len();
        self.sink.members.push((key, from..to));
        Ok(())
    }

    /// Puts the members in `jsonb`'s key order (shorter keys first, then
    /// bytewise), the last of equal keys kept, as `jsonb` and
    /// `serde_json::Map` both keep it, and closes the object; gives back
    /// the sink.
    fn finish(self) -> &'a mut Sink {
        let sink = self.sink;
        let members = &mut sink.members[self.first_member..];
        let in_order = members
            .windows(2)
            .all(|pair| jsonb_order(&pair[0].0, &pair[1].0).is_lt());
        if !in_order {
            // Stable: of equal keys, the later stays later, and is kept.
            members.sort_by(|a, b| jsonb_order(&a.0, &b.0));
            sink.scratch.clear();
            sink.scratch.push_str(&sink.out[self.start..]);
            sink.out.truncate(self.start);
            let mut first = true;
            for (i, (key, range)) in members.iter().enumerate() {
                if members.get(i + 1).is_some_and(|(next, _)| next == key) {
                    continue;
                }
                if !first {
                    sink.out.push_str(", ");
                }
                first = false;
                sink.out
                    .push_str(&sink.scratch[range.start - self.start..range.end - self.start]);
            }
        }
        sink.members.truncate(self.first_member);
        sink.out.push('}');
        sink
    }
}

/// `jsonb`'s order of object keys: shorter first, then bytewise.
fn jsonb_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

impl<'a, 'b> ser::Serializer for &'a mut Text<'b> {
    type Ok = ();
    type Error = Unsure;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsure> {
        self.sink.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Unsure> {
        Text { sink: self.sink }.integer(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Unsure> {
        Text { sink: self.sink }.integer(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Unsure> {
        Text { sink: self.sink }.integer(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Unsure> {
        Text { sink: self.sink }.integer(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Unsure> {
        Text { sink: self.sink }.integer(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Unsure> {
        Text { sink: self.sink }.integer(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Unsure> {
        Text { sink: self.sink }.integer(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Unsure> {
        Text { sink: self.sink }.integer(v)
    }
    // Integers print as their digits in `numeric` too; anything else keeps
    // the scale it was written with, which a float does not know.
    fn serialize_f32(self, _: f32) -> Result<(), Unsure> {
        Err(Unsure)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Unsure> {
        Err(Unsure)
    }
    fn serialize_char(self, v: char) -> Result<(), Unsure> {
        write_string(v.encode_utf8(&mut [0; 4]), &mut self.sink.out);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Unsure> {
        write_string(v, &mut self.sink.out);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Unsure> {
        // serde_json makes an array of numbers of bytes.
        let mut array = Text { sink: self.sink }.array();
        for byte in v {
            array.element(byte)?;
        }
        ser::SerializeSeq::end(array)
    }
    fn serialize_none(self) -> Result<(), Unsure> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsure> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsure> {
        self.sink.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsure> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Unsure> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Unsure> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unsure> {
        self.open_variant(variant);
        value.serialize(&mut *self)?;
        self.sink.out.push('}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Array<'a>, Unsure> {
        Ok(Text { sink: self.sink }.array())
    }
    fn serialize_tuple(self, len: usize) -> Result<Array<'a>, Unsure> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Array<'a>, Unsure> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Array<'a>, Unsure> {
        self.open_variant(variant);
        Ok(Text { sink: self.sink }.array())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Object<'a>, Unsure> {
        Ok(Text { sink: self.sink }.object())
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Object<'a>, Unsure> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Object<'a>, Unsure> {
        self.open_variant(variant);
        Ok(Text { sink: self.sink }.object())
    }
    /// Written in place (timestamps come this way, and a view has many):
    /// quoted as it is when nothing in it needs escaping, as is usual.
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Unsure> {
        let out = &mut self.sink.out;
        let quote = out.len();
        out.push('"');
        let _ = write!(out, "{value}");
        if out.as_bytes()[quote + 1..].iter().copied().any(needs_escape) {
            let text = out.split_off(quote + 1);
            out.truncate(quote);
            write_string(&text, out);
        } else {
            out.push('"');
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Array<'_> {
    type Ok = ();
    type Error = Unsure;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsure> {
        self.element(value)
    }
    fn end(self) -> Result<(), Unsure> {
        self.sink.out.push(']');
        Ok(())
    }
}

impl ser::SerializeTuple for Array<'_> {
    type Ok = ();
    type Error = Unsure;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsure> {
        self.element(value)
    }
    fn end(self) -> Result<(), Unsure> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Array<'_> {
    type Ok = ();
    type Error = Unsure;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsure> {
        self.element(value)
    }
    fn end(self) -> Result<(), Unsure> {
        ser::SerializeSeq::end(self)
    }
}

/// `[` … `]}`: the array closes, then the variant's object.
impl ser::SerializeTupleVariant for Array<'_> {
    type Ok = ();
    type Error = Unsure;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsure> {
        self.element(value)
    }
    fn end(self) -> Result<(), Unsure> {
        self.sink.out.push_str("]}");
        Ok(())
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Unsure;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsure> {
        // A map key is text in JSON: serde_json writes integer keys as
        // their digits; any other kind is left to the database.
        self.key = match serde_json::to_value(key) {
            Ok(serde_json::Value::String(key)) => key,
            Ok(serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            _ => return Err(Unsure),
        };
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsure> {
        let key = std::mem::take(&mut self.key);
        self.member(Cow::Owned(key), value)
    }
    fn end(self) -> Result<(), Unsure> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Unsure;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Unsure> {
        self.member(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<(), Unsure> {
        self.finish();
        Ok(())
    }
}

/// `{` … `}}`: the members close, then the variant's object.
impl ser::SerializeStructVariant for Object<'_> {
    type Ok = ();
    type Error = Unsure;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Unsure> {
        self.member(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<(), Unsure> {
        self.finish().out.push('}');
        Ok(())
    }
}

/// Whether `escape_json` escapes this byte: control characters, `"` and
/// `\`. Only ASCII is ever escaped.
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Whether any of the eight bytes of `word` needs escaping, eight at a
/// time (the classic "has a byte less than n / equal to c" bit tricks).
fn any_needs_escape(word: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    (below_space | quote | backslash) & HIGHS != 0
}

/// Writes `s` quoted, escaped as `escape_json` escapes, copying the runs
/// between escapes whole and looking for them eight bytes at a time (a
/// rebuild writes every view of the store through here).
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut plain = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip whole words that need nothing; a word with a hit (or a
        // false one: the tricks may flag a byte next to a real hit) is
        // looked at byte by byte.
        if let Some(word) = bytes.get(i..i + 8) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(word);
            if !any_needs_escape(u64::from_ne_bytes(eight)) {
                i += 8;
                continue;
            }
        }
        let byte = bytes[i];
        if !needs_escape(byte) {
            i += 1;
            continue;
        }
        // `i` is at an ASCII byte, so both slices end on characters.
        out.push_str(&s[plain..i]);
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            other => {
                let _ = write!(out, "\\u{other:04x}");
            }
        }
        i += 1;
        plain = i;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::jsonb_text;

    // Each expected text is what PostgreSQL 15 prints for `'<input>'::jsonb::text`.

    #[test]
    fn keys_come_shorter_first_then_bytewise_with_postgres_spacing() {
        let view = json!({"status": "filed", "id": 7, "b": [1, 2], "a": {}, "version": 3, "notes": []});
        assert_eq!(
            jsonb_text(&view).as_deref(),
            Some(r#"{"a": {}, "b": [1, 2], "id": 7, "notes": [], "status": "filed", "version": 3}"#)
        );
    }

    #[test]
    fn strings_escape_as_escape_json_does_and_keep_other_text_as_it_is() {
        let view = json!({"t": "引号\"斜杠\\\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é"});
        assert_eq!(
            jsonb_text(&view).as_deref(),
            Some("{\"t\": \"引号\\\"斜杠\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}é\"}")
        );
    }

    #[test]
    fn integers_print_as_digits_and_fractions_are_left_to_the_database() {
        assert_eq!(
            jsonb_text(&json!([-5, 0, u64::MAX])).as_deref(),
            Some("[-5, 0, 18446744073709551615]")
        );
        assert_eq!(jsonb_text(&json!({"score": 4.5})), None);
        assert_eq!(
            jsonb_text(&json!([true, false, null])).as_deref(),
            Some("[true, false, null]")
        );
    }

    /// Every shape serde gives a view, written from the value itself and
    /// from its `serde_json::Value`: the same text (the tree's is held to
    /// PostgreSQL's by the tests above and by the rebuild's own tests).
    #[test]
    fn a_value_is_written_as_its_json_tree_would_be() {
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum Shape {
            Plain,
            Wrapped(u8),
            Pair(i32, String),
            Named { later_key: bool, k: Option<u8> },
        }
        #[derive(Serialize)]
        struct Flattened {
            status: &'static str,
        }
        #[derive(Serialize)]
        struct View {
            version: u64,
            id: uuid::Uuid,
            at: chrono::DateTime<chrono::Utc>,
            shapes: Vec<Shape>,
            by_number: BTreeMap<u32, char>,
            bytes: serde_bytes_like::Bytes,
            #[serde(skip_serializing_if = "Option::is_none")]
            absent: Option<u8>,
            none: Option<u8>,
            unit: (),
            tuple: (i8, &'static str),
            text: String,
            #[serde(flatten)]
            flattened: Flattened,
            nested: serde_json::Value,
        }
        mod serde_bytes_like {
            /// Serialised with `serialize_bytes`, as `serde_bytes` would.
            pub struct Bytes(pub Vec<u8>);
            impl serde::Serialize for Bytes {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_bytes(&self.0)
                }
            }
        }
        let view = View {
            version: 7,
            id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            at: chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000).expect("an instant"),
            shapes: vec![
                Shape::Plain,
                Shape::Wrapped(3),
                Shape::Pair(-1, "二".into()),
                Shape::Named {
                    later_key: true,
                    k: None,
                },
            ],
            by_number: BTreeMap::from([(10, 'x'), (9, '"')]),
            bytes: serde_bytes_like::Bytes(vec![0, 255]),
            absent: None,
            none: None,
            unit: (),
            tuple: (-8, "t"),
            text: "换行\n\t\u{1}".into(),
            flattened: Flattened { status: "filed" },
            nested: json!({"zz": [1, {"b": null, "a": "x"}], "y": {}}),
        };
        let tree = serde_json::to_value(&view).expect("a tree");
        assert_eq!(jsonb_text(&view), jsonb_text(&tree));
        assert!(jsonb_text(&view).is_some_and(|t| t.starts_with(r#"{"at": "2023-11-14T22:13:20.123456Z", "id": "#)));
    }

    #[test]
    fn a_value_with_a_fraction_is_left_to_the_database_however_deep() {
        #[derive(Serialize)]
        struct Scored {
            scores: Vec<f64>,
        }
        assert_eq!(jsonb_text(&Scored { scores: vec![1.0] }), None);
    }
}
