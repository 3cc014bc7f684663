//! Rendering: reports for people and machines ([`output`]), the offline export ([`export`]), the
//! files of a migration directory ([`plan_files`]) and diff text ([`diff`]). Pure functions from
//! values to text; they never print or write files themselves. Rendering may use the pure core,
//! never the edges or the app layer.

pub mod diff;
pub mod export;
pub mod fix_files;
pub mod output;
pub mod plan_files;
