//! Safe Rust, one module per personality.

pub mod native;
pub mod v4l2;
