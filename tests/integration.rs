//! The single integration test binary; each test module is listed here.

mod conformance;
mod check_cli;
mod support;
mod fake_api_kubectl;
mod live;
mod discovery;
mod plan_cli;
