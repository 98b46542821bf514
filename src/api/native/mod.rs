//! The native personality: config → encoder → send_frame / receive_packet / drain.

pub mod config;
pub mod encoder;

pub use config::Config;
pub use encoder::{Encoder, FrameOptions};
