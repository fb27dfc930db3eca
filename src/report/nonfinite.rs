//! Numbers that are not finite, written so that they read back.
//!
//! JSON has no infinity and no NaN: `serde_json` writes them as `null`, which then does not
//! read back into an `f64`. Yet a report holds some honestly: the analytic holding time of a
//! caller of a saturated service without a timeout is infinite, and so is the capacity of a
//! work queue whose service takes no time. Every `f64` under a [`Report`](super::Report) —
//! at any depth, in an `Option`, a `Vec` or an array, in fields that exist today and in
//! fields added later — goes through [`Finite`], which writes infinity, minus infinity and
//! NaN as the strings `"inf"`, `"-inf"` and `"nan"` and reads them back (finite numbers are
//! written as before). No field needs an attribute of its own: `Report`'s `Serialize` and
//! `Deserialize` wrap the serializer and the deserializer, and the wrappers pass themselves
//! down to everything the report contains. [`serialize`] and [`deserialize`] do the same
//! for any other type (`#[serde(with = "nonfinite")]` on a field).
//!
//! The wrappers forward every other call unchanged, so the JSON of a report without
//! non-finite numbers is byte for byte what `serde_json` alone writes. A type that buffers
//! its input before deserializing it (`#[serde(untagged)]`, `#[serde(tag = ...)]`,
//! `#[serde(flatten)]`) would not see the strings; the report has none, and its round-trip
//! tests would catch one.

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use serde::ser::{self, Serialize, Serializer};
use std::fmt;

/// How infinity is written.
pub const INF: &str = "inf";
/// How minus infinity is written.
pub const NEG_INF: &str = "-inf";
/// How NaN is written.
pub const NAN: &str = "nan";

/// Serializes `value` with every non-finite `f64` (or `f32`) in it written as a string
/// (for `#[serde(with = "nonfinite")]`).
pub fn serialize<T, S>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
where
    T: ?Sized + Serialize,
    S: Serializer,
{
    value.serialize(Finite(serializer))
}

/// Deserializes a `T` in which every `f64` (or `f32`) may also be `"inf"`, `"-inf"` or
/// `"nan"` (for `#[serde(with = "nonfinite")]`).
pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: de::Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(Finite(deserializer))
}

/// The string for a non-finite number.
fn name(v: f64) -> &'static str {
    if v.is_nan() {
        NAN
    } else if v > 0.0 {
        INF
    } else {
        NEG_INF
    }
}

/// The number a string stands for, if it is one of ours.
fn parse(s: &str) -> Option<f64> {
    match s {
        INF => Some(f64::INFINITY),
        NEG_INF => Some(f64::NEG_INFINITY),
        NAN => Some(f64::NAN),
        _ => None,
    }
}

/// A serializer, deserializer or one of their parts, with non-finite floats written as
/// strings and read back from them; everything else is forwarded unchanged.
pub struct Finite<T>(pub T);

/// A value to serialize through [`Finite`].
struct Wrap<'a, T: ?Sized>(&'a T);

impl<T: ?Sized + Serialize> Serialize for Wrap<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Finite(serializer))
    }
}

/// Forwards primitive `serialize_*` methods to the inner serializer.
macro_rules! forward_ser {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method(self, v: $ty) -> Result<S::Ok, S::Error> {
                self.0.$method(v)
            }
        )*
    };
}

impl<S: Serializer> Serializer for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Finite<S::SerializeSeq>;
    type SerializeTuple = Finite<S::SerializeTuple>;
    type SerializeTupleStruct = Finite<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Finite<S::SerializeTupleVariant>;
    type SerializeMap = Finite<S::SerializeMap>;
    type SerializeStruct = Finite<S::SerializeStruct>;
    type SerializeStructVariant = Finite<S::SerializeStructVariant>;

    forward_ser!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            self.0.serialize_f32(v)
        } else {
            self.0.serialize_str(name(f64::from(v)))
        }
    }

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            self.0.serialize_f64(v)
        } else {
            self.0.serialize_str(name(v))
        }
    }

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Wrap(value))
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, index, variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Wrap(value))
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Wrap(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Finite)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Finite)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Finite)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Finite)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Finite)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Finite)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Finite)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

impl<S: ser::SerializeSeq> ser::SerializeSeq for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_element(&Wrap(value))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTuple> ser::SerializeTuple for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_element(&Wrap(value))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTupleStruct> ser::SerializeTupleStruct for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_field(&Wrap(value))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTupleVariant> ser::SerializeTupleVariant for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_field(&Wrap(value))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeMap> ser::SerializeMap for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), S::Error> {
        self.0.serialize_key(&Wrap(key))
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Wrap(value))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStruct> ser::SerializeStruct for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0.serialize_field(key, &Wrap(value))
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(key)
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStructVariant> ser::SerializeStructVariant for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0.serialize_field(key, &Wrap(value))
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(key)
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

/// Forwards `deserialize_*` methods to the inner deserializer with a wrapped visitor.
macro_rules! forward_de {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method(Finite(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Finite<D> {
    type Error = D::Error;

    forward_de!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    /// A number, or one of the strings of a non-finite one: asks for any value, so that a
    /// string reaches the visitor; a number reaches it as the plain deserializer would pass it.
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(FloatVisitor(visitor))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(FloatVisitor(visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Finite(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Finite(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Finite(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Finite(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, Finite(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, Finite(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Forwards primitive `visit_*` methods to the inner visitor.
macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.0.$method(v)
            }
        )*
    };
}

/// Forwards the compound `visit_*` methods, wrapping what they hand on.
macro_rules! forward_compound_visits {
    () => {
        fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
            self.0.visit_none()
        }

        fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
            self.0.visit_unit()
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
            self.0.visit_some(Finite(d))
        }

        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
            self.0.visit_newtype_struct(Finite(d))
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
            self.0.visit_seq(Finite(seq))
        }

        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
            self.0.visit_map(Finite(map))
        }

        fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
            self.0.visit_enum(Finite(data))
        }
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Finite<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    forward_compound_visits!();
}

/// The visitor of an `f64` (or `f32`), which also takes the strings of non-finite numbers.
struct FloatVisitor<V>(V);

impl<'de, V: Visitor<'de>> FloatVisitor<V> {
    fn string<E: de::Error>(self, s: &str) -> Result<V::Value, E> {
        match parse(s) {
            Some(v) => self.0.visit_f64(v),
            None => self.0.visit_str(s),
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for FloatVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_str<E: de::Error>(self, s: &str) -> Result<V::Value, E> {
        self.string(s)
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<V::Value, E> {
        self.string(s)
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<V::Value, E> {
        self.string(&s)
    }

    forward_compound_visits!();
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Finite<T> {
    type Value = T::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T::Value, D::Error> {
        self.0.deserialize(Finite(d))
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Finite<A> {
    type Error = A::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Finite(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for Finite<A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Finite(seed))
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(Finite(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Finite<A> {
    type Error = A::Error;
    type Variant = Finite<A::Variant>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), A::Error> {
        self.0
            .variant_seed(Finite(seed))
            .map(|(v, access)| (v, Finite(access)))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Finite<A> {
    type Error = A::Error;
    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Finite(seed))
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Finite(visitor))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Finite(visitor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;

    #[derive(Debug, Serialize, Deserialize)]
    enum Shape {
        Unit,
        Newtype(f64),
        Tuple(f64, u32),
        Struct { x: f64 },
    }

    #[derive(Debug, Serialize, Deserialize)]
    struct Inner(f64);

    /// Every place an `f64` can sit in a serde data model.
    #[derive(Debug, Serialize, Deserialize)]
    struct All {
        plain: f64,
        single: f32,
        some: Option<f64>,
        none: Option<f64>,
        list: Vec<f64>,
        pairs: Vec<[f64; 2]>,
        tuple: (f64, String),
        newtype: Inner,
        shapes: Vec<Shape>,
        map: BTreeMap<String, f64>,
        text: String,
    }

    fn sample(v: f64) -> All {
        All {
            plain: v,
            single: v as f32,
            some: Some(v),
            none: None,
            list: vec![1.5, v, -v],
            pairs: vec![[v, 0.25]],
            tuple: (v, "inf".into()),
            newtype: Inner(v),
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(v),
                Shape::Tuple(v, 7),
                Shape::Struct { x: v },
            ],
            map: BTreeMap::from([("k".to_string(), v)]),
            text: "nan".into(),
        }
    }

    fn to_json(value: &All) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::pretty(&mut out);
        serialize(value, &mut ser).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn from_json(text: &str) -> Result<All, serde_json::Error> {
        deserialize(&mut serde_json::Deserializer::from_str(text))
    }

    /// Bit patterns, so that NaN compares equal to itself.
    fn bits(a: &All) -> Vec<u64> {
        let mut v = vec![a.plain.to_bits(), f64::from(a.single).to_bits()];
        v.extend(a.some.map(f64::to_bits));
        v.extend(a.list.iter().map(|x| x.to_bits()));
        v.extend(a.pairs.iter().flatten().map(|x| x.to_bits()));
        v.push(a.tuple.0.to_bits());
        v.push(a.newtype.0.to_bits());
        for s in &a.shapes {
            match s {
                Shape::Unit => {}
                Shape::Newtype(x) | Shape::Tuple(x, _) | Shape::Struct { x } => v.push(x.to_bits()),
            }
        }
        v.extend(a.map.values().map(|x| x.to_bits()));
        v
    }

    #[test]
    fn finite_numbers_are_written_as_serde_json_writes_them() {
        let a = sample(0.1 + 0.2);
        let ours = to_json(&a);
        assert_eq!(ours, serde_json::to_string_pretty(&a).unwrap());
        let back = from_json(&ours).unwrap();
        assert_eq!(bits(&back), bits(&a));
    }

    #[test]
    fn non_finite_numbers_round_trip_at_any_depth() {
        for v in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            let a = sample(v);
            let text = to_json(&a);
            // The one `null` is the `None`: no number became one.
            assert_eq!(text.matches("null").count(), 1, "{text}");
            let back = from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            // NaN is read back as the canonical NaN, the one the string was written from.
            let canon = |x: u64| {
                if f64::from_bits(x).is_nan() {
                    f64::NAN.to_bits()
                } else {
                    x
                }
            };
            assert_eq!(
                bits(&back).into_iter().map(canon).collect::<Vec<_>>(),
                bits(&a).into_iter().map(canon).collect::<Vec<_>>()
            );
            assert_eq!(
                to_json(&back),
                text,
                "JSON → value → JSON is byte-identical"
            );
        }
        let text = to_json(&sample(f64::NEG_INFINITY));
        assert!(text.contains(r#""plain": "-inf""#), "{text}");
        // Strings stay strings, even when they spell a number.
        assert!(text.contains(r#""text": "nan""#), "{text}");
    }

    #[test]
    fn a_string_that_is_not_a_number_is_still_an_error() {
        let text = to_json(&sample(1.0)).replace(r#""plain": 1.0"#, r#""plain": "infinity""#);
        let err = from_json(&text).unwrap_err().to_string();
        assert!(
            err.starts_with(r#"invalid type: string "infinity", expected f64 at line 2"#),
            "{err}"
        );
        let text = to_json(&sample(1.0)).replace(r#""plain": 1.0"#, r#""plain": null"#);
        let err = from_json(&text).unwrap_err().to_string();
        assert!(err.starts_with("invalid type: null, expected f64"), "{err}");
    }
}
