//! Safe Rust, one module per personality.

pub mod k230;
pub mod native;
