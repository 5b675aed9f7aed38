//! What the end-to-end tests of the editor servers share.
// Each test file uses its own part of it.
#![allow(dead_code)]

pub mod stdio;
