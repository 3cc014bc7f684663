//! Pod Security Standards levels and policy versions.
//!
//! Pure values: parsing and printing follow the upstream rules exactly (a version is `latest` or
//! `v1.N` with no leading zeros and no patch part).

use std::fmt;
use std::str::FromStr;

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Pod Security Standards level, ordered from least to most restrictive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Privileged, Level::Baseline, Level::Restricted];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// The less restrictive of two levels.
    pub fn looser(self, other: Level) -> Level {
        self.min(other)
    }

    /// The more restrictive of two levels.
    pub fn stricter(self, other: Level) -> Level {
        self.max(other)
    }

    /// The next more restrictive level; `None` for restricted.
    pub fn next_stricter(self) -> Option<Level> {
        match self {
            Level::Privileged => Some(Level::Baseline),
            Level::Baseline => Some(Level::Restricted),
            Level::Restricted => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a level or version that does not parse; the message matches upstream's
/// namespace label validation text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub &'static str);

impl FromStr for Level {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(ParseError("must be one of privileged, baseline, restricted")),
        }
    }
}

/// A policy version: `latest` or `v1.N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    Latest,
    /// `v1.<minor>`
    Minor(u32),
}

impl Version {
    /// The minor version the checks run at, given the newest version the catalogue knows.
    /// `latest` and anything newer than `max` evaluate as `max` (upstream behaviour).
    pub fn resolve(self, max: u32) -> u32 {
        match self {
            Version::Latest => max,
            Version::Minor(m) => m.min(max),
        }
    }

    /// Ordering where `latest` is newer than every pinned version.
    pub fn rank(self) -> u64 {
        match self {
            Version::Latest => u64::MAX,
            Version::Minor(m) => u64::from(m),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Minor(m) => write!(f, "v1.{m}"),
        }
    }
}

impl FromStr for Version {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const BAD: ParseError = ParseError("must be \"latest\" or \"v1.x\"");
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let minor = s.strip_prefix("v1.").ok_or(BAD)?;
        let digits_ok = !minor.is_empty()
            && minor.bytes().all(|b| b.is_ascii_digit())
            && (minor == "0" || !minor.starts_with('0'));
        if !digits_ok {
            return Err(BAD);
        }
        minor.parse().map(Version::Minor).map_err(|_| BAD)
    }
}

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
string_serde!(Level);
string_serde!(Version);

impl JsonSchema for Level {
    fn schema_name() -> Cow<'static, str> {
        "Level".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Pod Security Standards level.",
            "type": "string",
            "enum": Level::ALL.map(Level::as_str),
        })
    }
}

/// The schema of a level that may be `none` (serialized as the string, never `null`): a
/// namespace whose pods may use no PodSecurityPolicy.
pub struct LevelOrNone;

impl JsonSchema for LevelOrNone {
    fn schema_name() -> Cow<'static, str> {
        "LevelOrNone".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Pod Security Standards level, or `none` when no PodSecurityPolicy applies.",
            "type": "string",
            "enum": ["privileged", "baseline", "restricted", "none"],
        })
    }
}

impl JsonSchema for Version {
    fn schema_name() -> Cow<'static, str> {
        "Version".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Pod Security Standards policy version: `latest` or `v1.N`.",
            "type": "string",
            "pattern": "^(latest|v1\\.(0|[1-9][0-9]*))$",
        })
    }
}

/// `<level>:<version>` as upstream prints it in messages.
pub fn level_version(level: Level, version: Version) -> String {
    format!("{level}:{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_like_upstream() {
        assert_eq!("latest".parse(), Ok(Version::Latest));
        assert_eq!("v1.0".parse(), Ok(Version::Minor(0)));
        assert_eq!("v1.37".parse(), Ok(Version::Minor(37)));
        for bad in ["v1.01", "v2.1", "1.24", "v1.", "v1.24.1", "Latest", "v1.-1", ""] {
            assert!(bad.parse::<Version>().is_err(), "{bad} should not parse");
        }
        assert_eq!(Version::Minor(99).resolve(37), 37);
        assert_eq!(Version::Latest.resolve(37), 37);
        assert_eq!(Version::Minor(24).resolve(37), 24);
    }

    #[test]
    fn levels_order_and_print() {
        assert!(Level::Privileged < Level::Baseline && Level::Baseline < Level::Restricted);
        assert_eq!(Level::Baseline.looser(Level::Restricted), Level::Baseline);
        assert_eq!(Level::Baseline.stricter(Level::Restricted), Level::Restricted);
        assert_eq!(level_version(Level::Restricted, Version::Minor(24)), "restricted:v1.24");
        assert!("Baseline".parse::<Level>().is_err());
    }
}
