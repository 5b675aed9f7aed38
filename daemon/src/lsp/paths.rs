//! Mapping the firmware's source paths to files in the editor's workspace folders.
//!
//! The firmware knows its files as its compiler saw them: relative to the crate or workspace it was
//! built in (`demo/src/demo.rs`), or absolute on the build machine (`/home/ci/app/src/main.rs`,
//! `~/.cargo/registry/...`). A path is matched to the longest suffix of it that names a file inside
//! a workspace folder. Nothing outside the workspace folders is ever looked at: a candidate that
//! leaves its folder (`..`, a symbolic link pointing out) is refused.

use std::path::{Component, Path, PathBuf};

/// The file in one of `roots` that `firmware_path` names, if there is one.
pub fn resolve(roots: &[PathBuf], firmware_path: &str) -> Option<PathBuf> {
    // `a/examples/../../b/c.rs` is `b/c.rs`; a `..` left at the start still leaves the folder.
    let normal = crate::source_paths::without_dot_dots(Path::new(firmware_path));
    let path = normal.as_path();
    let parts: Vec<&std::ffi::OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect();
    if path.components().any(|c| c == Component::ParentDir) {
        return None;
    }
    // Longest suffix first: `home/ci/app/src/main.rs`, `ci/app/src/main.rs`, ..., `main.rs`.
    for start in 0..parts.len() {
        let suffix: PathBuf = parts[start..].iter().collect();
        for root in roots {
            if let Some(found) = inside(root, &root.join(&suffix)) {
                return Some(found);
            }
        }
    }
    None
}

/// `candidate` if it is a file and, once symbolic links are resolved, still inside `root`.
fn inside(root: &Path, candidate: &Path) -> Option<PathBuf> {
    let root = root.canonicalize().ok()?;
    let real = candidate.canonicalize().ok()?;
    (real.starts_with(&root) && real.is_file()).then_some(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("demo/src")).unwrap();
        std::fs::write(dir.path().join("demo/src/demo.rs"), "fn main() {}\n").unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
        dir
    }

    #[test]
    fn relative_and_build_machine_paths_find_the_workspace_file() {
        let dir = workspace();
        let roots = [dir.path().to_path_buf()];
        let real = |p: &str| dir.path().join(p).canonicalize().unwrap();
        assert_eq!(resolve(&roots, "demo/src/demo.rs"), Some(real("demo/src/demo.rs")));
        assert_eq!(resolve(&roots, "/home/ci/build/demo/src/demo.rs"), Some(real("demo/src/demo.rs")));
        assert_eq!(resolve(&roots, "src/main.rs"), Some(real("src/main.rs")));
        // A `#[path]` module's name, as the compiler wrote it.
        assert_eq!(
            resolve(&roots, "embassy/examples/../../demo/src/demo.rs"),
            Some(real("demo/src/demo.rs"))
        );
    }

    #[test]
    fn unknown_files_and_paths_leaving_the_workspace_are_not_found() {
        let dir = workspace();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.rs"), "").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let roots = [dir.path().to_path_buf()];
        assert_eq!(resolve(&roots, "/rustc/abc/library/core/src/option.rs"), None);
        assert_eq!(resolve(&roots, "../secret.rs"), None);
        assert_eq!(resolve(&roots, "src/../../secret.rs"), None, "taken back, it still leaves the folder");
        assert_eq!(
            resolve(&roots, "link/secret.rs"),
            None,
            "a symbolic link out of the workspace is refused"
        );
        assert_eq!(resolve(&[], "src/main.rs"), None);
    }
}
