//! Decode a document's JSON tree into an API type and note every field the type ignores:
//! what `serde_ignored` does, specialised for a borrowed `serde_json::Value`. The path to a
//! value is a chain of borrowed keys on the stack, written out only for an ignored field;
//! `serde_ignored` copies every key of every document into a `String`, which on a large
//! bundle cost more than the decode itself.
//!
//! Scalars and enums are handed to serde_json's own `&Value` deserializer, so values decode
//! and fail exactly as they do there; lists and maps are walked here, to know where they are.
//! `tests::agrees_with_serde_ignored_on_the_corpus` holds it to `serde_ignored` (unknown
//! fields, errors) and `serde_path_to_error` (where an error is).
//!
//! The decoded value is not given back, only whether it decodes: a field or map key that
//! wants a `String` and holds one is handed an empty string, since copying the text only
//! to drop it was most of decoding a CRD (descriptions are most of its bytes). The one
//! `String` whose content API types check is an object's `apiVersion` and `kind` (against
//! the type's), which get the real text; types that parse text (times, byte strings,
//! enums, quantities, int-or-strings) ask for `str`, an identifier or anything, and get it
//! too.

use std::cell::RefCell;

use ks_core::manifest::{FieldPath, PathChain};
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Error, Value};

/// Whether `v` decodes as `T`, pushing the path of each field `T` ignores onto `unknown`;
/// when it does not, the error and where it is (the innermost value being decoded when it
/// happened, as `serde_path_to_error` places it).
pub fn decode<'de, T: de::Deserialize<'de>>(
    v: &'de Value,
    unknown: &mut Vec<FieldPath>,
) -> Result<(), (Error, FieldPath)> {
    let sink = RefCell::new(Sink { unknown: std::mem::take(unknown), error_at: None });
    let result = T::deserialize(Tracked { v, path: &PathChain::Root, sink: &sink });
    let sink = sink.into_inner();
    *unknown = sink.unknown;
    result.map(drop).map_err(|e| (e, sink.error_at.unwrap_or_default()))
}

struct Sink {
    unknown: Vec<FieldPath>,
    error_at: Option<FieldPath>,
}

struct Tracked<'s, 'p, 'de> {
    v: &'de Value,
    path: &'p PathChain<'p>,
    sink: &'s RefCell<Sink>,
}

/// An error passes every value that encloses the one it happened in: the first to see it
/// says where it is.
fn noted<T>(path: &PathChain<'_>, sink: &RefCell<Sink>, result: Result<T, Error>) -> Result<T, Error> {
    if result.is_err() {
        let mut sink = sink.borrow_mut();
        if sink.error_at.is_none() {
            sink.error_at = Some(path.to_field_path());
        }
    }
    result
}

impl<'de> Tracked<'_, '_, 'de> {
    /// A list or a map is walked here; anything else is serde_json's to decode (or reject,
    /// with its own message).
    fn compound<V: Visitor<'de>>(
        self,
        visitor: V,
        other: impl FnOnce(&'de Value, V) -> Result<V::Value, Error>,
    ) -> Result<V::Value, Error> {
        let (path, sink) = (self.path, self.sink);
        noted(path, sink, self.walk(visitor, other))
    }

    fn walk<V: Visitor<'de>>(
        self,
        visitor: V,
        other: impl FnOnce(&'de Value, V) -> Result<V::Value, Error>,
    ) -> Result<V::Value, Error> {
        match self.v {
            Value::Array(items) => {
                let mut seq = Seq { items: items.iter(), index: 0, path: self.path, sink: self.sink };
                let out = visitor.visit_seq(&mut seq)?;
                // As serde_json: a list longer than the type takes is an error.
                if seq.items.len() == 0 {
                    Ok(out)
                } else {
                    Err(de::Error::invalid_length(items.len(), &"fewer elements in array"))
                }
            }
            Value::Object(entries) => {
                let mut map = Map { entries: entries.iter(), value: None, path: self.path, sink: self.sink };
                let out = visitor.visit_map(&mut map)?;
                if map.entries.len() == 0 {
                    Ok(out)
                } else {
                    Err(de::Error::invalid_length(entries.len(), &"fewer elements in map"))
                }
            }
            _ => other(self.v, visitor),
        }
    }
}

macro_rules! to_serde_json {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            noted(self.path, self.sink, self.v.$method(visitor))
        }
    )*};
}

impl<'de> Deserializer<'de> for Tracked<'_, '_, 'de> {
    type Error = Error;

    to_serde_json! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_identifier
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let checked = matches!(self.path, PathChain::Key(_, "apiVersion" | "kind"));
        let result = match self.v {
            // Only whether it decodes is kept (see the module docs).
            Value::String(_) if !checked => visitor.visit_borrowed_str(""),
            v => v.deserialize_string(visitor),
        };
        noted(self.path, self.sink, result)
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.compound(visitor, |v, visitor| v.deserialize_any(visitor))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.compound(visitor, |v, visitor| v.deserialize_seq(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.compound(visitor, |v, visitor| v.deserialize_tuple(len, visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.compound(visitor, |v, visitor| v.deserialize_tuple_struct(name, len, visitor))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.compound(visitor, |v, visitor| v.deserialize_map(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.compound(visitor, |v, visitor| v.deserialize_struct(name, fields, visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        noted(self.path, self.sink, self.v.deserialize_unit_struct(name, visitor))
    }

    // These two hand the same value, at the same path, to the inner type's decode, which
    // notes any error there.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.v {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // No API type of k8s-openapi decodes an enum from a map; serde_json decides.
        noted(self.path, self.sink, self.v.deserialize_enum(name, variants, visitor))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.sink.borrow_mut().unknown.push(self.path.to_field_path());
        visitor.visit_unit()
    }
}

struct Seq<'s, 'p, 'de> {
    items: std::slice::Iter<'de, Value>,
    index: usize,
    path: &'p PathChain<'p>,
    sink: &'s RefCell<Sink>,
}

impl<'de> SeqAccess<'de> for Seq<'_, '_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        let Some(v) = self.items.next() else { return Ok(None) };
        let path = PathChain::Index(self.path, self.index);
        self.index += 1;
        seed.deserialize(Tracked { v, path: &path, sink: self.sink }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'s, 'p, 'de> {
    entries: serde_json::map::Iter<'de>,
    value: Option<(&'de str, &'de Value)>,
    path: &'p PathChain<'p>,
    sink: &'s RefCell<Sink>,
}

impl<'de> MapAccess<'de> for Map<'_, '_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((k, v)) = self.entries.next() else { return Ok(None) };
        self.value = Some((k, v));
        seed.deserialize(Key(k)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((k, v)) = self.value.take() else { return Err(de::Error::custom("value is missing")) };
        let path = PathChain::Key(self.path, k);
        seed.deserialize(Tracked { v, path: &path, sink: self.sink })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A map key: a struct's field name is matched as written; a `String` key of a map is not
/// copied (see the module docs).
struct Key<'de>(&'de str);

impl<'de> Deserializer<'de> for Key<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        BorrowedStrDeserializer::new(self.0).deserialize_any(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str("")
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        BorrowedStrDeserializer::new(self.0).deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}
