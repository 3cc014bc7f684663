//! One writer at a time: `apply` and `rollback` hold `DIR/.lock` while they run, so two runs on
//! one migration directory cannot both rewrite its journal and lose entries.
//!
//! The lock is a file created exclusively (`create_new`) holding the holder's pid, host name,
//! command and start time as JSON. A second run finds it and stops, naming the holder. A lock
//! whose process is gone (same host, no `/proc/<pid>`) is stale: it is taken over with a notice.
//! Where that cannot be told (another host, no `/proc`), the lock counts as held. The lock is
//! removed when the guard is dropped, on success and on errors alike.
//!
//! It guards one directory: two copies of a migration directory are two journals, and nothing
//! here can see the other one.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The lock's file name in the migration directory.
pub const LOCK_FILE: &str = ".lock";

/// Who holds a lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub command: String,
    /// Unix seconds.
    pub started_at: u64,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "psa-migrate {} (pid {} on {}, started at unix time {})",
            self.command, self.pid, self.host, self.started_at
        )
    }
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{path} is held by {holder}: another apply or rollback is running on this migration \
         directory; wait for it to finish (remove the file only if you are sure that process is \
         gone)"
    )]
    Held { path: String, holder: String },
    #[error("cannot create the lock {path}: {message}")]
    Io { path: String, message: String },
}

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct PlanLock {
    path: PathBuf,
    /// The stale lock taken over, if any (for the notice).
    pub took_over: Option<Holder>,
}

impl Drop for PlanLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// This machine's host name (`/proc/sys/kernel/hostname`, `/etc/hostname`, `$HOSTNAME`), or
/// `unknown`.
pub fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Whether a lock's holder may still run. Only a process on this host whose `/proc/<pid>` is
/// absent (with `/proc` mounted) is known to be gone.
fn may_be_alive(holder: &Holder, host: &str) -> bool {
    if holder.host != host {
        return true;
    }
    if holder.pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(holder.pid.to_string()).exists()
}

fn read_holder(path: &Path) -> Option<(String, Option<Holder>)> {
    let text = std::fs::read_to_string(path).ok()?;
    let holder = serde_json::from_str(&text).ok();
    Some((text, holder))
}

/// Takes `DIR/.lock` for `command`.
pub fn acquire(dir: &Path, command: &str) -> Result<PlanLock, LockError> {
    let path = dir.join(LOCK_FILE);
    let shown = path.display().to_string();
    let io = |e: std::io::Error| LockError::Io { path: shown.clone(), message: e.to_string() };
    let host = host_name();
    let me = Holder {
        pid: std::process::id(),
        host: host.clone(),
        command: command.to_owned(),
        started_at: crate::apply::journal::now(),
    };
    let mut took_over = None;
    // A few rounds: each either creates the lock, finds it held, or removes a stale one.
    for _ in 0..5 {
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                let text = serde_json::to_string(&me).unwrap_or_default();
                let lock = PlanLock { path: path.clone(), took_over };
                f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(io)?;
                return Ok(lock);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
        // Held: by whom? A file being written this instant may still be empty; look again.
        let Some((text, holder)) = read_holder(&path) else { continue };
        let Some(holder) = holder else {
            std::thread::sleep(std::time::Duration::from_millis(50));
            match read_holder(&path) {
                Some((again, None)) if again == text => {
                    return Err(LockError::Held {
                        path: shown,
                        holder: format!("an unreadable lock ({:?})", text.trim()),
                    });
                }
                _ => continue,
            }
        };
        if may_be_alive(&holder, &host) {
            return Err(LockError::Held { path: shown, holder: holder.to_string() });
        }
        // Stale. Move it aside under a name of our own, then check it is what was judged stale
        // (another run may have taken over meanwhile): put a live lock back.
        let aside = dir.join(format!("{LOCK_FILE}.{}.stale", std::process::id()));
        if std::fs::rename(&path, &aside).is_err() {
            continue;
        }
        let moved = std::fs::read_to_string(&aside).unwrap_or_default();
        if moved != text {
            let _ = std::fs::hard_link(&aside, &path);
            let _ = std::fs::remove_file(&aside);
            continue;
        }
        let _ = std::fs::remove_file(&aside);
        took_over = Some(holder);
    }
    Err(LockError::Held { path: shown, holder: "another run (the lock kept changing)".to_owned() })
}

/// Removes the temporary files an interrupted journal save left (`.journal.json.<pid>.tmp`).
/// Call with the lock held: no other run is saving then.
pub fn remove_stale_temporaries(dir: &Path) -> Vec<PathBuf> {
    let prefix = format!(".{}.", crate::apply::journal::JOURNAL_FILE);
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return removed };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix)
            && name.ends_with(".tmp")
            && entry.file_type().is_ok_and(|t| t.is_file())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed.sort();
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_is_refused_and_drop_releases() {
        let dir = tempfile::tempdir().unwrap();
        let lock = acquire(dir.path(), "apply").unwrap();
        assert!(lock.took_over.is_none());
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        let holder: Holder = serde_json::from_str(&text).unwrap();
        assert_eq!(holder.pid, std::process::id());
        assert_eq!(holder.command, "apply");
        let e = acquire(dir.path(), "rollback").unwrap_err().to_string();
        assert!(e.contains(&format!("psa-migrate apply (pid {}", std::process::id())), "{e}");
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        drop(acquire(dir.path(), "rollback").unwrap());
    }

    #[test]
    fn stale_locks_are_taken_over_other_hosts_are_not() {
        if !Path::new("/proc/self").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let dead =
            Holder { pid: 999_999_999, host: host_name(), command: "apply".into(), started_at: 1 };
        std::fs::write(dir.path().join(LOCK_FILE), serde_json::to_string(&dead).unwrap()).unwrap();
        let lock = acquire(dir.path(), "apply").unwrap();
        assert_eq!(lock.took_over.as_ref(), Some(&dead));
        drop(lock);
        let elsewhere = Holder { host: format!("{}-other", host_name()), ..dead };
        std::fs::write(dir.path().join(LOCK_FILE), serde_json::to_string(&elsewhere).unwrap())
            .unwrap();
        let e = acquire(dir.path(), "apply").unwrap_err().to_string();
        assert!(e.contains("-other"), "{e}");
    }

    #[test]
    fn removes_only_journal_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        for f in [".journal.json.123.tmp", ".journal.json.9.tmp", "journal.json", "notes.tmp"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        let removed = remove_stale_temporaries(dir.path());
        assert_eq!(removed.len(), 2);
        assert!(dir.path().join("journal.json").exists());
        assert!(dir.path().join("notes.tmp").exists());
    }
}
