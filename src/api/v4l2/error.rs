//! Errors as the kernel reports them: an errno plus, for `last_error`, a
//! sentence saying why.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V4l2Error {
    /// Positive errno (EINVAL, EBUSY, ...); the C layer returns it negated.
    pub errno: i32,
    pub message: String,
}

impl V4l2Error {
    pub fn new(errno: i32, message: impl Into<String>) -> V4l2Error {
        V4l2Error {
            errno,
            message: message.into(),
        }
    }
}

impl fmt::Display for V4l2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errno {}: {}", self.errno, self.message)
    }
}

pub type VResult<T> = Result<T, V4l2Error>;

pub fn einval(msg: impl Into<String>) -> V4l2Error {
    V4l2Error::new(libc::EINVAL, msg)
}

pub fn ebusy(msg: impl Into<String>) -> V4l2Error {
    V4l2Error::new(libc::EBUSY, msg)
}
