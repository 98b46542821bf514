//! The V4L2 personality: a stateful memory-to-memory encoder as the kernel
//! documents it (Documentation/userspace-api/media/v4l/dev-encoder.rst),
//! either emulated on libvenc's engines or passed through to a device node.
//!
//! - `uapi`: the videodev2.h structs and ioctl numbers
//! - `state`: the Initialization/Encoding/Drain/Stopped state machine
//! - `formats`: coded and raw formats, alignment, crop
//! - `buffers`: queues and MMAP/USERPTR memory
//! - `controls`: the control table and validation
//! - `events`: EOS subscription and the event queue
//! - `device`: the emulated encoder tying them to a Session
//! - `kernel`: pass-through to /dev/videoN

pub mod buffers;
pub mod controls;
pub mod device;
pub mod error;
pub mod events;
pub mod formats;
pub mod kernel;
pub mod state;
pub mod uapi;

pub use device::{CtrlOp, Emulated};
pub use error::{V4l2Error, VResult};
pub use kernel::KernelNode;

/// An open encoder: ours, or a kernel node.
pub enum Device {
    Emulated(Box<Emulated>),
    Kernel(KernelNode),
}

impl Device {
    /// `path` None or "emulated" → the built-in encoder; otherwise a device
    /// node opened with `flags` (open(2) flags; O_NONBLOCK applies to both).
    pub fn open(path: Option<&str>, flags: i32) -> VResult<Device> {
        match path {
            None | Some("emulated") | Some("") => {
                let nonblock = flags & libc::O_NONBLOCK != 0;
                Ok(Device::Emulated(Box::new(Emulated::new(nonblock))))
            }
            Some(p) => KernelNode::open(p, flags).map(Device::Kernel),
        }
    }
}
