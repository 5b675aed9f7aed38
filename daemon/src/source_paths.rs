//! Source paths as the compiler wrote them, made comparable: a module included with
//! `#[path = "../../x/tasks.rs"]` is named `a/examples/../../x/tasks.rs` in the debug info and in
//! panic locations, where the workspace knows it as `x/tasks.rs`.

use std::path::{Component, Path, PathBuf};

/// `a/examples/../../b/c.rs` → `b/c.rs`, as a module included with `#[path = "../.."]` is named:
/// each `..` takes back the part before it (a leading one stays).
pub fn without_dot_dots(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn dot_dots_take_back_the_part_before_them() {
        let cases = [
            ("/w/embassy/examples/../../firmware/x/src/tasks.rs", "/w/firmware/x/src/tasks.rs"),
            ("embassy/examples/../../firmware/tasks.rs", "firmware/tasks.rs"),
            ("../up/a.rs", "../up/a.rs"),
            ("/w/./src/a.rs", "/w/src/a.rs"),
        ];
        for (path, expected) in cases {
            assert_eq!(
                super::without_dot_dots(std::path::Path::new(path)),
                std::path::Path::new(expected),
                "{path}"
            );
        }
    }
}
