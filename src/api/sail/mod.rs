//! The Sophgo SAIL `sail.Encoder` personality.
//!
//! - `params`: the `enc_params` string.
//! - `convert`: picture conversion and resizing rules per chip.
//! - `queue`: the frame queue, abort policies, failure flags, counters.
//! - `worker`: the thread that encodes and writes to the output.
//! - `encoder`: the encoder object (picture-only or video).

pub mod convert;
pub mod encoder;
pub mod params;
pub mod queue;
pub mod worker;

pub use convert::SailPixFmt;
pub use encoder::{SailEncoder, VideoSettings};
pub use params::{EncParams, SailChip};
pub use queue::Stats;

/// What `video_write` returns (SAIL's codes, plus BadCall for calls that
/// cannot be made at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum WriteCode {
    Ok = 0,
    /// The queue is full (policy 0, policy 3 after its bound).
    QueueFull = -1,
    /// The last encode failed (reported once).
    EncodeFailed = -2,
    /// A write or push failed; stays until a successful reconnect.
    WriteFailed = -3,
    /// The queue is full and the abort policy is unknown.
    UnknownPolicy = -4,
    /// The chip cannot do this conversion.
    NotSupported = 9,
    /// Not a SAIL code: NULL or invalid picture, picture-only or released
    /// encoder, internal panic. The message says which.
    BadCall = -100,
}

impl WriteCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A video_write outcome other than 0, with its explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteError {
    pub code: WriteCode,
    pub message: String,
}

impl WriteError {
    pub fn new(code: WriteCode, message: impl Into<String>) -> WriteError {
        WriteError {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code.code())
    }
}
