//! The README's firmware example is the file CI builds for the Cortex-M boards
//! (`firmware/demo/src/bin/readme.rs`, between its marker lines), word for word: an example that
//! stops compiling fails the firmware build, one edited in the README alone fails here.

#[test]
fn the_readmes_firmware_example_is_the_file_the_firmware_build_compiles() {
    let readme = include_str!("../../README.md");
    let file = include_str!("../../firmware/demo/src/bin/readme.rs");
    let block = file
        .split("// README example begins\n")
        .nth(1)
        .and_then(|rest| rest.split("// README example ends").next())
        .expect("the marker lines in readme.rs");
    assert!(block.contains("EXECUTOR.run(app)"), "the markers enclose the example");
    assert!(
        readme.contains(&format!("```rust\n{block}```\n")),
        "README.md's firmware example differs from firmware/demo/src/bin/readme.rs: copy the file's block into the README"
    );
}
