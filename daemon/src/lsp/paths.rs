//! Mapping the firmware's source paths to files in the editor's workspace folders.
//!
//! The firmware knows its files as its compiler saw them: relative to the crate or workspace it was
//! built in (`demo/src/demo.rs`), or absolute on the build machine (`/home/ci/app/src/main.rs`,
//! `~/.cargo/registry/...`). A path is matched to the longest suffix of it that names a file inside
//! a workspace folder, or inside a Cargo workspace nested in one (a `firmware/` workspace of its
//! own, built for the target, whose paths are relative to it: `embassy-example/src/tasks.rs`).
//! Nothing outside the workspace folders is ever looked at: a candidate that leaves its folder
//! (`..`, a symbolic link pointing out) is refused.

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
    let bases: Vec<(&PathBuf, PathBuf)> = roots
        .iter()
        .flat_map(|root| nested_workspaces(root).into_iter().map(move |base| (root, base)))
        .collect();
    // Longest suffix first: `home/ci/app/src/main.rs`, `ci/app/src/main.rs`, ..., `main.rs`.
    for start in 0..parts.len() {
        let suffix: PathBuf = parts[start..].iter().collect();
        for (root, base) in &bases {
            if let Some(found) = inside(root, &base.join(&suffix)) {
                return Some(found);
            }
        }
    }
    None
}

/// `root`, then the Cargo workspaces and crates nested in it, two levels deep at most (hidden
/// folders, `target` and `node_modules` skipped).
fn nested_workspaces(root: &Path) -> Vec<PathBuf> {
    let mut found = vec![root.to_path_buf()];
    let mut level = vec![root.to_path_buf()];
    for _ in 0..2 {
        let mut next = Vec::new();
        for dir in &level {
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') || name == "target" || name == "node_modules" {
                    continue;
                }
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    let path = entry.path();
                    if path.join("Cargo.toml").is_file() {
                        found.push(path.clone());
                    }
                    next.push(path);
                }
            }
        }
        level = next;
    }
    found
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
        // A firmware built in a Cargo workspace of its own, nested in the folder.
        std::fs::create_dir_all(dir.path().join("firmware/app/src")).unwrap();
        std::fs::write(dir.path().join("firmware/Cargo.toml"), "[workspace]\n").unwrap();
        std::fs::write(dir.path().join("firmware/app/src/tasks.rs"), "").unwrap();
        assert_eq!(resolve(&roots, "app/src/tasks.rs"), Some(real("firmware/app/src/tasks.rs")));
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
