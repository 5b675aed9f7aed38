//! Where the daemon's socket lives, and making sure nobody else can plant or replace it.
//!
//! The default is `$XDG_RUNTIME_DIR/asyncmon/asyncmond.sock`, or `/tmp/asyncmon-$UID/asyncmond.sock`
//! without a runtime directory. The default directory is private: created with mode 0700, and
//! used only if it is a real directory (not a symlink), ours, and not group or world accessible —
//! otherwise another local user could have made it first to catch our stop requests. Any socket
//! directory must be one nobody else can write to (or a sticky one, like `/tmp`). The socket is
//! made 0600. The daemon checks before it binds, and every client checks before it connects (and
//! then checks the daemon's uid on the connection, [`check_peer`]). Nothing here follows symlinks.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why a socket path is not safe to use, in words that say what was found and what to do.
#[derive(Debug, thiserror::Error)]
pub enum UnsafeSocket {
    /// The directory or socket is a symlink.
    #[error("{path} is a symlink (to {target}): asyncmon does not follow it; remove it, or choose another --socket")]
    Symlink {
        /// The path.
        path: PathBuf,
        /// Where it points.
        target: String,
    },
    /// It belongs to another user.
    #[error("{path} belongs to user {owner}, not to you (user {me}): another user may have made it to catch your requests; remove it, or choose another --socket")]
    NotOurs {
        /// The path.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// Our uid.
        me: u32,
    },
    /// Others may enter or write it.
    #[error("{path} has mode {mode:04o}: it must not be open to other users (chmod {wanted:o} {path})")]
    Open {
        /// The path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The mode it should have.
        wanted: u32,
    },
    /// It is not what a socket path needs there (a file where a directory belongs).
    #[error("{path} is not a {wanted}")]
    WrongKind {
        /// The path.
        path: PathBuf,
        /// "directory" or "socket".
        wanted: &'static str,
    },
    /// The daemon on the other end runs as someone else.
    #[error("the daemon at {path} runs as user {owner}, not as you (user {me}): refusing to talk to it")]
    Peer {
        /// The socket.
        path: PathBuf,
        /// The peer's uid.
        owner: u32,
        /// Our uid.
        me: u32,
    },
    /// The path could not be examined.
    #[error("cannot examine {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl From<UnsafeSocket> for io::Error {
    fn from(error: UnsafeSocket) -> Self {
        io::Error::new(io::ErrorKind::PermissionDenied, error.to_string())
    }
}

/// The default socket path for this user.
pub fn default_socket_path() -> PathBuf {
    default_dir().join("asyncmond.sock")
}

fn default_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(runtime) if !runtime.is_empty() => PathBuf::from(runtime).join("asyncmon"),
        _ => std::env::temp_dir().join(format!("asyncmon-{}", current_uid())),
    }
}

/// Why no one session could be picked for a client that named no socket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionSocketError {
    /// No daemon serves in the socket directory.
    #[error("no asyncmon session is running (none serves in {dir}): start one with `asyncmon run`, `asyncmon qemu`, `asyncmon demo` or `asyncmond`, or name its socket with --socket", dir = dir.display())]
    None {
        /// The directory looked in.
        dir: PathBuf,
    },
    /// Several do.
    #[error("{} asyncmon sessions are running; pick one with --socket:\n{}", sockets.len(), sockets.iter().map(|s| format!("  --socket {}", s.display())).collect::<Vec<_>>().join("\n"))]
    Several {
        /// Their sockets.
        sockets: Vec<PathBuf>,
    },
}

/// The socket of the one session that runs, for a client given no `--socket`: the default
/// socket's, or that of the one runner (`asyncmon run`, `qemu`, `demo`: `COMMAND-PID.sock`) serving
/// beside it. Only sockets that pass [`check_for_client`] and answer a connection count. With none,
/// a default socket that is there (or a directory that is not safe) is still the answer: the client
/// then says what is wrong with it (someone else's, not answering), never that nothing runs.
pub fn find_session_socket() -> Result<PathBuf, SessionSocketError> {
    find_session_socket_in(&default_dir())
}

/// [`find_session_socket`] in `dir`.
pub fn find_session_socket_in(dir: &Path) -> Result<PathBuf, SessionSocketError> {
    let default = dir.join("asyncmond.sock");
    if check_dir(dir, true).is_err() {
        return Ok(default);
    }
    match live_sessions_in(dir) {
        Err(SessionSocketError::None { .. }) if default.symlink_metadata().is_ok() => Ok(default),
        other => other,
    }
}

fn live_sessions_in(dir: &Path) -> Result<PathBuf, SessionSocketError> {
    let mut sockets: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "sock"))
                .filter(|p| check_for_client(p).is_ok() && std::os::unix::net::UnixStream::connect(p).is_ok())
                .collect()
        })
        .unwrap_or_default();
    sockets.sort();
    match sockets.len() {
        0 => Err(SessionSocketError::None { dir: dir.to_path_buf() }),
        1 => Ok(sockets.remove(0)),
        _ => Err(SessionSocketError::Several { sockets }),
    }
}

/// This process's user.
pub fn current_uid() -> u32 {
    // /proc/self is owned by our (effective) uid.
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0)
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Checks `dir` without following symlinks: a directory nobody else can write to (ours or root's,
/// or a sticky one); when `private`, ours and closed to everyone else.
pub fn check_dir(dir: &Path, private: bool) -> Result<(), UnsafeSocket> {
    let meta =
        std::fs::symlink_metadata(dir).map_err(|source| UnsafeSocket::Io { path: dir.into(), source })?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(dir).map_or_else(|_| "?".into(), |t| t.display().to_string());
        return Err(UnsafeSocket::Symlink { path: dir.into(), target });
    }
    if !meta.is_dir() {
        return Err(UnsafeSocket::WrongKind { path: dir.into(), wanted: "directory" });
    }
    let (me, owner, mode) = (current_uid(), meta.uid(), meta.mode() & 0o7777);
    let sticky = mode & 0o1000 != 0;
    if private || !(owner == 0 && sticky) {
        // Root may own a shared socket directory (not a private one).
        let trusted = owner == me || (owner == 0 && !private);
        if !trusted {
            return Err(UnsafeSocket::NotOurs { path: dir.into(), owner, me });
        }
        let open = if private { mode & 0o077 } else { mode & 0o022 };
        if open != 0 {
            return Err(UnsafeSocket::Open { path: dir.into(), mode, wanted: 0o700 });
        }
    }
    Ok(())
}

/// Checks the socket at `path` without following symlinks: a socket, ours, closed to others.
pub fn check_socket(path: &Path) -> Result<(), UnsafeSocket> {
    let meta =
        std::fs::symlink_metadata(path).map_err(|source| UnsafeSocket::Io { path: path.into(), source })?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path).map_or_else(|_| "?".into(), |t| t.display().to_string());
        return Err(UnsafeSocket::Symlink { path: path.into(), target });
    }
    let me = current_uid();
    if meta.uid() != me {
        return Err(UnsafeSocket::NotOurs { path: path.into(), owner: meta.uid(), me });
    }
    if !std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) {
        return Err(UnsafeSocket::WrongKind { path: path.into(), wanted: "socket" });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(UnsafeSocket::Open { path: path.into(), mode, wanted: 0o600 });
    }
    Ok(())
}

/// What a client checks before it connects to `path`: its directory and the socket.
pub fn check_for_client(path: &Path) -> Result<(), UnsafeSocket> {
    let dir = parent(path);
    check_dir(dir, dir == default_dir())?;
    check_socket(path)
}

/// What a client checks once connected: the daemon on the other end runs as this user.
pub fn check_peer(path: &Path, peer_uid: u32) -> Result<(), UnsafeSocket> {
    let me = current_uid();
    if peer_uid != me {
        return Err(UnsafeSocket::Peer { path: path.into(), owner: peer_uid, me });
    }
    Ok(())
}

/// Makes the socket's directory (mode 0700) if it is missing, checks it, and removes a stale
/// socket left by a daemon that died. Fails if a live daemon already serves at `path`, or the
/// directory or the socket is not safe (see the module documentation).
pub fn prepare(path: &Path) -> io::Result<()> {
    let dir = parent(path);
    let private = dir == default_dir();
    if std::fs::symlink_metadata(dir).is_err() {
        if let Some(above) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(above)?;
        }
        // Not `create_dir_all`: the last step must create the directory, with its mode, or fail.
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    check_dir(dir, private)?;
    if std::fs::symlink_metadata(path).is_ok() {
        match check_socket(path) {
            Ok(()) => {}
            Err(UnsafeSocket::Open { .. }) => {} // Ours, but left open: replaced below.
            Err(e) => return Err(e.into()),
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

/// The socket's directory, held open from start-up: the socket is removed through it at shutdown
/// (`unlinkat`), so a directory someone swapped for a symbolic link meanwhile cannot turn the
/// removal into one of their choosing.
#[derive(Debug)]
pub struct SocketDir {
    dir: std::fs::File,
    name: std::ffi::CString,
}

impl SocketDir {
    /// Opens the directory of the socket at `path` (not following a symbolic link).
    pub fn hold(path: &Path) -> io::Result<SocketDir> {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_DIRECTORY | nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(parent(path))?;
        let file_name =
            path.file_name().ok_or_else(|| io::Error::other("the socket path has no file name"))?;
        let name = std::ffi::CString::new(file_name.as_encoded_bytes())
            .map_err(|_| io::Error::other("the socket's name holds a NUL byte"))?;
        Ok(SocketDir { dir, name })
    }

    /// Removes the socket from the directory held since start-up.
    pub fn remove_socket(&self) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: `dir` is an open directory descriptor we own and `name` a NUL-terminated string
        // that outlives the call; unlinkat reads both and keeps neither.
        let done = unsafe { nix::libc::unlinkat(self.dir.as_raw_fd(), self.name.as_ptr(), 0) };
        if done == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

/// Restricts the socket at `path` to its owner.
pub fn restrict(path: &Path) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_is_removed_through_the_directory_held_not_one_swapped_in() {
        let root = tempfile::tempdir().unwrap();
        let (ours, theirs) = (root.path().join("run"), root.path().join("theirs"));
        std::fs::create_dir(&ours).unwrap();
        std::fs::create_dir(&theirs).unwrap();
        std::fs::write(ours.join("d.sock"), "").unwrap();
        std::fs::write(theirs.join("d.sock"), "").unwrap();
        let held = SocketDir::hold(&ours.join("d.sock")).unwrap();
        // After start-up, someone swaps the directory for a link to another one.
        std::fs::rename(&ours, root.path().join("run.old")).unwrap();
        std::os::unix::fs::symlink(&theirs, &ours).unwrap();
        held.remove_socket().unwrap();
        assert!(theirs.join("d.sock").exists(), "the other directory's file is left alone");
        assert!(!root.path().join("run.old/d.sock").exists(), "ours is removed");
    }

    #[test]
    fn a_client_without_a_socket_finds_the_one_live_session_and_lists_several() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let serve = |name: &str| {
            let path = dir.path().join(name);
            let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
            restrict(&path).unwrap();
            listener
        };
        assert!(matches!(find_session_socket_in(dir.path()), Err(SessionSocketError::None { .. })));
        // A socket whose daemon is gone does not count.
        drop(serve("demo-1.sock"));
        assert!(matches!(find_session_socket_in(dir.path()), Err(SessionSocketError::None { .. })));
        // A default socket that is there but does not answer is still named: the client says why.
        drop(serve("asyncmond.sock"));
        assert_eq!(find_session_socket_in(dir.path()).unwrap(), dir.path().join("asyncmond.sock"));
        std::fs::remove_file(dir.path().join("asyncmond.sock")).unwrap();
        let _run = serve("run-2.sock");
        assert_eq!(find_session_socket_in(dir.path()).unwrap(), dir.path().join("run-2.sock"));
        let _daemon = serve("asyncmond.sock");
        let err = find_session_socket_in(dir.path()).unwrap_err().to_string();
        assert!(err.contains("2 asyncmon sessions are running"), "{err}");
        assert!(
            err.contains("--socket ") && err.contains("run-2.sock") && err.contains("asyncmond.sock"),
            "{err}"
        );
    }

    fn as_root() -> bool {
        if current_uid() != 0 {
            // Only root can make a file owned by someone else; CI runs as root.
            eprintln!("skipped: needs root to chown a file to another user");
            return false;
        }
        true
    }

    #[test]
    fn a_stale_socket_is_removed_and_a_live_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("d.sock");
        prepare(&path).unwrap();
        let mode = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let live = std::os::unix::net::UnixListener::bind(&path).unwrap();
        restrict(&path).unwrap();
        let err = prepare(&path).unwrap_err();
        assert!(err.to_string().contains("already serves"), "{err}");
        drop(live);
        prepare(&path).unwrap();
        assert!(!path.exists(), "the stale socket was removed");
    }

    #[test]
    fn a_socket_owned_by_another_user_is_refused_and_left_alone() {
        if !as_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        std::os::unix::fs::chown(&path, Some(4242), Some(4242)).unwrap();
        let err = prepare(&path).unwrap_err();
        assert!(err.to_string().contains("belongs to user 4242"), "{err}");
        assert!(path.exists(), "someone else's socket is not removed");
        let err = check_for_client(&path).unwrap_err();
        assert!(matches!(err, UnsafeSocket::NotOurs { owner: 4242, .. }), "{err}");
    }

    #[test]
    fn a_private_directory_made_first_by_another_user_or_a_symlink_is_refused() {
        if !as_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        // Planted: the fallback directory, made by user 4242 before us.
        let planted = tmp.path().join("asyncmon-0");
        std::fs::DirBuilder::new().mode(0o777).create(&planted).unwrap();
        std::os::unix::fs::chown(&planted, Some(4242), Some(4242)).unwrap();
        let err = check_dir(&planted, true).unwrap_err();
        assert!(err.to_string().contains("belongs to user 4242, not to you"), "{err}");
        // A symlink to a directory of ours is not followed either.
        let ours = tmp.path().join("ours");
        std::fs::DirBuilder::new().mode(0o700).create(&ours).unwrap();
        let link = tmp.path().join("asyncmon-link");
        std::os::unix::fs::symlink(&ours, &link).unwrap();
        let err = check_dir(&link, true).unwrap_err();
        assert!(matches!(err, UnsafeSocket::Symlink { .. }), "{err}");
        assert!(prepare(&link.join("d.sock")).is_err(), "the daemon does not bind through it");
        // Ours but open to others: said, with the fix.
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = check_dir(&ours, true).unwrap_err();
        assert!(err.to_string().contains("mode 0755") && err.to_string().contains("chmod 700"), "{err}");
        // A sticky, root-owned directory like /tmp is fine for an explicit --socket.
        assert!(check_dir(Path::new("/tmp"), false).is_ok());
    }

    #[test]
    fn a_daemon_running_as_someone_else_is_refused() {
        let err = check_peer(Path::new("/run/x.sock"), current_uid() + 1).unwrap_err();
        assert!(err.to_string().contains("refusing to talk to it"), "{err}");
        assert!(check_peer(Path::new("/run/x.sock"), current_uid()).is_ok());
    }
}
