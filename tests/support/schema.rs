//! Validation of output documents against the JSON Schemas `psa-migrate schema NAME` prints.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// The schema of a document, from the built binary (once per name).
pub fn schema(name: &str) -> Value {
    static CACHE: OnceLock<Mutex<BTreeMap<String, Value>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(s) = cache.lock().unwrap().get(name) {
        return s.clone();
    }
    let out = cargo_bin_cmd!("psa-migrate").args(["schema", name]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "schema {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).expect("a schema is JSON");
    cache.lock().unwrap().insert(name.to_owned(), s.clone());
    s
}

/// Panics, naming every error and where it is, unless `doc` is valid against schema `name`.
pub fn assert_valid(name: &str, doc: &Value, what: &str) {
    let schema = schema(name);
    let validator = jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("schema {name} does not compile: {e}"));
    let errors: Vec<String> =
        validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} is not a valid {name} document:\n{}", errors.join("\n"));
}
