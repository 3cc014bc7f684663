//! JSON Schemas (draft 2020-12) of the output documents, generated from the Rust types that
//! serialize them, so a schema can never drift from what is written. `psa-migrate schema NAME`
//! prints them; the tests validate every document the commands write against its schema.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde_json::Value;

use crate::apply::journal::{JOURNAL_SCHEMA_VERSION, Journal};
use crate::discover::{INVENTORY_SCHEMA_VERSION, InventoryReport};
use crate::evaluate::{CHECK_SCHEMA_VERSION, CheckReport};
use crate::mapping::{MAP_SCHEMA_VERSION, MapReport};
use crate::plan::{PLAN_SCHEMA_VERSION, Plan};
use crate::simulate::admit::{ADMIT_SCHEMA_VERSION, AdmitReport};

/// One published document.
#[derive(Clone, Copy, Debug)]
pub struct Document {
    /// The name `psa-migrate schema` takes.
    pub name: &'static str,
    /// Its `schemaVersion`.
    pub schema_version: &'static str,
    /// What writes it.
    pub about: &'static str,
    generate: fn() -> Schema,
}

impl Document {
    /// The document's JSON Schema, with `schemaVersion` pinned to this version.
    pub fn schema(&self) -> Value {
        let mut schema = (self.generate)().to_value();
        if let Some(obj) = schema.as_object_mut() {
            obj.insert("title".into(), format!("{} ({})", self.about, self.schema_version).into());
        }
        if let Some(v) = schema.pointer_mut("/properties/schemaVersion") {
            *v = serde_json::json!({"type": "string", "const": self.schema_version});
        }
        close_objects(&mut schema, false);
        schema
    }
}

/// Marks every object schema closed (`unevaluatedProperties: false`), so that a key the types do
/// not write (a misspelt or snake_case one) fails validation. The variants of a flattened enum
/// (`oneOf` beside `properties`) are left open: the object that holds them closes them, seeing
/// the properties the matching variant evaluated.
fn close_objects(schema: &mut Value, inside_flattened: bool) {
    match schema {
        Value::Object(m) => {
            let has_properties = m.contains_key("properties");
            if has_properties && !inside_flattened && !m.contains_key("additionalProperties") {
                m.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            for (k, v) in m.iter_mut() {
                let combinator = matches!(k.as_str(), "oneOf" | "anyOf" | "allOf");
                close_objects(v, combinator && has_properties);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| close_objects(v, inside_flattened)),
        _ => {}
    }
}

fn generate<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12().for_serialize().into_generator().into_root_schema_for::<T>()
}

/// Every published document, in the order `psa-migrate schema --list` prints them.
pub const DOCUMENTS: [Document; 7] = [
    Document {
        name: "check",
        schema_version: CHECK_SCHEMA_VERSION,
        about: "psa-migrate check -o json",
        generate: generate::<CheckReport>,
    },
    Document {
        name: "inventory",
        schema_version: INVENTORY_SCHEMA_VERSION,
        about: "psa-migrate inventory -o json",
        generate: generate::<InventoryReport>,
    },
    Document {
        name: "map",
        schema_version: MAP_SCHEMA_VERSION,
        about: "psa-migrate map -o json",
        generate: generate::<MapReport>,
    },
    Document {
        name: "plan",
        schema_version: PLAN_SCHEMA_VERSION,
        about: "psa-migrate plan: plan.json and plan -o json",
        generate: generate::<Plan>,
    },
    Document {
        name: "admit",
        schema_version: ADMIT_SCHEMA_VERSION,
        about: "psa-migrate admit -o json",
        generate: generate::<AdmitReport>,
    },
    Document {
        name: "fix",
        schema_version: crate::fix::FIX_SCHEMA_VERSION,
        about: "psa-migrate fix -o json",
        generate: generate::<crate::fix::FixReport>,
    },
    Document {
        name: "journal",
        schema_version: JOURNAL_SCHEMA_VERSION,
        about: "psa-migrate apply: DIR/journal.json",
        generate: generate::<Journal>,
    },
];

/// The document called `name`.
pub fn document(name: &str) -> Option<&'static Document> {
    DOCUMENTS.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_has_a_schema_pinning_its_version() {
        for d in &DOCUMENTS {
            let s = d.schema();
            assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema", "{}", d.name);
            assert_eq!(s["properties"]["schemaVersion"]["const"], d.schema_version, "{}", d.name);
            let prefix = format!("psa-migrate.{}/v", d.name);
            assert!(d.schema_version.starts_with(&prefix), "{}", d.schema_version);
            let required = s["required"].as_array().unwrap();
            assert!(required.iter().any(|r| r == "schemaVersion"), "{}", d.name);
        }
        assert!(document("plan").is_some());
        assert!(document("nope").is_none());
    }

    /// Keys are camelCase everywhere in the schemas (Kubernetes' own style).
    #[test]
    fn property_names_are_camel_case() {
        fn walk(v: &Value, doc: &str) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::Object(props)) = m.get("properties") {
                        for k in props.keys() {
                            assert!(
                                !k.contains('_')
                                    && !k.contains('-')
                                    && k.starts_with(char::is_lowercase),
                                "{doc}: property {k}"
                            );
                        }
                    }
                    m.values().for_each(|x| walk(x, doc));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, doc)),
                _ => {}
            }
        }
        for d in &DOCUMENTS {
            walk(&d.schema(), d.name);
        }
    }
}
