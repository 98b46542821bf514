//! Safe Rust, one module per personality.

pub mod hobot;
pub mod k230;
pub mod native;
pub mod sail;
pub mod v4l2;
