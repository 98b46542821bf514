//! The K230 VENC error codes, `0xA0098000 | n`, each with a sentence.

use crate::error::{Error, Status};

/// The low bits `n` of a K230 VENC error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Code {
    InvalidDevId = 0x1,
    InvalidChnId = 0x2,
    IllegalParam = 0x3,
    Exist = 0x4,
    Unexist = 0x5,
    NullPtr = 0x6,
    NotConfig = 0x7,
    NotSupport = 0x8,
    NotPerm = 0x9,
    NoMem = 0xC,
    NoBuf = 0xD,
    BufEmpty = 0xE,
    BufFull = 0xF,
    NotReady = 0x10,
    BadAddr = 0x11,
    Busy = 0x12,
}

/// The common high part of every K230 VENC error code.
pub const ERR_BASE: u32 = 0xA009_8000;

impl Code {
    /// The full code as the vendor's `k_s32` return value.
    pub fn value(self) -> i32 {
        (ERR_BASE | self as u32) as i32
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct K230Error {
    pub code: Code,
    pub message: String,
}

impl K230Error {
    pub fn new(code: Code, message: impl Into<String>) -> K230Error {
        K230Error {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for K230Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (0x{:08X})", self.message, self.code.value() as u32)
    }
}

impl std::error::Error for K230Error {}

/// Engine errors in K230 terms.
impl From<Error> for K230Error {
    fn from(e: Error) -> K230Error {
        let code = match e.status {
            Status::Unsupported => Code::NotSupport,
            Status::NullArg => Code::NullPtr,
            Status::NoMemory => Code::NoMem,
            Status::Again => Code::BufEmpty,
            Status::Busy => Code::Busy,
            Status::InvalidState | Status::Eof => Code::NotPerm,
            Status::InvalidArg | Status::BadValue | Status::UnknownKey | Status::StructSize => {
                Code::IllegalParam
            }
            _ => Code::NotReady,
        };
        K230Error::new(code, e.message)
    }
}

pub type KResult<T> = std::result::Result<T, K230Error>;
