//! Evaluates ValidatingAdmissionPolicy objects with the `cel` crate (cel-rust), the way the
//! API server does for the parts our generated policies use: `matchConditions` (all must be
//! true), `variables` (evaluated in order, each visible to the later ones as
//! `variables.<name>`), `validations` (`message` on false; an evaluation error fails the
//! request under `failurePolicy: Fail`, is ignored under `Ignore`).
//!
//! The CEL variables are `object`, `oldObject`, `request` (`operation`, `userInfo.username`,
//! `userInfo.groups`, `namespace`, `name`, `subResource`), `namespaceObject` and `variables`.
//! `paramKind` is refused: the generated policies are self-contained. Differences from the API
//! server: no type checking and no cost estimation (cel-rust evaluates dynamically), variables
//! are evaluated eagerly (a variable that errors makes every expression that reads it fail).
//!
//! Pure: no I/O.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, Program, Value as Cel};
use serde_json::Value;

/// The admission request a policy sees.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `CREATE` or `UPDATE`.
    pub operation: String,
    pub username: String,
    pub groups: Vec<String>,
    pub namespace: String,
    pub name: String,
    /// `""` or `ephemeralcontainers`.
    pub sub_resource: String,
}

/// A policy that cannot be compiled or evaluated: which policy, which expression, why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{policy}: {location}: {message}")]
pub struct CelError {
    pub policy: String,
    /// e.g. `spec.validations[2].expression` or `spec.variables[0] (admittedByX)`.
    pub location: String,
    pub message: String,
}

/// One failed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Index in `spec.validations`.
    pub index: usize,
    pub expression: String,
    pub message: String,
}

/// What a policy decides for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatingVerdict {
    /// Every matchCondition held (otherwise nothing else ran and `failures` is empty).
    pub matched: bool,
    pub failures: Vec<Failure>,
}

struct Compiled {
    location: String,
    source: String,
    program: Program,
}

/// A compiled ValidatingAdmissionPolicy.
pub struct Validating {
    name: String,
    fail_closed: bool,
    conditions: Vec<Compiled>,
    variables: Vec<(String, Compiled)>,
    validations: Vec<(Compiled, String)>,
}

impl Validating {
    /// Compiles every expression of the policy.
    pub fn compile(policy: &Value) -> Result<Validating, CelError> {
        let name = policy["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let spec = &policy["spec"];
        let err = |location: String, message: String| CelError {
            policy: name.clone(),
            location,
            message,
        };
        if !spec["paramKind"].is_null() {
            return Err(err(
                "spec.paramKind".into(),
                "policies with parameters are not supported".into(),
            ));
        }
        let compile = |location: String, source: &Value| -> Result<Compiled, CelError> {
            let source = source
                .as_str()
                .ok_or_else(|| err(location.clone(), "expression is not a string".into()))?;
            let program =
                Program::compile(source).map_err(|e| err(location.clone(), e.to_string()))?;
            Ok(Compiled { location, source: source.to_owned(), program })
        };
        let list = |key: &str| spec[key].as_array().cloned().unwrap_or_default();
        let mut conditions = Vec::new();
        for (i, c) in list("matchConditions").iter().enumerate() {
            conditions
                .push(compile(format!("spec.matchConditions[{i}].expression"), &c["expression"])?);
        }
        let mut variables = Vec::new();
        for (i, v) in list("variables").iter().enumerate() {
            let var = v["name"].as_str().unwrap_or_default().to_owned();
            let c = compile(format!("spec.variables[{i}] ({var})"), &v["expression"])?;
            variables.push((var, c));
        }
        let mut validations = Vec::new();
        for (i, v) in list("validations").iter().enumerate() {
            let c = compile(format!("spec.validations[{i}].expression"), &v["expression"])?;
            let message = v["message"]
                .as_str()
                .map_or_else(|| format!("failed expression: {}", c.source), str::to_owned);
            validations.push((c, message));
        }
        Ok(Validating {
            fail_closed: spec["failurePolicy"].as_str() != Some("Ignore"),
            name,
            conditions,
            variables,
            validations,
        })
    }

    /// Evaluates the policy on one request.
    pub fn evaluate(
        &self,
        object: &Value,
        old_object: Option<&Value>,
        namespace_object: &Value,
        request: &Request,
    ) -> Result<ValidatingVerdict, CelError> {
        let mut ctx = Context::default();
        ctx.add_variable_from_value("object", to_cel(object));
        ctx.add_variable_from_value("oldObject", old_object.map_or(Cel::Null, to_cel));
        ctx.add_variable_from_value("namespaceObject", to_cel(namespace_object));
        ctx.add_variable_from_value("request", request_value(request));
        let err = |c: &Compiled, message: String| CelError {
            policy: self.name.clone(),
            location: c.location.clone(),
            message,
        };
        // Match conditions see no variables, as in the API server.
        for c in &self.conditions {
            match c.program.execute(&ctx) {
                Ok(Cel::Bool(true)) => {}
                Ok(Cel::Bool(false)) => {
                    return Ok(ValidatingVerdict { matched: false, failures: vec![] });
                }
                Ok(other) => return Err(err(c, format!("returned {other:?}, not a bool"))),
                Err(e) if self.fail_closed => return Err(err(c, e.to_string())),
                Err(_) => return Ok(ValidatingVerdict { matched: false, failures: vec![] }),
            }
        }
        let mut values: HashMap<Key, Cel> = HashMap::new();
        let mut errors: Vec<(String, String)> = Vec::new();
        for (name, c) in &self.variables {
            ctx.add_variable_from_value(
                "variables",
                Cel::Map(Map { map: Arc::new(values.clone()) }),
            );
            match c.program.execute(&ctx) {
                Ok(v) => {
                    values.insert(Key::String(Arc::new(name.clone())), v);
                }
                Err(e) => errors.push((name.clone(), format!("{}: {e}", c.location))),
            }
        }
        ctx.add_variable_from_value("variables", Cel::Map(Map { map: Arc::new(values) }));
        let mut failures = Vec::new();
        for (i, (c, message)) in self.validations.iter().enumerate() {
            let failed = |m: String| Failure { index: i, expression: c.source.clone(), message: m };
            match c.program.execute(&ctx) {
                Ok(Cel::Bool(true)) => {}
                Ok(Cel::Bool(false)) => failures.push(failed(message.clone())),
                Ok(other) => failures.push(failed(format!(
                    "expression {} returned {other:?}, not a bool",
                    c.location
                ))),
                Err(e) => {
                    if !self.fail_closed {
                        continue;
                    }
                    // A variable that failed explains the error better than its absence.
                    let cause = errors
                        .iter()
                        .find(|(n, _)| c.source.contains(&format!("variables.{n}")))
                        .map_or_else(|| e.to_string(), |(_, m)| m.clone());
                    failures.push(failed(format!("expression {} failed: {cause}", c.location)));
                }
            }
        }
        Ok(ValidatingVerdict { matched: true, failures })
    }
}

fn request_value(r: &Request) -> Cel {
    to_cel(&serde_json::json!({
        "operation": r.operation,
        "userInfo": {"username": r.username, "groups": r.groups},
        "namespace": r.namespace,
        "name": r.name,
        "subResource": r.sub_resource,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
    }))
}

/// JSON as CEL values: integers are `int` (or `uint` beyond `i64`), other numbers `double`.
pub fn to_cel(v: &Value) -> Cel {
    match v {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cel::Int(i),
            (None, Some(u)) => Cel::UInt(u),
            _ => Cel::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(m) => {
            let map: HashMap<Key, Cel> =
                m.iter().map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v))).collect();
            Cel::Map(Map { map: Arc::new(map) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(spec: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": spec})
    }

    fn req(groups: &[&str]) -> Request {
        Request {
            operation: "CREATE".into(),
            username: "alice".into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            namespace: "team".into(),
            ..Request::default()
        }
    }

    #[test]
    fn variables_chain_and_validations_report_their_messages() {
        let p = Validating::compile(&policy(json!({
            "variables": [
                {"name": "containers", "expression": "object.spec.containers"},
                {"name": "roots", "expression": "variables.containers.filter(c, has(c.securityContext) && c.securityContext.runAsUser == 0)"},
            ],
            "validations": [
                {"expression": "variables.roots.size() == 0", "message": "no root"},
                {"expression": "'dev' in request.userInfo.groups"},
                {"expression": "namespaceObject.metadata.name == request.namespace", "message": "ns"},
            ],
        })))
        .unwrap();
        let pod =
            json!({"spec": {"containers": [{"name": "a", "securityContext": {"runAsUser": 0}}]}});
        let ns = json!({"metadata": {"name": "team"}});
        let v = p.evaluate(&pod, None, &ns, &req(&[])).unwrap();
        let msgs: Vec<&str> = v.failures.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs, ["no root", "failed expression: 'dev' in request.userInfo.groups"]);
        let ok = json!({"spec": {"containers": [{"name": "a", "securityContext": {"runAsUser": 1000}}]}});
        assert!(p.evaluate(&ok, None, &ns, &req(&["dev"])).unwrap().failures.is_empty());
    }

    #[test]
    fn match_conditions_skip_and_errors_follow_the_failure_policy() {
        let spec = |fp: &str| {
            policy(json!({
                "failurePolicy": fp,
                "matchConditions": [{"name": "m", "expression": "!('system:masters' in request.userInfo.groups)"}],
                "variables": [{"name": "bad", "expression": "object.spec.missing.field"}],
                "validations": [{"expression": "variables.bad == 1", "message": "x"}],
            }))
        };
        let pod = json!({"spec": {}});
        let ns = json!({});
        let fail = Validating::compile(&spec("Fail")).unwrap();
        let v = fail.evaluate(&pod, None, &ns, &req(&[])).unwrap();
        assert_eq!(v.failures.len(), 1);
        assert!(v.failures[0].message.contains("spec.variables[0] (bad)"), "{:?}", v.failures);
        let ignore = Validating::compile(&spec("Ignore")).unwrap();
        assert!(ignore.evaluate(&pod, None, &ns, &req(&[])).unwrap().failures.is_empty());
        let masters = fail.evaluate(&pod, None, &ns, &req(&["system:masters"])).unwrap();
        assert!(!masters.matched && masters.failures.is_empty());
    }

    #[test]
    fn bad_policies_are_errors_naming_the_expression() {
        let e = Validating::compile(&policy(json!({"validations": [{"expression": "1 +"}]})))
            .err()
            .unwrap();
        assert_eq!(
            (e.policy.as_str(), e.location.as_str()),
            ("p", "spec.validations[0].expression")
        );
        let e = Validating::compile(&policy(json!({"paramKind": {"kind": "ConfigMap"}})))
            .err()
            .unwrap();
        assert_eq!(e.location, "spec.paramKind");
    }

    #[test]
    fn json_numbers_are_cel_ints() {
        assert_eq!(to_cel(&json!(5)), Cel::Int(5));
        assert_eq!(to_cel(&json!(u64::MAX)), Cel::UInt(u64::MAX));
        assert_eq!(to_cel(&json!(1.5)), Cel::Float(1.5));
    }
}
