//! `seLinux`: MustRunAs (sets the PSP's options where none are, and requires them exactly;
//! levels compare as MCS labels, categories in any order), RunAsAny.

use std::collections::BTreeSet;

use crate::model::pod::SeLinuxOptions;
use crate::model::psp::SeLinuxStrategy;
use crate::simulate::{FieldError, go};

#[derive(Clone, Debug, PartialEq)]
pub enum SeLinuxRule {
    MustRunAs(SeLinuxOptions),
    RunAsAny,
}

impl SeLinuxRule {
    pub fn from_psp(s: Option<&SeLinuxStrategy>) -> Result<SeLinuxRule, String> {
        match s.map_or("", |s| s.rule.as_str()) {
            "MustRunAs" => match s.and_then(|s| s.se_linux_options.clone()) {
                Some(o) => Ok(SeLinuxRule::MustRunAs(o)),
                None => Err("seLinux: MustRunAs needs seLinuxOptions".into()),
            },
            "RunAsAny" | "" => Ok(SeLinuxRule::RunAsAny),
            other => Err(format!("seLinux: unrecognized rule {other:?}")),
        }
    }

    pub fn generate(&self) -> Option<SeLinuxOptions> {
        match self {
            SeLinuxRule::MustRunAs(o) => Some(o.clone()),
            SeLinuxRule::RunAsAny => None,
        }
    }

    pub fn validate(&self, path: &str, opts: Option<&SeLinuxOptions>) -> Vec<FieldError> {
        let SeLinuxRule::MustRunAs(want) = self else { return Vec::new() };
        let Some(got) = opts else { return vec![FieldError::required(path, "")] };
        let mut out = Vec::new();
        if !equal_levels(&want.level, &got.level) {
            out.push(FieldError::invalid(
                format!("{path}.level"),
                go::str(&got.level),
                format!("must be {}", want.level),
            ));
        }
        for (name, w, g) in [
            ("role", &want.role, &got.role),
            ("type", &want.type_, &got.type_),
            ("user", &want.user, &got.user),
        ] {
            if w != g {
                out.push(FieldError::invalid(
                    format!("{path}.{name}"),
                    go::str(g),
                    format!("must be {w}"),
                ));
            }
        }
        out
    }
}

/// Whether two MCS levels are the same: equal sensitivity, same set of categories.
pub fn equal_levels(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let split = |l: &str| -> (String, BTreeSet<String>) {
        match l.split_once(':') {
            Some((s, cats)) => {
                (s.to_owned(), cats.split(',').map(|c| c.trim().to_owned()).collect())
            }
            None => (l.to_owned(), BTreeSet::new()),
        }
    };
    split(a) == split(b)
}
