//! Serves an offline cluster directory as a fake Kubernetes API server until killed.
//!
//! ```text
//! cargo run --example fake_apiserver -- --dir testdata/clusters/ml-platform --port 0 \
//!     [--version 1.24] [--tls] [--client-cert] [--token T] [--kubeconfig-out FILE] \
//!     [--latency-ms N] [--throttle-every N] [--retry-after S] [--error-every N] \
//!     [--forbid PLURAL]... [--crash-after-writes N] [--log-requests]
//! ```
//!
//! Prints the server URL on the first line of stdout (and `kubeconfig: FILE` when written).

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/fake_api.rs"]
mod fake_api;

use std::io::Write;
use std::time::Duration;

use fake_api::{CrashMode, FakeApi, FakeConfig, Faults};

const USAGE: &str = "usage: fake_apiserver [--dir DIR] [--port N] [--version 1.24] [--tls] [--client-cert] [--token T] [--kubeconfig-out FILE] [--latency-ms N] [--throttle-every N] [--retry-after S] [--error-every N] [--forbid PLURAL]... [--crash-after-writes N] [--log-requests]";

fn main() {
    if let Err(e) = run() {
        eprintln!("fake_apiserver: {e}\n{USAGE}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut cfg = FakeConfig::new();
    let mut faults = Faults::none();
    let mut kubeconfig_out = None;
    let mut log_requests = false;
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>, flag: &str| -> Result<u64, String> {
        v.ok_or(format!("{flag} needs a value"))?.parse().map_err(|e| format!("{flag}: {e}"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => cfg = cfg.dir(args.next().ok_or("--dir needs a value")?),
            "--port" => cfg = cfg.port(num(args.next(), "--port")? as u16),
            "--version" => cfg = cfg.version(args.next().ok_or("--version needs a value")?),
            "--tls" => cfg = cfg.tls(),
            "--client-cert" => cfg = cfg.require_client_cert(),
            "--token" => cfg = cfg.token(args.next().ok_or("--token needs a value")?),
            "--kubeconfig-out" => {
                kubeconfig_out = Some(args.next().ok_or("--kubeconfig-out needs a value")?)
            }
            "--latency-ms" => faults.latency_ms = num(args.next(), "--latency-ms")?,
            "--throttle-every" => faults.throttle_every = num(args.next(), "--throttle-every")?,
            "--retry-after" => faults.retry_after_secs = num(args.next(), "--retry-after")?,
            "--error-every" => faults.error_every = num(args.next(), "--error-every")?,
            "--forbid" => {
                faults.forbidden.insert(args.next().ok_or("--forbid needs a value")?);
            }
            "--crash-after-writes" => {
                faults = faults.crash_after_writes(
                    num(args.next(), "--crash-after-writes")?,
                    CrashMode::ServiceUnavailable,
                );
            }
            "--log-requests" => log_requests = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let api = FakeApi::try_start(cfg.faults(faults))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", api.url()).map_err(|e| e.to_string())?;
    if let Some(path) = kubeconfig_out {
        api.kubeconfig(&path).map_err(|e| format!("writing {path}: {e}"))?;
        writeln!(out, "kubeconfig: {path}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    let mut seen = 0;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        if log_requests {
            let reqs = api.requests();
            for r in &reqs[seen.min(reqs.len())..] {
                let q = if r.query.is_empty() { String::new() } else { format!("?{}", r.query) };
                eprintln!("{} {}{} -> {}", r.method, r.path, q, r.status);
            }
            seen = reqs.len();
        }
    }
}
