//! Label and field selectors with the apimachinery grammar and semantics.
//!
//! Label selectors: `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k>1`, `k<1`,
//! joined by `,`. `!=` and `notin` also match objects without the key. Field selectors: `f=v`,
//! `f==v`, `f!=v` joined by `,`.

use std::collections::BTreeMap;

/// Something labels can be looked up in.
pub trait Labels {
    fn label(&self, key: &str) -> Option<&str>;
}

impl Labels for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

/// Sorted by key (how the store keeps them, compactly).
impl Labels for [(String, String)] {
    fn label(&self, key: &str) -> Option<&str> {
        self.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|i| self[i].1.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Exists,
    DoesNotExist,
    In(Vec<String>),
    NotIn(Vec<String>),
    Gt(i64),
    Lt(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub op: Op,
}

impl Requirement {
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        let value = labels.label(&self.key);
        match (&self.op, value) {
            (Op::Exists, v) => v.is_some(),
            (Op::DoesNotExist, v) => v.is_none(),
            (Op::In(set), Some(v)) => set.iter().any(|s| s == v),
            (Op::In(_), None) => false,
            (Op::NotIn(set), Some(v)) => !set.iter().any(|s| s == v),
            (Op::NotIn(_), None) => true,
            (Op::Gt(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x > *n),
            (Op::Lt(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x < *n),
            (Op::Gt(_) | Op::Lt(_), None) => false,
        }
    }
}

/// A parsed label selector; empty matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<Requirement>);

impl LabelSelector {
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        self.0.iter().all(|r| r.matches(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Open,
    Close,
    Comma,
    Gt,
    Lt,
    In,
    NotIn,
}

fn lex(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::NotEq);
                i += 2;
            }
            '!' => {
                out.push(Tok::Not);
                i += 1;
            }
            '=' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::DoubleEq);
                i += 2;
            }
            '=' => {
                out.push(Tok::Eq);
                i += 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '>' => {
                out.push(Tok::Gt);
                i += 1;
            }
            '<' => {
                out.push(Tok::Lt);
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '!' | '=' | '(' | ')' | ',' | '>' | '<')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(match word.as_str() {
                    "in" => Tok::In,
                    "notin" => Tok::NotIn,
                    _ => Tok::Ident(word),
                });
            }
        }
    }
    out
}

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "EOS".into(),
        Some(Tok::Ident(s)) => s.clone(),
        Some(Tok::Not) => "!".into(),
        Some(Tok::Eq) => "=".into(),
        Some(Tok::DoubleEq) => "==".into(),
        Some(Tok::NotEq) => "!=".into(),
        Some(Tok::Open) => "(".into(),
        Some(Tok::Close) => ")".into(),
        Some(Tok::Comma) => ",".into(),
        Some(Tok::Gt) => ">".into(),
        Some(Tok::Lt) => "<".into(),
        Some(Tok::In) => "in".into(),
        Some(Tok::NotIn) => "notin".into(),
    }
}

/// Parses a label selector; the error text is what the API server reports in a 400.
pub fn parse_label_selector(s: &str) -> Result<LabelSelector, String> {
    let toks = lex(s);
    let mut reqs = Vec::new();
    let mut i = 0;
    let err = |found: Option<&Tok>, expected: &str| {
        format!("unable to parse requirement: found '{}', expected: {expected}", describe(found))
    };
    while i < toks.len() {
        let negated = toks[i] == Tok::Not;
        if negated {
            i += 1;
        }
        let key = match toks.get(i) {
            Some(Tok::Ident(k)) => k.clone(),
            t => return Err(err(t, "identifier")),
        };
        i += 1;
        if negated {
            reqs.push(Requirement { key, op: Op::DoesNotExist });
        } else {
            let op = match toks.get(i) {
                None | Some(Tok::Comma) => Op::Exists,
                Some(Tok::Eq | Tok::DoubleEq | Tok::NotEq) => {
                    let not = toks[i] == Tok::NotEq;
                    i += 1;
                    let value = match toks.get(i) {
                        Some(Tok::Ident(v)) => {
                            i += 1;
                            v.clone()
                        }
                        None | Some(Tok::Comma) => String::new(),
                        t => return Err(err(t, "identifier")),
                    };
                    if not { Op::NotIn(vec![value]) } else { Op::In(vec![value]) }
                }
                Some(Tok::In | Tok::NotIn) => {
                    let not = toks[i] == Tok::NotIn;
                    i += 1;
                    if toks.get(i) != Some(&Tok::Open) {
                        return Err(err(toks.get(i), "'('"));
                    }
                    i += 1;
                    let mut values = Vec::new();
                    loop {
                        match toks.get(i) {
                            Some(Tok::Ident(v)) => {
                                values.push(v.clone());
                                i += 1;
                            }
                            Some(Tok::Comma) => {
                                if values.is_empty() {
                                    values.push(String::new());
                                }
                                i += 1;
                                if matches!(toks.get(i), Some(Tok::Comma | Tok::Close)) {
                                    values.push(String::new());
                                }
                            }
                            Some(Tok::Close) => {
                                i += 1;
                                break;
                            }
                            t => return Err(err(t, "',', ')' or identifier")),
                        }
                    }
                    if values.is_empty() {
                        return Err(format!(
                            "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty (key {key})"
                        ));
                    }
                    if not { Op::NotIn(values) } else { Op::In(values) }
                }
                Some(Tok::Gt | Tok::Lt) => {
                    let gt = toks[i] == Tok::Gt;
                    i += 1;
                    let n = match toks.get(i) {
                        Some(Tok::Ident(v)) => v.parse::<i64>().map_err(|_| {
                            format!("unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: {v}")
                        })?,
                        t => return Err(err(t, "identifier")),
                    };
                    i += 1;
                    if gt { Op::Gt(n) } else { Op::Lt(n) }
                }
                t => return Err(err(t, "'=', '!=', '==', 'in', notin'")),
            };
            reqs.push(Requirement { key, op });
        }
        match toks.get(i) {
            None => break,
            Some(Tok::Comma) => {
                i += 1;
                if i == toks.len() {
                    return Err(err(None, "identifier"));
                }
            }
            t => return Err(err(t, "','")),
        }
    }
    Ok(LabelSelector(reqs))
}

/// One `field=value` / `field!=value` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldTerm {
    pub field: String,
    pub value: String,
    pub negated: bool,
}

impl FieldTerm {
    pub fn matches(&self, actual: &str) -> bool {
        (actual == self.value) != self.negated
    }
}

/// Parses a field selector into terms (the supported fields are checked by the caller).
pub fn parse_field_selector(s: &str) -> Result<Vec<FieldTerm>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (field, value, negated) = if let Some((f, v)) = part.split_once("!=") {
            (f, v, true)
        } else if let Some((f, v)) = part.split_once("==") {
            (f, v, false)
        } else if let Some((f, v)) = part.split_once('=') {
            (f, v, false)
        } else {
            return Err(format!("invalid selector: '{s}'; can't understand '{part}'"));
        };
        out.push(FieldTerm { field: field.trim().into(), value: value.trim().into(), negated });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn label_selector_semantics() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("n", "5")]);
        let ok = |s: &str| parse_label_selector(s).unwrap().matches(&l);
        assert!(ok(""));
        assert!(ok("app=web"));
        assert!(ok("app==web"));
        assert!(!ok("app=db"));
        assert!(ok("app!=db"));
        assert!(ok("missing!=x"));
        assert!(ok("app in (db, web)"));
        assert!(!ok("app notin (db,web)"));
        assert!(ok("missing notin (a)"));
        assert!(!ok("missing in (a)"));
        assert!(ok("app"));
        assert!(!ok("!app"));
        assert!(ok("!missing"));
        assert!(ok("app=web,tier=front"));
        assert!(!ok("app=web,tier=back"));
        assert!(ok("n>4"));
        assert!(!ok("n<4"));
        assert!(ok("app in (web),!missing, tier"));
        assert!(parse_label_selector("app in web").is_err());
        assert!(parse_label_selector("app=web,").is_err());
        assert!(parse_label_selector("=x").is_err());
    }

    #[test]
    fn field_selector_terms() {
        let t = parse_field_selector("metadata.name=a,metadata.namespace!=b").unwrap();
        assert_eq!(t.len(), 2);
        assert!(t[0].matches("a") && !t[0].matches("b"));
        assert!(t[1].matches("a") && !t[1].matches("b"));
        assert!(parse_field_selector("nonsense").is_err());
    }
}
