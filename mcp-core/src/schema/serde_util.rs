//! Serde plumbing shared by the schema modules: number formatting, present-null fields,
//! and decoding a tagged union by looking at one key first.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::{Map, Value};

/// The largest integer an `f64` holds exactly (2^53).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// Writes an integral `f64` as a JSON integer (`50`, not `50.0`).
///
/// JSON has one number type; writing integral values without a fraction keeps a decoded
/// `"progress": 50` byte-for-byte (and `Value`-equal) when it is encoded again.
pub(crate) fn f64_compact<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() <= MAX_EXACT {
        // Exact: |v| <= 2^53 and integral.
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// [`f64_compact`] for an optional field (only called when `Some`, as the field is skipped on `None`).
pub(crate) fn opt_f64_compact<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => f64_compact(v, s),
        None => s.serialize_none(),
    }
}

/// Deserializes a field that may hold any JSON value including `null`, so that a present
/// `null` becomes `Some(Value::Null)` (and is written back) while an absent field stays `None`.
/// Use with `#[serde(default)]`.
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Decodes a JSON object that was already read into a map as `T`.
pub(crate) fn from_map<T: DeserializeOwned, E: serde::de::Error>(map: Map<String, Value>) -> Result<T, E> {
    T::deserialize(map).map_err(E::custom)
}

/// A JSON object of a tagged union, with the string value of its tag key (if present).
pub(crate) type Tagged = (Map<String, Value>, Option<String>);

/// Reads a JSON object for a tagged union and returns it with the string value of `key`.
pub(crate) fn tagged_object<'de, D: Deserializer<'de>>(d: D, what: &str, key: &str) -> Result<Tagged, D::Error> {
    let value = Value::deserialize(d)?;
    let Value::Object(map) = value else {
        return Err(D::Error::custom(format_args!("{what} must be a JSON object")));
    };
    let tag = match map.get(key) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(D::Error::custom(format_args!("{what}: \"{key}\" must be a string, found {other}")));
        }
    };
    Ok((map, tag))
}

/// An object key, borrowed from the input when it holds no escapes.
pub(crate) enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }

    pub(crate) fn into_string(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_owned(),
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

// How `deserialize_with_extra!` finishes a field from what it read (`None`: the key was absent).

/// An `Option` field: absent and `null` are both `None`.
pub(crate) fn optional<T, E>(read: Option<Option<T>>, _key: &'static str) -> Result<Option<T>, E> {
    Ok(read.flatten())
}

/// A required field.
pub(crate) fn required<T, E: serde::de::Error>(read: Option<T>, key: &'static str) -> Result<T, E> {
    read.ok_or_else(|| E::missing_field(key))
}

/// An `Option<Value>` field that keeps a present `null` as `Some(Value::Null)` (see [`present`]).
pub(crate) fn kept<T, E>(read: Option<T>, _key: &'static str) -> Result<Option<T>, E> {
    Ok(read)
}

/// A required list that starts with room for one item: serde's `Vec` starts empty when the
/// input gives no length (serde_json never does) and grows to four on the first push, which for
/// content blocks (~300 bytes each) is an allocation too large for the allocator's fast path;
/// most results hold one block.
pub(crate) struct List<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ListVisitor<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(1).clamp(1, 16));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(List(items))
            }
        }
        d.deserialize_seq(ListVisitor(std::marker::PhantomData))
    }
}

/// A required [`List`] field.
pub(crate) fn required_list<T, E: serde::de::Error>(read: Option<List<T>>, key: &'static str) -> Result<Vec<T>, E> {
    required(read, key).map(|list| list.0)
}

/// Implements `Deserialize` for a struct of known fields plus `extra: JsonObject`, which keeps
/// every other key: the same result as `#[serde(flatten)] extra` with the derive, in one pass
/// (the derive reads the whole object into a buffer first and decodes it a second time, which
/// made it the largest cost of decoding a `tools/call` result). Each field names its key and
/// how it is finished: `optional` (`Option<T>`, `null` and absent are `None`), `required`,
/// `required_list` (a `Vec` sized for one item first, see [`List`]), or
/// `kept` (`Option<Value>` where a present `null` is `Some(Value::Null)`). A known key given
/// twice is an error, as with the derive.
macro_rules! deserialize_with_extra {
    ($ty:ident, $expecting:literal, { $($field:ident: $key:literal => $finish:ident),* $(,)? }) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> ::serde::de::Visitor<'de> for Fields {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        $(let mut $field = None;)*
                        let mut extra = $crate::schema::base::JsonObject::new();
                        while let Some(key) = map.next_key::<$crate::schema::serde_util::Key<'de>>()? {
                            match key.as_str() {
                                $($key => {
                                    if $field.is_some() {
                                        return Err(<A::Error as ::serde::de::Error>::duplicate_field($key));
                                    }
                                    $field = Some(map.next_value()?);
                                })*
                                _ => {
                                    let value = map.next_value()?;
                                    extra.insert(key.into_string(), value);
                                }
                            }
                        }
                        Ok($ty {
                            $($field: $crate::schema::serde_util::$finish::<_, A::Error>($field, $key)?,)*
                            extra,
                        })
                    }
                }
                deserializer.deserialize_map(Fields)
            }
        }
    };
}
pub(crate) use deserialize_with_extra;

/// Generates `HasMeta` for types with a `meta: Option<Meta>` field.
macro_rules! impl_has_meta {
    ($($ty:ty),* $(,)?) => {
        $(
            impl $crate::schema::base::HasMeta for $ty {
                fn meta(&self) -> Option<&$crate::schema::base::Meta> {
                    self.meta.as_ref()
                }
                fn meta_mut(&mut self) -> &mut Option<$crate::schema::base::Meta> {
                    &mut self.meta
                }
            }
        )*
    };
}
pub(crate) use impl_has_meta;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct N(#[serde(serialize_with = "f64_compact")] f64);

    #[test]
    fn integral_floats_are_written_as_integers() {
        assert_eq!(serde_json::to_string(&N(50.0)).unwrap(), "50");
        assert_eq!(serde_json::to_string(&N(-3.0)).unwrap(), "-3");
        assert_eq!(serde_json::to_string(&N(0.5)).unwrap(), "0.5");
        assert_eq!(serde_json::to_string(&N(1e300)).unwrap(), "1e+300");
    }
}
