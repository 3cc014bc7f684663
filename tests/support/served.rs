//! A fake API server serving a cluster directory the way a real API server would, with a
//! kubeconfig for it in a temporary directory: the setup every live test shares.

use std::path::{Path, PathBuf};

use crate::support::fake_api::{FakeApi, FakeApiHandle, FakeConfig};

/// The demo cluster the live tests serve.
pub fn demo_cluster() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/clusters/ml-platform")
}

/// Serving `dir` as a real server does: list items without `kind`, no namespaces beyond the
/// data's own.
pub fn as_real_server(dir: &Path) -> FakeConfig {
    FakeConfig::new().dir(dir).list_items_type_meta(false).implicit_namespaces(false)
}

/// A running fake, its kubeconfig, and the temporary directory both live in.
pub struct Served {
    pub api: FakeApiHandle,
    pub tmp: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

/// Starts the fake and writes its kubeconfig.
pub fn serve(config: FakeConfig) -> Served {
    let api = FakeApi::start(config);
    let tmp = tempfile::tempdir().unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    api.kubeconfig(&kubeconfig).unwrap();
    Served { api, tmp, kubeconfig }
}
