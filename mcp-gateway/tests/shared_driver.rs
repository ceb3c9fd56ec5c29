//! The `--shared` driver's unit tests (in `src/shared.rs`), compiled here until the library
//! declares the module.
#![allow(dead_code, unreachable_pub)]

#[path = "../src/shared.rs"]
mod shared;
