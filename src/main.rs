//! The `psa-migrate` binary: everything lives in the library; this only runs it.

fn main() -> std::process::ExitCode {
    psa_migrate::app::run()
}
