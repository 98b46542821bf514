//! Pass-through to a real V4L2 device node: the same calls, forwarded.

use std::ffi::{c_void, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::error::{V4l2Error, VResult};

pub struct KernelNode {
    fd: OwnedFd,
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

impl KernelNode {
    /// open(2) with `flags` (0 means O_RDWR); O_CLOEXEC is always added.
    pub fn open(path: &str, flags: i32) -> VResult<KernelNode> {
        let c =
            CString::new(path).map_err(|_| V4l2Error::new(libc::EINVAL, "path contains NUL"))?;
        let flags = if flags == 0 { libc::O_RDWR } else { flags };
        // SAFETY: c is a valid NUL-terminated path.
        let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
        if fd < 0 {
            let e = last_errno();
            return Err(V4l2Error::new(
                e,
                format!(
                    "cannot open {path}: {}",
                    std::io::Error::from_raw_os_error(e)
                ),
            ));
        }
        // SAFETY: fd was just opened and is owned by nobody else.
        Ok(KernelNode {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// ioctl(2) with the caller's argument; 0 or -errno.
    ///
    /// # Safety
    /// `arg` must be what the kernel expects for `request`.
    pub unsafe fn ioctl(&self, request: libc::Ioctl, arg: *mut c_void) -> i32 {
        // SAFETY: forwarded under the caller's contract.
        let r = unsafe { libc::ioctl(self.fd.as_raw_fd(), request, arg) };
        if r < 0 {
            -last_errno()
        } else {
            r
        }
    }

    pub fn mmap(&self, length: usize, offset: i64) -> VResult<*mut c_void> {
        // SAFETY: a fresh shared mapping of the device; the kernel validates it.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                length,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                self.fd.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            let e = last_errno();
            return Err(V4l2Error::new(e, "mmap of the device failed"));
        }
        Ok(p)
    }

    pub fn poll(&self, events: i16, timeout_ms: i32) -> VResult<i16> {
        let mut p = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: one pollfd we own.
        let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
        if r < 0 {
            return Err(V4l2Error::new(last_errno(), "poll failed"));
        }
        Ok(p.revents)
    }
}
