//! The Horizon / D-Robotics personality (`libsrcampy.Encoder`, `sp_*`):
//! encode / send_frame / get_frame / close with the RDK boards' fixed
//! configuration, and every setting kept per encoder.

pub mod config;
pub mod encoder;
pub mod error;

pub use config::{Board, BoardConfig, EncodeType};
pub use encoder::{HobotEncoder, DEFAULT_TIMEOUT_MS, INPUT_QUEUE, SEND_BLOCK_MS};
pub use error::{HResult, HobotError};
