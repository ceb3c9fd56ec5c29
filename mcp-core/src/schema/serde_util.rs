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
