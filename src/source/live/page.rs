//! Decoding one API list page (or one object) into a [`decode::Document`].
//!
//! The API server leaves `kind` and `apiVersion` out of the items of a list (`PodList.items[i]`
//! has neither; kubectl fills them in on the client side). The offline decoder needs them, so
//! this seed adds them to each item (when missing) before handing the item to
//! [`decode::decode_value`], the same function offline files go through. Items are decoded one
//! at a time, so a page is never held as a tree of JSON values.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::decode::{self, DecodeError, Decoded, Document};

/// Decodes a page of `kind` objects served under `api_version`.
#[derive(Clone, Copy)]
pub struct PageSeed<'a> {
    pub kind: &'a str,
    pub api_version: &'a str,
}

impl PageSeed<'_> {
    /// Decodes a response body.
    pub fn decode(self, body: &[u8]) -> Result<Document, String> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let doc = self.deserialize(&mut de).map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        Ok(doc)
    }
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = Document;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Document, D::Error> {
        struct V<'a>(PageSeed<'a>);
        impl<'de> Visitor<'de> for V<'_> {
            type Value = Document;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes list or object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
                let mut fields = Map::new();
                let mut items = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "items" {
                        items = Some(map.next_value_seed(ItemsSeed(self.0))?);
                    } else {
                        fields.insert(key, map.next_value::<Value>()?);
                    }
                }
                Ok(Document { fields, items })
            }
        }
        d.deserialize_map(V(self))
    }
}

struct ItemsSeed<'a>(PageSeed<'a>);

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = Vec<Result<Decoded, DecodeError>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V<'a>(PageSeed<'a>);
        impl<'de> Visitor<'de> for V<'_> {
            type Value = Vec<Result<Decoded, DecodeError>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of objects")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(mut v) = seq.next_element::<Value>()? {
                    if let Value::Object(obj) = &mut v {
                        obj.entry("kind").or_insert_with(|| Value::String(self.0.kind.to_owned()));
                        obj.entry("apiVersion")
                            .or_insert_with(|| Value::String(self.0.api_version.to_owned()));
                    }
                    let i = out.len();
                    out.push(decode::decode_value(v).map_err(|mut e| {
                        e.item = Some(i);
                        e
                    }));
                }
                Ok(out)
            }
        }
        d.deserialize_any(V(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: PageSeed<'static> = PageSeed { kind: "Pod", api_version: "v1" };

    #[test]
    fn items_get_kind_and_api_version() {
        let doc = SEED
            .decode(br#"{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"abc","resourceVersion":"7"},
                "items":[{"metadata":{"name":"a","namespace":"n"},"spec":{"hostPID":true},"status":{"phase":"Running"}}]}"#)
            .unwrap();
        assert_eq!(doc.continue_token(), Some("abc"));
        assert_eq!(doc.resource_version(), Some("7"));
        let objs = doc.into_objects();
        let Ok(Decoded::Pod(p)) = &objs[0] else { panic!("{objs:?}") };
        assert_eq!((p.name(), p.namespace(), p.api_version.as_str()), ("a", "n", "v1"));
        assert_eq!(p.spec.host_pid, Some(true));
    }

    #[test]
    fn explicit_kinds_win_and_errors_carry_the_index() {
        let doc = SEED
            .decode(br#"{"items":[{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"}},
                {"metadata":{"name":"b"},"spec":{"hostNetwork":"yes"}}],"metadata":{"continue":""}}"#)
            .unwrap();
        assert_eq!(doc.continue_token(), None);
        let objs = doc.into_objects();
        assert!(matches!(&objs[0], Ok(Decoded::Ignored(k)) if k == "Secret"));
        let e = objs[1].as_ref().unwrap_err();
        assert_eq!(e.item, Some(1));
        assert!(e.to_string().starts_with("items[1].spec.hostNetwork"), "{e}");
    }

    #[test]
    fn null_items_single_objects_and_garbage() {
        assert!(
            SEED.decode(br#"{"kind":"PodList","items":null}"#).unwrap().into_objects().is_empty()
        );
        let ns = PageSeed { kind: "Namespace", api_version: "v1" }
            .decode(br#"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"x"}}"#)
            .unwrap();
        assert!(
            matches!(&ns.into_objects()[0], Ok(Decoded::Namespace(n)) if n.metadata.name == "x")
        );
        assert!(SEED.decode(b"<html>").is_err());
        assert!(SEED.decode(br#"{"items":[]} trailing"#).is_err());
    }
}
