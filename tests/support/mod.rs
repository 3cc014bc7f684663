//! Support code shared by the integration tests.

pub mod fake_api;
pub mod schema;
pub mod served;
pub mod tools;
