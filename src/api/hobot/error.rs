//! Horizon calls fail with -1 and a sentence; a too-small output buffer is
//! a distinct failure that carries the size needed.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HobotError {
    /// The vendor's -1.
    Failed(String),
    /// The caller's buffer cannot hold the frame; `needed` bytes would.
    BufferTooSmall { needed: usize, message: String },
}

impl HobotError {
    pub fn failed(message: impl Into<String>) -> HobotError {
        HobotError::Failed(message.into())
    }
    pub fn message(&self) -> &str {
        match self {
            HobotError::Failed(m) => m,
            HobotError::BufferTooSmall { message, .. } => message,
        }
    }
}

impl std::fmt::Display for HobotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for HobotError {}

impl From<crate::error::Error> for HobotError {
    fn from(e: crate::error::Error) -> HobotError {
        HobotError::Failed(e.message)
    }
}

pub type HResult<T> = std::result::Result<T, HobotError>;
