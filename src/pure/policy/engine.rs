//! Evaluates ValidatingAdmissionPolicy and MutatingAdmissionPolicy objects with the `cel`
//! crate (cel-rust), the way the API server does for the parts our generated policies use:
//! `matchConditions` (all must be true), `variables` (evaluated in order, each visible to the
//! later ones as `variables.<name>`), `validations` (`message` on false; an evaluation error
//! fails the request under `failurePolicy: Fail`, is ignored under `Ignore`), and `JSONPatch`
//! mutations (each evaluated on the object as the mutations before it left it, its
//! `JSONPatch{op, path, value}` list applied as RFC 6902 with the `json-patch` crate).
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

use cel::common::types;
use cel::common::value::{CowVal, Val};
use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, Program, StructType, Value as Cel};
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

/// What the two policy kinds share: name, failure policy, match conditions and variables.
struct Common {
    name: String,
    fail_closed: bool,
    conditions: Vec<Compiled>,
    variables: Vec<(String, Compiled)>,
}

impl Common {
    fn err(&self, c: &Compiled, message: String) -> CelError {
        CelError { policy: self.name.clone(), location: c.location.clone(), message }
    }

    /// Compiles the shared parts: match conditions and variables.
    fn compile(policy: &Value) -> Result<Common, CelError> {
        let name = policy["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let spec = &policy["spec"];
        if !spec["paramKind"].is_null() {
            return Err(CelError {
                policy: name,
                location: "spec.paramKind".into(),
                message: "policies with parameters are not supported".into(),
            });
        }
        let mut conditions = Vec::new();
        for (i, c) in list(spec, "matchConditions").iter().enumerate() {
            let location = format!("spec.matchConditions[{i}].expression");
            conditions.push(compile(&name, location, &c["expression"])?);
        }
        let mut variables = Vec::new();
        for (i, v) in list(spec, "variables").iter().enumerate() {
            let var = v["name"].as_str().unwrap_or_default().to_owned();
            let c = compile(&name, format!("spec.variables[{i}] ({var})"), &v["expression"])?;
            variables.push((var, c));
        }
        Ok(Common {
            fail_closed: spec["failurePolicy"].as_str() != Some("Ignore"),
            name,
            conditions,
            variables,
        })
    }

    /// The request's context; `None` when a match condition excludes it.
    fn context(
        &self,
        env: Arc<Env>,
        object: &Value,
        old_object: Option<&Value>,
        namespace_object: &Value,
        request: &Request,
    ) -> Result<Option<Bound>, CelError> {
        let mut ctx = Context::with_env(env);
        ctx.add_variable_from_value("object", to_cel(object));
        ctx.add_variable_from_value("oldObject", old_object.map_or(Cel::Null, to_cel));
        ctx.add_variable_from_value("namespaceObject", to_cel(namespace_object));
        ctx.add_variable_from_value("request", request_value(request));
        // Match conditions see no variables, as in the API server.
        for c in &self.conditions {
            match c.program.execute(&ctx) {
                Ok(Cel::Bool(true)) => {}
                Ok(Cel::Bool(false)) => return Ok(None),
                Ok(other) => return Err(self.err(c, format!("returned {other:?}, not a bool"))),
                Err(e) if self.fail_closed => return Err(self.err(c, e.to_string())),
                Err(_) => return Ok(None),
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
        Ok(Some(Bound { ctx, errors }))
    }
}

/// A context with the request's variables bound, and the variables that failed.
struct Bound {
    ctx: Context<'static, 'static>,
    errors: Vec<(String, String)>,
}

impl Bound {
    /// The error of a failed variable `source` reads, which explains its failure best.
    fn cause(&self, source: &str, e: String) -> String {
        self.errors
            .iter()
            .find(|(n, _)| source.contains(&format!("variables.{n}")))
            .map_or(e, |(_, m)| m.clone())
    }
}

fn list(spec: &Value, key: &str) -> Vec<Value> {
    spec[key].as_array().cloned().unwrap_or_default()
}

fn compile(policy: &str, location: String, source: &Value) -> Result<Compiled, CelError> {
    let err = |message: String| CelError {
        policy: policy.to_owned(),
        location: location.clone(),
        message,
    };
    let source = source.as_str().ok_or_else(|| err("expression is not a string".into()))?;
    let program = Program::compile(source).map_err(|e| err(e.to_string()))?;
    Ok(Compiled { location, source: source.to_owned(), program })
}

/// A compiled ValidatingAdmissionPolicy.
pub struct Validating {
    common: Common,
    validations: Vec<(Compiled, String)>,
    env: Arc<Env>,
}

impl Validating {
    /// Compiles every expression of the policy.
    pub fn compile(policy: &Value) -> Result<Validating, CelError> {
        let common = Common::compile(policy)?;
        let mut validations = Vec::new();
        for (i, v) in list(&policy["spec"], "validations").iter().enumerate() {
            let location = format!("spec.validations[{i}].expression");
            let c = compile(&common.name, location, &v["expression"])?;
            let message = v["message"]
                .as_str()
                .map_or_else(|| format!("failed expression: {}", c.source), str::to_owned);
            validations.push((c, message));
        }
        Ok(Validating { common, validations, env: Arc::new(Env::stdlib()) })
    }

    /// Evaluates the policy on one request.
    pub fn evaluate(
        &self,
        object: &Value,
        old_object: Option<&Value>,
        namespace_object: &Value,
        request: &Request,
    ) -> Result<ValidatingVerdict, CelError> {
        let env = self.env.clone();
        let Some(bound) =
            self.common.context(env, object, old_object, namespace_object, request)?
        else {
            return Ok(ValidatingVerdict { matched: false, failures: vec![] });
        };
        let ctx = &bound.ctx;
        let mut failures = Vec::new();
        for (i, (c, message)) in self.validations.iter().enumerate() {
            let failed = |m: String| Failure { index: i, expression: c.source.clone(), message: m };
            match c.program.execute(ctx) {
                Ok(Cel::Bool(true)) => {}
                Ok(Cel::Bool(false)) => failures.push(failed(message.clone())),
                Ok(other) => failures.push(failed(format!(
                    "expression {} returned {other:?}, not a bool",
                    c.location
                ))),
                Err(e) => {
                    if !self.common.fail_closed {
                        continue;
                    }
                    let cause = bound.cause(&c.source, e.to_string());
                    failures.push(failed(format!("expression {} failed: {cause}", c.location)));
                }
            }
        }
        Ok(ValidatingVerdict { matched: true, failures })
    }
}

/// What a mutation policy does with one request.
#[derive(Clone, Debug, PartialEq)]
pub struct MutatingVerdict {
    /// Every matchCondition held.
    pub matched: bool,
    /// The object after every mutation.
    pub object: Value,
    /// The patch operations applied, in order.
    pub operations: Vec<Value>,
}

/// A compiled MutatingAdmissionPolicy (`JSONPatch` mutations only).
pub struct Mutating {
    common: Common,
    mutations: Vec<Compiled>,
    env: Arc<Env>,
}

impl Mutating {
    /// Compiles every expression of the policy.
    pub fn compile(policy: &Value) -> Result<Mutating, CelError> {
        let common = Common::compile(policy)?;
        let mut mutations = Vec::new();
        for (i, m) in list(&policy["spec"], "mutations").iter().enumerate() {
            let location = format!("spec.mutations[{i}].jsonPatch.expression");
            if m["patchType"] != "JSONPatch" {
                return Err(CelError {
                    policy: common.name.clone(),
                    location: format!("spec.mutations[{i}].patchType"),
                    message: format!(
                        "only JSONPatch mutations are supported, not {}",
                        m["patchType"]
                    ),
                });
            }
            mutations.push(compile(&common.name, location, &m["jsonPatch"]["expression"])?);
        }
        let mut env = Env::stdlib();
        env.add_type(JsonPatchType(types::Type::new_struct("JSONPatch".to_owned()))).map_err(
            |e| CelError {
                policy: common.name.clone(),
                location: "JSONPatch".into(),
                message: format!("{e:?}"),
            },
        )?;
        Ok(Mutating { common, mutations, env: Arc::new(env) })
    }

    /// Evaluates the policy on one CREATE request: each mutation sees the object as the ones
    /// before it left it. An error fails the request under `failurePolicy: Fail` and skips the
    /// mutation under `Ignore`.
    pub fn evaluate(
        &self,
        object: &Value,
        namespace_object: &Value,
        request: &Request,
    ) -> Result<MutatingVerdict, CelError> {
        let mut current = object.clone();
        let mut operations = Vec::new();
        // The context is bound again only after a mutation changed the object.
        let mut bound: Option<Bound> = None;
        for m in &self.mutations {
            if bound.is_none() {
                let env = self.env.clone();
                match self.common.context(env, &current, None, namespace_object, request)? {
                    Some(b) => bound = Some(b),
                    None => {
                        return Ok(MutatingVerdict { matched: false, object: current, operations });
                    }
                }
            }
            let Some(b) = &bound else { continue };
            let ops = match m.program.execute(&b.ctx) {
                Ok(v) => json_patch_ops(&v).map_err(|e| self.common.err(m, e)),
                Err(e) => Err(self.common.err(m, b.cause(&m.source, e.to_string()))),
            };
            let ops = match ops {
                Ok(ops) if ops.is_empty() => continue,
                Ok(ops) => ops,
                Err(_) if !self.common.fail_closed => continue,
                Err(e) => return Err(e),
            };
            let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops.clone()))
                .map_err(|e| self.common.err(m, format!("not a JSON Patch: {e}")))?;
            match json_patch::patch(&mut current, &patch) {
                Ok(()) => {
                    operations.extend(ops);
                    bound = None;
                }
                Err(_) if !self.common.fail_closed => {}
                Err(e) => return Err(self.common.err(m, format!("the patch does not apply: {e}"))),
            }
        }
        Ok(MutatingVerdict { matched: true, object: current, operations })
    }
}

/// The `JSONPatch` type of JSONPatch mutations: `op`, `path` and `from` strings and a `value`
/// of any type (a `StructDef` field has one fixed type).
struct JsonPatchType(types::Type);

impl StructType for JsonPatchType {
    fn get_type(&self) -> &types::Type {
        &self.0
    }

    fn new_value<'b, 'v>(
        &self,
        fields: std::collections::BTreeMap<String, CowVal<'b, 'v>>,
    ) -> Result<Box<dyn Val + 'v>, ExecutionError> {
        let mut s = types::CelStruct::new("JSONPatch".to_owned());
        for (field, value) in fields {
            let string = value.get_type() == &types::STRING_TYPE;
            match field.as_str() {
                "op" | "path" | "from" if !string => {
                    return Err(ExecutionError::UnexpectedType {
                        got: value.get_type().name().to_owned(),
                        want: format!("string for field {field} in JSONPatch"),
                    });
                }
                "op" | "path" | "from" | "value" => s.add_field_value(field, value),
                _ => {
                    return Err(ExecutionError::NoSuchKey(Arc::new(format!(
                        "field `{field}` on struct `JSONPatch`"
                    ))));
                }
            }
        }
        Ok(Box::new(s))
    }
}

/// The operations of a `JSONPatch` list, as RFC 6902 JSON.
fn json_patch_ops(v: &Cel) -> Result<Vec<Value>, String> {
    let Cel::List(items) = v else { return Err(format!("returned {v:?}, not a list")) };
    let mut ops = Vec::new();
    for item in items.iter() {
        let Cel::Struct(s) = item else {
            return Err(format!("list item {item:?} is not a JSONPatch"));
        };
        if s.name() != "JSONPatch" {
            return Err(format!("list item is a {}, not a JSONPatch", s.name()));
        }
        let mut op = serde_json::Map::new();
        for (field, value) in s.field_values() {
            let value = Cel::try_from(value.as_ref()).map_err(|e| format!("{field}: {e:?}"))?;
            op.insert(field, from_cel(&value)?);
        }
        ops.push(Value::Object(op));
    }
    Ok(ops)
}

/// CEL values back to JSON (map keys must be strings).
pub fn from_cel(v: &Cel) -> Result<Value, String> {
    Ok(match v {
        Cel::Null => Value::Null,
        Cel::Bool(b) => Value::Bool(*b),
        Cel::Int(i) => Value::from(*i),
        Cel::UInt(u) => Value::from(*u),
        Cel::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Cel::String(s) => Value::String(s.to_string()),
        Cel::List(items) => Value::Array(items.iter().map(from_cel).collect::<Result<_, _>>()?),
        Cel::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.map.iter() {
                let Key::String(k) = k else {
                    return Err(format!("map key {k:?} is not a string"));
                };
                out.insert(k.to_string(), from_cel(v)?);
            }
            Value::Object(out)
        }
        other => return Err(format!("{other:?} has no JSON form")),
    })
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

    fn mutating(spec: Value) -> Mutating {
        Mutating::compile(&policy(spec)).unwrap()
    }

    #[test]
    fn json_patch_mutations_apply_in_order_each_seeing_the_last() {
        let m = mutating(json!({
            "variables": [{"name": "hasSc", "expression": "has(object.spec.securityContext)"}],
            "mutations": [
                {"patchType": "JSONPatch", "jsonPatch": {"expression":
                    "variables.hasSc ? [] : [JSONPatch{op: 'add', path: '/spec/securityContext', value: {}}]"}},
                {"patchType": "JSONPatch", "jsonPatch": {"expression":
                    "variables.hasSc ? [JSONPatch{op: 'add', path: '/spec/securityContext/runAsNonRoot', value: true}] : []"}},
            ],
        }));
        let pod = json!({"spec": {"containers": [{"name": "a"}]}});
        let v = m.evaluate(&pod, &json!({}), &req(&[])).unwrap();
        assert!(v.matched);
        assert_eq!(v.object["spec"]["securityContext"], json!({"runAsNonRoot": true}));
        assert_eq!(v.operations.len(), 2);
    }

    #[test]
    fn bad_mutations_follow_the_failure_policy() {
        let spec = |fp: &str| {
            json!({
                "failurePolicy": fp,
                "mutations": [{"patchType": "JSONPatch", "jsonPatch": {"expression":
                    "[JSONPatch{op: 'replace', path: '/spec/missing/x', value: 1}]"}}],
            })
        };
        let pod = json!({"spec": {}});
        let e = mutating(spec("Fail")).evaluate(&pod, &json!({}), &req(&[])).err().unwrap();
        assert!(e.message.contains("the patch does not apply"), "{e}");
        let v = mutating(spec("Ignore")).evaluate(&pod, &json!({}), &req(&[])).unwrap();
        assert_eq!(v.object, pod);
        let e = Mutating::compile(&policy(json!({"mutations": [
            {"patchType": "ApplyConfiguration", "applyConfiguration": {"expression": "Object{}"}},
        ]})))
        .err()
        .unwrap();
        assert_eq!(e.location, "spec.mutations[0].patchType");
        let e =
            mutating(json!({"mutations": [{"patchType": "JSONPatch", "jsonPatch": {"expression":
            "[JSONPatch{op: 'add', path: 1, value: 1}]"}}]}))
            .evaluate(&pod, &json!({}), &req(&[]))
            .err()
            .unwrap();
        assert!(e.message.contains("string for field path"), "{e}");
    }

    #[test]
    fn json_numbers_are_cel_ints() {
        assert_eq!(to_cel(&json!(5)), Cel::Int(5));
        assert_eq!(to_cel(&json!(u64::MAX)), Cel::UInt(u64::MAX));
        assert_eq!(to_cel(&json!(1.5)), Cel::Float(1.5));
    }
}
