//! The error type every safe layer returns: a stable status code plus a
//! sentence that names the problem. The C layer turns it into `venc_status`
//! and the per-handle error text.

use std::fmt;

/// Stable status codes. Values never change once published (see `venc.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Status {
    Ok = 0,
    Again = 1,
    Eof = 2,
    NullArg = -1,
    InvalidArg = -2,
    InvalidState = -3,
    Unsupported = -4,
    UnknownKey = -5,
    BadValue = -6,
    BufferTooSmall = -7,
    NoMemory = -8,
    Timeout = -9,
    Busy = -10,
    Io = -11,
    Backend = -12,
    StructSize = -13,
    Panic = -14,
    Poisoned = -15,
}

impl Status {
    pub const ALL: [Status; 18] = [
        Status::Ok,
        Status::Again,
        Status::Eof,
        Status::NullArg,
        Status::InvalidArg,
        Status::InvalidState,
        Status::Unsupported,
        Status::UnknownKey,
        Status::BadValue,
        Status::BufferTooSmall,
        Status::NoMemory,
        Status::Timeout,
        Status::Busy,
        Status::Io,
        Status::Backend,
        Status::StructSize,
        Status::Panic,
        Status::Poisoned,
    ];

    pub fn code(self) -> i32 {
        self as i32
    }

    /// Static description, also what `venc_status_str` returns.
    pub fn describe(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Again => "try again: nothing ready yet, or the queue is full",
            Status::Eof => "end of stream",
            Status::NullArg => "a required pointer argument is NULL",
            Status::InvalidArg => "invalid argument",
            Status::InvalidState => "call not valid in the object's current state",
            Status::Unsupported => "not supported",
            Status::UnknownKey => "unknown configuration key",
            Status::BadValue => "bad value for a configuration key",
            Status::BufferTooSmall => "buffer too small",
            Status::NoMemory => "out of memory",
            Status::Timeout => "timed out",
            Status::Busy => "busy",
            Status::Io => "input/output error",
            Status::Backend => "encoder backend failed",
            Status::StructSize => "struct_size does not match a known layout",
            Status::Panic => "internal panic caught at the API boundary",
            Status::Poisoned => "handle unusable after an earlier internal panic",
        }
    }
}

/// A status with the sentence that explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
        }
    }
    pub fn invalid_arg(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidArg, message)
    }
    pub fn invalid_state(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidState, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Error {
        Error::new(Status::Unsupported, message)
    }
    pub fn bad_value(message: impl Into<String>) -> Error {
        Error::new(Status::BadValue, message)
    }
    pub fn backend(message: impl Into<String>) -> Error {
        Error::new(Status::Backend, message)
    }
    pub fn io(message: impl Into<String>) -> Error {
        Error::new(Status::Io, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
