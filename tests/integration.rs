//! The single integration test binary; each test module is listed here.

// Test binaries report notices on stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod admit_cli;
mod api_faults;
mod architecture;
mod check_cli;
mod conformance;
mod diagnostics_cli;
mod discovery;
mod fake_api_kubectl;
mod fix_cli;
mod input_cli;
mod kubeconfig_secrets;
mod live;
mod migrate_e2e;
mod plan_cli;
mod plan_trust;
mod reports_cli;
mod schema_cli;
mod support;
mod terminal_cli;
