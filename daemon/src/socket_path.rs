//! Where the daemon's socket lives, and preparing that place safely.
//!
//! The default is `$XDG_RUNTIME_DIR/asyncmon/asyncmond.sock`, or `/tmp/asyncmon-$UID/asyncmond.sock`
//! without a runtime directory. The directory is created with mode 0700 (only its user can enter
//! it) and the socket is made 0600.

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The default socket path for this user.
pub fn default_socket_path() -> PathBuf {
    let dir = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(runtime) if !runtime.is_empty() => PathBuf::from(runtime).join("asyncmon"),
        _ => std::env::temp_dir().join(format!("asyncmon-{}", current_uid())),
    };
    dir.join("asyncmond.sock")
}

fn current_uid() -> u32 {
    // The owner of a file we just created is us; /proc/self is owned by our uid.
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
}

/// Makes the socket's directory (mode 0700, owned by us) and removes a stale socket left by a daemon
/// that died. Fails if a live daemon already serves at `path`, or the directory or the socket
/// belongs to someone else.
pub fn prepare(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let meta = std::fs::metadata(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })?;
        if meta.uid() != current_uid() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} belongs to another user; choose another --socket", dir.display()),
            ));
        }
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.uid() != current_uid() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} belongs to another user; asyncmond will not replace it", path.display()),
            ));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("an asyncmond already serves {}; stop it or choose another --socket", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    Ok(())
}

/// Restricts the socket at `path` to its owner.
pub fn restrict(path: &Path) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_socket_is_removed_and_a_live_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("d.sock");
        prepare(&path).unwrap();
        let mode = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let live = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let err = prepare(&path).unwrap_err();
        assert!(err.to_string().contains("already serves"), "{err}");
        drop(live);
        prepare(&path).unwrap();
        assert!(!path.exists(), "the stale socket was removed");
    }

    #[test]
    fn a_socket_owned_by_another_user_is_refused_and_left_alone() {
        if current_uid() != 0 {
            // Only root can make a file owned by someone else; CI runs as root.
            eprintln!("skipped: needs root to chown a file to another user");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        std::os::unix::fs::chown(&path, Some(4242), Some(4242)).unwrap();
        let err = prepare(&path).unwrap_err();
        assert!(err.to_string().contains("belongs to another user"), "{err}");
        assert!(path.exists(), "someone else's socket is not removed");
    }
}
