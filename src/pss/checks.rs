//! The check catalogue: one module per upstream check ID (file name = the ID in snake case),
//! listed once in [`CATALOGUE`].

use crate::pss::Check;

mod privileged;

/// Every check the evaluator knows. Order here does not matter; results are ordered by level and
/// ID at evaluation time.
pub static CATALOGUE: &[&Check] = &[&privileged::CHECK];
