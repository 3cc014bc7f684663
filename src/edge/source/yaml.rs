//! YAML documents read the way kubectl reads them.
//!
//! kubectl (through sigs.k8s.io/yaml) parses each document with go-yaml v2, a YAML 1.1 parser,
//! into untyped values, converts those to JSON, and only then types the fields. So a plain
//! `privileged: on` is the boolean `true`, `runAsUser: 0.0` is the integer 0, and a quoted
//! `"on"` stays a string (an error for a boolean field). This module is a serde deserializer
//! over the YAML events of granit (the parser serde-saphyr is built on) that resolves plain
//! scalars with go-yaml v2's rules ([`resolve_plain`]), keeps the last value of a key given twice
//! (recording each such key with its position), merges `<<` keys as go-yaml v2 does (in place,
//! later keys overriding earlier ones), turns mapping keys into strings as sigs.k8s.io/yaml
//! does, and knows where every node starts ([`Placed`]).
//!
//! Only one document is read (the caller splits the stream the way kubectl does); anchors and
//! aliases are replayed within a budget, and nesting is limited, so bad input is an error,
//! never a crash or a hang.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_saphyr::granit_parser::{
    Event, Marker, Options, Parser, ScalarStyle, Span, StrInput, Tag,
};

use crate::decode::Position;
use crate::source::offline::{DuplicateKey, MAX_DEPTH, SeenKeys};

/// A problem reading a YAML document: the message, and where when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub position: Option<Position>,
}

impl Error {
    fn at(message: impl Into<String>, position: Option<Position>) -> Error {
        Error { message: message.into(), position }
    }

    /// The error, placed at `position` unless it already has a place.
    fn or_at(mut self, position: Option<Position>) -> Error {
        self.position = self.position.or(position);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::at(msg.to_string(), None)
    }
}

/// A document read: the value, where its root node starts, and the keys given twice.
#[derive(Debug)]
pub struct Parsed<T> {
    pub value: T,
    pub start: Option<Position>,
    pub duplicates: Vec<DuplicateKey>,
}

/// Reads the first document of `text` with `seed`.
pub fn from_str_seed<'de, S: DeserializeSeed<'de>>(
    text: &'de str,
    seed: S,
) -> Result<Parsed<S::Value>, Error> {
    let mut options = Options::default();
    options.set_emit_comments(false);
    // Our own limit (MAX_DEPTH) applies to what is decoded; skipped bodies (a CRD's schema) may
    // nest deeper, up to the parser's own bound.
    options.block_nesting_limit = 1024;
    options.flow_nesting_limit = 1024;
    let mut events = Events {
        parser: Parser::new_from_str_with_options(text, options),
        peeked: None,
        from_text: true,
        replays: Vec::new(),
        anchors: HashMap::new(),
        recording: Vec::new(),
        replayed: 0,
        depth: 0,
        path: Vec::new(),
        duplicates: Vec::new(),
    };
    // Stream start, then the document start (none: the text holds no document).
    loop {
        match events.next_raw()? {
            (Event::DocumentStart(..), _) => break,
            (Event::StreamEnd, _) => {
                let value = seed.deserialize(de::value::UnitDeserializer::<Error>::new())?;
                return Ok(Parsed { value, start: None, duplicates: Vec::new() });
            }
            _ => {}
        }
    }
    let start = events.peek()?.map(|(_, span)| position(&span.start)).filter(|p| p.line > 0);
    let value = seed.deserialize(De { ev: &mut events })?;
    // The rest of the document must still parse (a syntax error after the root node); later
    // documents are not read, as go-yaml v2 reads only the first.
    match events.next()? {
        (Event::DocumentEnd | Event::StreamEnd, _) => {}
        (_, span) => return Err(Error::at("unexpected content", Some(position(&span.start)))),
    }
    Ok(Parsed { value, start, duplicates: events.duplicates })
}

/// 1-based line and column of a parser marker (granit counts columns from 0).
fn position(m: &Marker) -> Position {
    Position { line: m.line() as u64, column: m.col() as u64 + 1 }
}

type Ev<'de> = (Event<'de>, Span);

/// How many events aliases may replay in one document: enough for any real manifest, far too
/// few for an alias bomb (a few lines expanding to billions of nodes).
const MAX_REPLAYED: usize = 1_000_000;

/// One step of the path to a value, for messages.
#[derive(Clone, Debug)]
enum Segment<'de> {
    Key(Cow<'de, str>),
    Index(usize),
}

/// A path as field paths are written elsewhere: `spec.containers[0].securityContext`.
fn path_text(path: &[Segment<'_>]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Events of one document, with aliases replayed in place.
struct Events<'de> {
    parser: Parser<'de, StrInput<'de>>,
    /// A peeked event, and whether it came from the text itself.
    peeked: Option<(Ev<'de>, bool)>,
    /// Whether the last event given came from the text itself, not from an alias or a merge.
    from_text: bool,
    /// Replays in progress, innermost last: the events and the next one to give.
    replays: Vec<(Rc<Vec<Ev<'de>>>, usize)>,
    /// Anchored nodes read so far, by anchor id.
    anchors: HashMap<usize, Rc<Vec<Ev<'de>>>>,
    /// Anchored collections being read: id, their events so far, collections still open.
    recording: Vec<(usize, Vec<Ev<'de>>, usize)>,
    replayed: usize,
    depth: usize,
    path: Vec<Segment<'de>>,
    duplicates: Vec<DuplicateKey>,
}

impl<'de> Events<'de> {
    /// The next event straight from the parser (comments and anchor notes skipped), recorded
    /// for the anchors being read.
    fn next_raw(&mut self) -> Result<Ev<'de>, Error> {
        loop {
            let ev = match self.parser.next_event() {
                Some(Ok(ev)) => ev,
                Some(Err(e)) => {
                    return Err(Error::at(e.info(), Some(position(e.marker()))));
                }
                None => return Ok((Event::StreamEnd, Span::empty(Marker::new(0, 0, 0)))),
            };
            if !matches!(
                ev.0,
                Event::StreamStart
                    | Event::StreamEnd
                    | Event::DocumentStart(..)
                    | Event::DocumentEnd
                    | Event::Alias(_)
                    | Event::Scalar(..)
                    | Event::SequenceStart(..)
                    | Event::SequenceEnd
                    | Event::MappingStart(..)
                    | Event::MappingEnd
            ) {
                continue;
            }
            self.record(&ev);
            return Ok(ev);
        }
    }

    fn record(&mut self, ev: &Ev<'de>) {
        let opens = match &ev.0 {
            Event::SequenceStart(..) | Event::MappingStart(..) => 1isize,
            Event::SequenceEnd | Event::MappingEnd => -1,
            _ => 0,
        };
        let mut done = Vec::new();
        for (i, (_, events, open)) in self.recording.iter_mut().enumerate() {
            events.push(ev.clone());
            *open = open.saturating_add_signed(opens);
            if *open == 0 {
                done.push(i);
            }
        }
        for i in done.into_iter().rev() {
            let (id, events, _) = self.recording.remove(i);
            self.anchors.insert(id, Rc::new(events));
        }
        match &ev.0 {
            Event::Scalar(_, _, id, _) if *id != 0 => {
                self.anchors.insert(*id, Rc::new(vec![ev.clone()]));
            }
            Event::SequenceStart(_, id, _) | Event::MappingStart(_, id, _) if *id != 0 => {
                self.recording.push((*id, vec![ev.clone()], 1));
            }
            _ => {}
        }
    }

    /// The next node event, replays first; an alias starts replaying its anchor's events.
    fn next(&mut self) -> Result<Ev<'de>, Error> {
        if let Some((ev, from_text)) = self.peeked.take() {
            self.from_text = from_text;
            return Ok(ev);
        }
        loop {
            self.from_text = self.replays.is_empty();
            let ev = if let Some((events, next)) = self.replays.last_mut() {
                match events.get(*next) {
                    Some(ev) => {
                        *next += 1;
                        self.replayed += 1;
                        if self.replayed > MAX_REPLAYED {
                            return Err(Error::at(
                                "the document contains excessive aliasing",
                                Some(position(&ev.1.start)),
                            ));
                        }
                        ev.clone()
                    }
                    None => {
                        self.replays.pop();
                        continue;
                    }
                }
            } else {
                self.next_raw()?
            };
            if let Event::Alias(id) = ev.0 {
                let Some(events) = self.anchors.get(&id) else {
                    return Err(Error::at(
                        "an alias refers to the node that contains it",
                        Some(position(&ev.1.start)),
                    ));
                };
                self.replays.push((Rc::clone(events), 0));
                continue;
            }
            return Ok(ev);
        }
    }

    fn peek(&mut self) -> Result<Option<&Ev<'de>>, Error> {
        if self.peeked.is_none() {
            let ev = self.next()?;
            self.peeked = Some((ev, self.from_text));
        }
        Ok(self.peeked.as_ref().map(|(ev, _)| ev))
    }

    /// Reads one whole node (a scalar, or a collection to its end), returning its events when
    /// `keep` (else only skipping it).
    fn take_node(&mut self, keep: bool) -> Result<Vec<Ev<'de>>, Error> {
        let mut out = Vec::new();
        let mut open = 0usize;
        loop {
            let ev = self.next()?;
            match ev.0 {
                Event::SequenceStart(..) | Event::MappingStart(..) => open += 1,
                Event::SequenceEnd | Event::MappingEnd => open = open.saturating_sub(1),
                Event::Scalar(..) => {}
                _ => return Err(Error::at("unexpected end of the document", None)),
            }
            if keep {
                out.push(ev);
            }
            if open == 0 {
                return Ok(out);
            }
        }
    }
}

/// A plain scalar as go-yaml v2 resolves it (`resolve` in its resolve.go), for untagged plain
/// scalars and values with an explicit core tag.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str,
}

/// Resolves a plain scalar as go-yaml v2 does: the YAML 1.1 booleans (`y Y yes Yes YES on On
/// ON true True TRUE` and their `n`/`no`/`off`/`false` counterparts, in exactly these
/// spellings), nulls (`~`, `null`, `Null`, `NULL`, empty), `.inf`/`.nan` forms, integers as Go's
/// `strconv.ParseInt(s, 0, 64)` reads them once underscores are removed (`0x1F`, `0o17`,
/// `0b101`, `0777` octal, a sign), then unsigned 64-bit ones, then floats (`1e3`, `.5`, `1.`,
/// `08`), then `0b` with a signed binary number. Anything else is a string, as are timestamps
/// (go-yaml v2 gives an untyped timestamp back as its text).
pub fn resolve_plain(s: &str) -> Resolved {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match s.as_bytes()[0] {
        // Go's ParseFloat on the text as written (no underscores allowed).
        b'.' if is_decimal_float(s) => return float(s),
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = s.replace('_', "");
            if let Some(i) = go_parse_int(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return Resolved::UInt(u);
            }
            if is_decimal_float(&plain) {
                let r = float(&plain);
                if r != Resolved::Str {
                    return r;
                }
            }
            if let Some(rest) = plain.strip_prefix("0b") {
                // `0b-101`: a signed binary number after the prefix.
                let (negative, digits) = split_sign(rest);
                if let Some(u) = parse_digits(digits, 2) {
                    let v = if negative {
                        i64::try_from(u).ok().map(|v| -v)
                    } else {
                        i64::try_from(u).ok()
                    };
                    return match v {
                        Some(v) => Resolved::Int(v),
                        None if !negative => Resolved::UInt(u),
                        None => Resolved::Str,
                    };
                }
            }
        }
        _ => {}
    }
    Resolved::Str
}

/// go-yaml v2's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_decimal_float(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(b);
    let mut i = int;
    if b.get(i) == Some(&b'.') {
        let frac = digits(&b[i + 1..]);
        if int == 0 && frac == 0 {
            return false;
        }
        i += 1 + frac;
    } else if int == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let rest = &b[i + 1..];
        let rest = rest.strip_prefix(b"+").or_else(|| rest.strip_prefix(b"-")).unwrap_or(rest);
        let exp = digits(rest);
        return exp > 0 && exp == rest.len();
    }
    i == b.len()
}

/// A float, or a string where Go's ParseFloat fails (it overflows to infinity).
fn float(s: &str) -> Resolved {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => Resolved::Float(f),
        _ => Resolved::Str,
    }
}

/// Whether a number is negative, and its text without the sign.
fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Digits in `radix`, at least one, into a u64 (None on overflow or a bad digit).
fn parse_digits(digits: &str, radix: u32) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits
        .chars()
        .try_fold(0u64, |n, c| n.checked_mul(radix as u64)?.checked_add(c.to_digit(radix)? as u64))
}

/// The unsigned part of Go's base-0 integer syntax: `0x`, `0o`, `0b` prefixes (either case),
/// a leading `0` for octal, else decimal.
fn go_base_prefixed(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.first() == Some(&b'0') && b.len() > 1 {
        let (radix, digits) = match b[1] {
            b'x' | b'X' if b.len() >= 3 => (16, &s[2..]),
            b'o' | b'O' if b.len() >= 3 => (8, &s[2..]),
            b'b' | b'B' if b.len() >= 3 => (2, &s[2..]),
            _ => (8, &s[1..]),
        };
        return parse_digits(digits, radix);
    }
    parse_digits(s, 10)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let (negative, rest) = split_sign(s);
    let u = go_base_prefixed(rest)?;
    if negative {
        if u == i64::MIN.unsigned_abs() {
            Some(i64::MIN)
        } else {
            i64::try_from(u).ok().map(|v| -v)
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)` (no sign).
fn go_parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    go_base_prefixed(s)
}

/// A mapping key as sigs.k8s.io/yaml writes it into JSON: strings as they are, booleans as
/// `true`/`false`, numbers in decimal, floats as Go formats a float32 (`%g`, shortest).
fn key_text(r: &Resolved) -> Option<String> {
    Some(match r {
        Resolved::Null => return None,
        Resolved::Bool(b) => b.to_string(),
        Resolved::Int(i) => i.to_string(),
        Resolved::UInt(u) => u.to_string(),
        Resolved::Float(f) => go_float32(*f),
        Resolved::Str => return None,
    })
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, with go-yaml's spellings of the non-finite.
fn go_float32(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf".into() } else { "-.inf".into() };
    }
    let x = f as f32;
    // Rust's `{:e}` gives the shortest digits that read back as the same float32.
    let e = format!("{:e}", x.abs());
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0");
    }
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1;
    let s = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    };
    format!("{sign}{s}")
}

/// The core tag of a scalar (`int` for `!!int`), `Some("")` for any other tag.
fn core_tag<'t>(tag: &'t Option<Cow<'_, Tag>>) -> Option<Cow<'t, str>> {
    let tag = tag.as_ref()?;
    Some(tag.suffix_in_namespace("tag:yaml.org,2002:").unwrap_or(Cow::Borrowed("")))
}

/// A scalar's value as kubectl sees it: plain untagged scalars resolved, quoted and block
/// scalars strings, explicit core tags checked as go-yaml v2 checks them.
/// The text of a string is the scalar's own, except for `!!binary` (decoded): that one comes
/// back as the second part.
fn scalar_value(
    value: &str,
    style: ScalarStyle,
    tag: &Option<Cow<'_, Tag>>,
) -> Result<(Resolved, Option<String>), String> {
    let Some(tag) = core_tag(tag) else {
        if style == ScalarStyle::Plain {
            return Ok((resolve_plain(value), None));
        }
        return Ok((Resolved::Str, None));
    };
    let wanted = match tag.as_ref() {
        "str" | "timestamp" => return Ok((Resolved::Str, None)),
        "binary" => return decode_base64(value).map(|s| (Resolved::Str, Some(s))),
        "null" | "bool" | "int" | "float" => tag.as_ref(),
        // Other tags (custom ones, `!`, `!!seq` on a scalar) leave the text as it is.
        _ => return Ok((Resolved::Str, None)),
    };
    let r = resolve_plain(value);
    let got = match r {
        Resolved::Null => "null",
        Resolved::Bool(_) => "bool",
        Resolved::Int(_) | Resolved::UInt(_) => "int",
        Resolved::Float(_) => "float",
        Resolved::Str => "str",
    };
    match (wanted, &r) {
        _ if wanted == got => Ok((r, None)),
        ("float", Resolved::Int(i)) => Ok((Resolved::Float(*i as f64), None)),
        ("float", Resolved::UInt(u)) => Ok((Resolved::Float(*u as f64), None)),
        _ => Err(format!("cannot decode !!{got} `{value}` as a !!{wanted}")),
    }
}

/// Standard base64 as Go's `base64.StdEncoding.DecodeString` reads it (line breaks skipped),
/// into text (bytes that are not UTF-8 replaced, as Go's JSON encoder does).
fn decode_base64(s: &str) -> Result<String, String> {
    let bad = || "!!binary value contains invalid base64 data".to_owned();
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    let mut padding = 0;
    let mut count = 0;
    for c in s.bytes().filter(|c| !matches!(c, b'\r' | b'\n')) {
        count += 1;
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => return Err(bad()),
        };
        if padding > 0 {
            return Err(bad());
        }
        bits = bits << 6 | v as u32;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
        }
    }
    if count % 4 != 0 || padding > 2 {
        return Err(bad());
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The marker name by which [`Placed`] asks this deserializer for a node's position.
const PLACED: &str = "$psa-migrate::Placed";

/// A value with where its node starts, when the deserializer knows (this one does; others
/// give `None`).
#[derive(Debug)]
pub struct Placed<T> {
    pub value: T,
    pub position: Option<Position>,
}

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Placed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Placed<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Placed<T>, D::Error> {
                Ok(Placed { value: T::deserialize(d)?, position: None })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Placed<T>, A::Error> {
                let missing = || de::Error::custom("a placed value needs its position and value");
                let line: u64 = seq.next_element()?.ok_or_else(missing)?;
                let column: u64 = seq.next_element()?.ok_or_else(missing)?;
                let value = seq.next_element()?.ok_or_else(missing)?;
                Ok(Placed { value, position: Some(Position { line, column }) })
            }
        }
        d.deserialize_newtype_struct(PLACED, V(std::marker::PhantomData))
    }
}

/// Deserializes one node.
struct De<'a, 'de> {
    ev: &'a mut Events<'de>,
}

impl<'de> De<'_, 'de> {
    fn enter(&mut self, at: Position) -> Result<(), Error> {
        self.ev.depth += 1;
        if self.ev.depth > MAX_DEPTH {
            return Err(Error::at(
                format!("the document nests deeper than {MAX_DEPTH} levels"),
                Some(at),
            ));
        }
        Ok(())
    }
}

impl<'de> Deserializer<'de> for De<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, Error> {
        let (event, span) = self.ev.next()?;
        let at = position(&span.start);
        let result = match event {
            Event::Scalar(value, style, _, tag) => {
                let (r, decoded) =
                    scalar_value(&value, style, &tag).map_err(|m| Error::at(m, Some(at)))?;
                match r {
                    Resolved::Null => visitor.visit_unit(),
                    Resolved::Bool(b) => visitor.visit_bool(b),
                    Resolved::Int(i) => visitor.visit_i64(i),
                    Resolved::UInt(u) => visitor.visit_u64(u),
                    Resolved::Float(f) => float_value(f, &value, at, visitor),
                    Resolved::Str => match (decoded, value) {
                        (Some(s), _) | (None, Cow::Owned(s)) => visitor.visit_string(s),
                        (None, Cow::Borrowed(b)) => visitor.visit_borrowed_str(b),
                    },
                }
            }
            Event::SequenceStart(..) => {
                self.enter(at)?;
                let mut seq = Seq { ev: &mut *self.ev, index: 0, done: false };
                let v = visitor.visit_seq(&mut seq);
                let v = v.and_then(|v| seq.finish().map(|()| v));
                self.ev.depth -= 1;
                v
            }
            Event::MappingStart(..) => {
                self.enter(at)?;
                let mut map =
                    Map { ev: &mut *self.ev, keys: SeenKeys::default(), done: false, key: None };
                let v = visitor.visit_map(&mut map);
                let v = v.and_then(|v| map.finish().map(|()| v));
                self.ev.depth -= 1;
                v
            }
            _ => Err(Error::at("unexpected end of the document", Some(at))),
        };
        result.map_err(|e| e.or_at(Some(at)))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name != PLACED {
            return visitor.visit_newtype_struct(self);
        }
        let at = match self.ev.peek()? {
            Some((_, span)) => position(&span.start),
            None => Position { line: 0, column: 0 },
        };
        visitor.visit_seq(PlacedAccess { at, step: 0, de: Some(self) })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.ev.take_node(false)?;
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let null = match self.ev.peek()? {
            Some((Event::Scalar(value, style, _, tag), _)) => {
                matches!(scalar_value(value, *style, tag), Ok((Resolved::Null, _)))
            }
            _ => false,
        };
        if null {
            self.ev.next()?;
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier
    }
}

/// A float as Go's JSON encoder writes it and kubectl reads it back: an integral value below
/// 1e21 is written without a fraction, so it reads as an integer (`0.0` → 0, `1e3` → 1000);
/// infinities and NaN cannot be written at all.
fn float_value<'de, V: Visitor<'de>>(
    f: f64,
    text: &str,
    at: Position,
    visitor: V,
) -> Result<V::Value, Error> {
    if !f.is_finite() {
        return Err(Error::at(
            format!("`{text}` is not a number JSON can hold (kubectl cannot convert it)"),
            Some(at),
        ));
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        if f >= i64::MIN as f64 && f < i64::MAX as f64 {
            return visitor.visit_i64(f as i64);
        }
        if f >= 0.0 && f < u64::MAX as f64 {
            return visitor.visit_u64(f as u64);
        }
    }
    visitor.visit_f64(f)
}

/// The three elements a [`Placed`] value is read from: line, column, value.
struct PlacedAccess<'a, 'de> {
    at: Position,
    step: u8,
    de: Option<De<'a, 'de>>,
}

impl<'de> SeqAccess<'de> for PlacedAccess<'_, 'de> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.step += 1;
        match self.step {
            1 => seed.deserialize(self.at.line.into_deserializer()).map(Some),
            2 => seed.deserialize(self.at.column.into_deserializer()).map(Some),
            _ => match self.de.take() {
                Some(de) => seed.deserialize(de).map(Some),
                None => Ok(None),
            },
        }
    }
}

struct Seq<'a, 'de> {
    ev: &'a mut Events<'de>,
    index: usize,
    done: bool,
}

impl Seq<'_, '_> {
    /// Reads what the visitor left, up to the end of the sequence.
    fn finish(&mut self) -> Result<(), Error> {
        while !self.done {
            self.next_element::<de::IgnoredAny>()?;
        }
        Ok(())
    }
}

impl<'de> SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.done {
            return Ok(None);
        }
        if matches!(self.ev.peek()?, Some((Event::SequenceEnd, _))) {
            self.ev.next()?;
            self.done = true;
            return Ok(None);
        }
        self.ev.path.push(Segment::Index(self.index));
        self.index += 1;
        let v = seed.deserialize(De { ev: &mut *self.ev });
        self.ev.path.pop();
        v.map(Some)
    }
}

struct Map<'a, 'de> {
    ev: &'a mut Events<'de>,
    /// Keys given in the text of this mapping so far, with where.
    keys: SeenKeys<'de>,
    /// The current key, for the path of its value.
    key: Option<Cow<'de, str>>,
    done: bool,
}

impl<'de> Map<'_, 'de> {
    fn finish(&mut self) -> Result<(), Error> {
        while !self.done {
            if self.next_key::<de::IgnoredAny>()?.is_some() {
                self.next_value::<de::IgnoredAny>()?;
            }
        }
        Ok(())
    }

    /// Replays the entries of a `<<` value in place: one mapping, or a sequence of them (the
    /// earlier ones winning: go-yaml v2 merges a sequence from its end).
    fn merge(&mut self, at: Position) -> Result<(), Error> {
        let bad = || Error::at("map merge requires map or sequence of maps as the value", Some(at));
        let mut mappings = Vec::new();
        if matches!(self.ev.peek()?, Some((Event::SequenceStart(..), _))) {
            self.ev.next()?;
            while !matches!(self.ev.peek()?, Some((Event::SequenceEnd, _))) {
                mappings.push(self.ev.take_node(true)?);
            }
            self.ev.next()?;
        } else {
            mappings.push(self.ev.take_node(true)?);
        }
        // The replay stack gives its last entry first: the first mapping goes on top, so that
        // the later ones are merged after it, over it.
        for mut m in mappings {
            if !matches!(m.first(), Some((Event::MappingStart(..), _))) {
                return Err(bad());
            }
            // Without the mapping's own start and end: its entries join this mapping.
            m.pop();
            m.remove(0);
            self.ev.replays.push((Rc::new(m), 0));
        }
        Ok(())
    }
}

impl<'de> MapAccess<'de> for Map<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        loop {
            if self.done {
                return Ok(None);
            }
            let (event, span) = self.ev.next()?;
            let from_text = self.ev.from_text;
            let at = position(&span.start);
            let (value, style, tag) = match event {
                Event::MappingEnd => {
                    self.done = true;
                    return Ok(None);
                }
                Event::Scalar(value, style, _, tag) => (value, style, tag),
                _ => {
                    return Err(Error::at(
                        "invalid map key: a mapping key must be a scalar",
                        Some(at),
                    ));
                }
            };
            let merge_tag = tag
                .as_ref()
                .and_then(|t| t.suffix_in_namespace("tag:yaml.org,2002:"))
                .is_some_and(|s| s == "merge");
            if value == "<<" && ((style == ScalarStyle::Plain && tag.is_none()) || merge_tag) {
                self.merge(at)?;
                continue;
            }
            let (r, decoded) =
                scalar_value(&value, style, &tag).map_err(|m| Error::at(m, Some(at)))?;
            let key: Cow<'de, str> = match r {
                Resolved::Str => decoded.map_or(value, Cow::Owned),
                r => Cow::Owned(key_text(&r).ok_or_else(|| {
                    Error::at(
                        "unsupported map key: null (kubectl cannot convert it to JSON)",
                        Some(at),
                    )
                })?),
            };
            if from_text && let Some(first) = self.keys.insert(key.clone(), at) {
                let mut path = self.ev.path.clone();
                let mapping = path_text(&path);
                path.push(Segment::Key(key.clone()));
                self.ev.duplicates.push(DuplicateKey {
                    mapping,
                    path: path_text(&path),
                    key: key.clone().into_owned(),
                    at,
                    first,
                });
            }
            self.key = Some(key.clone());
            let k = match key {
                Cow::Borrowed(b) => seed.deserialize(de::value::BorrowedStrDeserializer::new(b)),
                Cow::Owned(s) => seed.deserialize(de::value::StringDeserializer::new(s)),
            };
            return k.map(Some).map_err(|e: Error| e.or_at(Some(at)));
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.ev.path.push(Segment::Key(self.key.take().unwrap_or_default()));
        let v = seed.deserialize(De { ev: &mut *self.ev });
        self.ev.path.pop();
        v
    }
}

#[cfg(test)]
mod tests {
    use std::marker::PhantomData;

    use serde_json::{Value, json};

    use super::*;

    fn value(text: &str) -> Result<Value, Error> {
        from_str_seed(text, PhantomData::<Value>).map(|p| p.value)
    }

    fn v(text: &str) -> Value {
        value(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    /// go-yaml v2's resolve table, spelling by spelling (resolve.go on its v2 branch).
    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2() {
        use Resolved::*;
        let table: &[(&str, Resolved)] = &[
            ("y", Bool(true)),
            ("Y", Bool(true)),
            ("yes", Bool(true)),
            ("Yes", Bool(true)),
            ("YES", Bool(true)),
            ("on", Bool(true)),
            ("On", Bool(true)),
            ("ON", Bool(true)),
            ("true", Bool(true)),
            ("True", Bool(true)),
            ("TRUE", Bool(true)),
            ("n", Bool(false)),
            ("N", Bool(false)),
            ("no", Bool(false)),
            ("No", Bool(false)),
            ("NO", Bool(false)),
            ("off", Bool(false)),
            ("Off", Bool(false)),
            ("OFF", Bool(false)),
            ("false", Bool(false)),
            ("False", Bool(false)),
            ("FALSE", Bool(false)),
            // Other spellings are strings.
            ("yEs", Str),
            ("oN", Str),
            ("tRUE", Str),
            ("nO", Str),
            ("", Null),
            ("~", Null),
            ("null", Null),
            ("Null", Null),
            ("NULL", Null),
            ("nULL", Str),
            ("0", Int(0)),
            ("-0", Int(0)),
            ("+12", Int(12)),
            ("1_000", Int(1000)),
            ("0777", Int(511)),
            ("0o17", Int(15)),
            ("0O17", Int(15)),
            ("0x1F", Int(31)),
            ("0X1f", Int(31)),
            ("-0x10", Int(-16)),
            ("0b101", Int(5)),
            ("0b-101", Int(-5)),
            ("-9223372036854775808", Int(i64::MIN)),
            ("9223372036854775808", UInt(9223372036854775808)),
            ("18446744073709551615", UInt(u64::MAX)),
            ("18446744073709551616", Float(18446744073709551616.0)),
            ("08", Float(8.0)),
            ("0.0", Float(0.0)),
            ("1e3", Float(1000.0)),
            ("1E3", Float(1000.0)),
            ("+1.5e-3", Float(0.0015)),
            ("1.", Float(1.0)),
            (".5", Float(0.5)),
            (".5e1", Float(5.0)),
            ("1e400", Str),
            ("1e", Str),
            ("0x", Str),
            ("_1", Str),
            ("1_", Int(1)),
            ("12:30", Str),
            ("2001-12-14", Str),
            ("1.2.3", Str),
            ("._5", Str),
            ("0xG", Str),
            ("inf", Str),
            ("nan", Str),
            ("<<", Str),
        ];
        for (text, want) in table {
            let got = resolve_plain(text);
            let same = match (&got, want) {
                (Float(a), Float(b)) => a == b,
                _ => got == *want,
            };
            assert!(same, "{text:?}: {got:?}, want {want:?}");
        }
        assert!(matches!(resolve_plain(".NaN"), Float(f) if f.is_nan()));
        assert_eq!(resolve_plain("-.Inf"), Float(f64::NEG_INFINITY));
        assert_eq!(resolve_plain("+.inf"), Float(f64::INFINITY));
    }

    /// Values as kubectl gets them after go-yaml v2 and the JSON round trip: plain scalars
    /// resolved, quoted and block scalars strings, integral floats integers.
    #[test]
    fn values_are_what_kubectl_reads() {
        assert_eq!(
            v(
                "a: on\nb: 'on'\nc: \"yes\"\nd: |\n  on\ne: >\n  off\nf: 0.0\ng: 1e3\nh: 0.5\ni: 0777\nj: 1e21\nk: ~\nl: 2001-12-14\n"
            ),
            json!({"a": true, "b": "on", "c": "yes", "d": "on\n", "e": "off\n", "f": 0, "g": 1000,
                   "h": 0.5, "i": 511, "j": 1e21, "k": null, "l": "2001-12-14"})
        );
        assert_eq!(
            v("[-0.0, 9223372036854775807.0, 1e20]"),
            json!([0, 9223372036854775808u64, 100000000000000000000.0])
        );
        let e = value("a: .inf\n").unwrap_err();
        assert_eq!(e.message, "`.inf` is not a number JSON can hold (kubectl cannot convert it)");
        assert_eq!(e.position, Some(Position { line: 1, column: 4 }));
    }

    /// Explicit core tags as go-yaml v2 takes them; other tags leave the text alone.
    #[test]
    fn tags() {
        assert_eq!(
            v(
                "a: !!str on\nb: !!int \"12\"\nc: !!float 1\nd: !!bool yes\ne: !custom 12\nf: !!binary aGVsbG8=\ng: !!null ~\nh: ! on\n"
            ),
            json!({"a": "on", "b": 12, "c": 1, "d": true, "e": "12", "f": "hello", "g": null, "h": "on"})
        );
        assert_eq!(
            value("a: !!int yes\n").unwrap_err().message,
            "cannot decode !!bool `yes` as a !!int"
        );
        assert_eq!(
            value("a: !!bool 1\n").unwrap_err().message,
            "cannot decode !!int `1` as a !!bool"
        );
        assert_eq!(
            value("a: !!binary '@@'\n").unwrap_err().message,
            "!!binary value contains invalid base64 data"
        );
    }

    /// Keys are strings as sigs.k8s.io/yaml makes them: booleans and numbers in their JSON
    /// spelling, floats as Go prints a float32; null and collection keys are errors.
    #[test]
    fn keys_become_strings() {
        assert_eq!(
            v("on: a\n1: b\n0x10: c\n1.5: d\n1e6: e\n0.00001: f\n'on': g\n"),
            json!({"true": "a", "1": "b", "16": "c", "1.5": "d", "1e+06": "e", "1e-05": "f", "on": "g"})
        );
        assert_eq!(go_float32(100000.0), "100000");
        assert_eq!(go_float32(0.0001), "0.0001");
        assert_eq!(go_float32(-2.5e-7), "-2.5e-07");
        assert_eq!(go_float32(0.1), "0.1");
        assert_eq!(go_float32(-0.0), "-0");
        let e = value("~: a\n").unwrap_err();
        assert_eq!(e.message, "unsupported map key: null (kubectl cannot convert it to JSON)");
        assert!(value("? [a]\n: b\n").unwrap_err().message.starts_with("invalid map key"));
    }

    /// A key given twice keeps its last value; each repeat is recorded with both positions and
    /// the path; keys brought in by `<<` or an alias are not repeats.
    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let text = "a: 1\nspec:\n  containers:\n  - name: c\n    securityContext:\n      privileged: false\n      privileged: on\n  b: 1\n  b: 2\na: 3\n";
        let parsed = from_str_seed(text, PhantomData::<Value>).unwrap();
        assert_eq!(
            parsed.value,
            json!({"a": 3, "spec": {"b": 2, "containers": [{"name": "c", "securityContext": {"privileged": true}}]}})
        );
        let got: Vec<(&str, &str, &str, u64, u64, u64)> = parsed
            .duplicates
            .iter()
            .map(|d| {
                (
                    d.mapping.as_str(),
                    d.path.as_str(),
                    d.key.as_str(),
                    d.at.line,
                    d.at.column,
                    d.first.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "spec.containers[0].securityContext",
                    "spec.containers[0].securityContext.privileged",
                    "privileged",
                    7,
                    7,
                    6
                ),
                ("spec", "spec.b", "b", 9, 3, 8),
                ("", "a", "a", 10, 1, 1),
            ]
        );
        // Merges and aliases bring keys in without repeating them; `on` and `true` are one key.
        let parsed = from_str_seed(
            "base: &b {x: 1, z: 2}\nm:\n  x: 0\n  <<: *b\n  z: 3\ncopy: *b\nk: {on: 1, true: 2}\n",
            PhantomData::<Value>,
        )
        .unwrap();
        assert_eq!(
            parsed.value,
            json!({"base": {"x": 1, "z": 2}, "m": {"x": 1, "z": 3}, "copy": {"x": 1, "z": 2}, "k": {"true": 2}})
        );
        let keys: Vec<&str> = parsed.duplicates.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(keys, ["k.true"]);
    }

    /// `<<` as go-yaml v2 merges: in place, so a later key overrides a merged one and a merge
    /// overrides an earlier key; in a list of mappings the earlier ones win.
    #[test]
    fn merge_keys_as_go_yaml_v2() {
        let text = "a: &a {x: 1, w: 1}\nb: &b {x: 2, z: 2}\nc:\n  w: 0\n  <<: [*a, *b]\n  z: 3\nd:\n  <<: {x: 9}\n";
        assert_eq!(
            v(text),
            json!({"a": {"x": 1, "w": 1}, "b": {"x": 2, "z": 2}, "c": {"x": 1, "w": 1, "z": 3}, "d": {"x": 9}})
        );
        // `y` is a boolean in YAML 1.1, so as a key it is "true", as kubectl reads it.
        assert_eq!(
            v("y: 1
n: 2
"),
            json!({"true": 1, "false": 2})
        );
        assert_eq!(v("a: {'<<': 1}\n"), json!({"a": {"<<": 1}}), "a quoted << is a key");
        assert_eq!(
            value("a: &a [1]\nb:\n  <<: *a\n").unwrap_err().message,
            "map merge requires map or sequence of maps as the value"
        );
    }

    /// Aliases replay their anchor; an alias inside its own anchor, or an alias bomb, is an
    /// error, not a hang.
    #[test]
    fn aliases_are_bounded() {
        assert_eq!(
            v("a: &x [1, {b: &y 2}]\nc: *x\nd: *y\n"),
            json!({"a": [1, {"b": 2}], "c": [1, {"b": 2}], "d": 2})
        );
        let e = value("a: &x [*x]\n").unwrap_err();
        assert_eq!(e.message, "an alias refers to the node that contains it");
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
            let prev = ["a", "b", "c", "d", "e", "f", "g", "h"][i];
            bomb += &format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            );
        }
        assert_eq!(value(&bomb).unwrap_err().message, "the document contains excessive aliasing");
    }

    /// Where nodes start, the document's root included; errors say where they are.
    #[test]
    fn positions() {
        #[derive(Debug)]
        struct Items(Vec<Placed<Value>>);
        impl<'de> de::Deserialize<'de> for Items {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(serde::Deserialize)]
                struct Doc {
                    items: Vec<Placed<Value>>,
                }
                Doc::deserialize(d).map(|d| Items(d.items))
            }
        }
        let text = "# c\nitems:\n- a: 1\n-   b: 2\n- [3]\n- *x\n";
        let e = from_str_seed(text, PhantomData::<Items>).unwrap_err();
        assert_eq!(e.position, Some(Position { line: 6, column: 3 }), "{e:?}");
        let text = "# c\nitems:\n- &x a: 1\n-   b: 2\n- [3]\n- *x\n";
        let parsed = from_str_seed(text, PhantomData::<Items>).unwrap();
        assert_eq!(parsed.start, Some(Position { line: 2, column: 1 }));
        let at: Vec<(u64, u64)> = parsed
            .value
            .0
            .iter()
            .map(|p| p.position.map_or((0, 0), |p| (p.line, p.column)))
            .collect();
        assert_eq!(at[..3], [(3, 3), (4, 5), (5, 3)]);
        let e = value("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(e.position.is_some_and(|p| p.line >= 2), "{e:?}");
        let e = value("a: b: c\n").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.position),
            (
                "mapping values are not allowed in this context",
                Some(Position { line: 1, column: 5 })
            )
        );
    }

    /// Empty documents are null; only the first document of a text is read.
    #[test]
    fn empty_and_further_documents() {
        let parsed = from_str_seed("# nothing\n", PhantomData::<Option<Value>>).unwrap();
        assert_eq!((parsed.value, parsed.start), (None, None));
        assert_eq!(v("--- {a: 1}\n--- {b: 2}\n"), json!({"a": 1}));
        assert_eq!(v("a: 1\n...\n"), json!({"a": 1}));
    }
}
