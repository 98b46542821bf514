//! The V4L2 personality: a stateful memory-to-memory encoder driven with
//! the kernel's own structs (<linux/videodev2.h>) and ioctl numbers.
//!
//! Unlike the rest of libvenc these calls return what the kernel would: 0
//! on success or a negated errno (-EINVAL, -EAGAIN, -EPIPE, ...), so a V4L2
//! client can switch between a device node and libvenc by swapping
//! ioctl(fd, ...) for venc_v4l2_ioctl(h, ...). A NULL handle is -EBADF; a
//! NULL argument the call needs is -EFAULT.

use std::ffi::{c_char, c_int, c_short, c_ulong, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use super::macros::{c_str, ffi_boundary, give, put, take, ErrorSlot, Handle};
use super::native::last_error;
use crate::api::v4l2::buffers::BufInfo;
use crate::api::v4l2::uapi::*;
use crate::api::v4l2::{CtrlOp, Device, Emulated, KernelNode, V4l2Error, VResult};

/// An open V4L2 encoder, emulated or a kernel node (opaque).
pub struct venc_v4l2 {
    dev: Device,
    errors: ErrorSlot,
}

impl Handle for venc_v4l2 {
    fn errors(&self) -> &ErrorSlot {
        &self.errors
    }
}

fn efault(what: &str) -> V4l2Error {
    V4l2Error::new(libc::EFAULT, format!("{what} is NULL"))
}

/// NULL check, poison check, panic boundary; errors become -errno and the
/// handle's last error.
fn call(h: *const venc_v4l2, body: impl FnOnce(&venc_v4l2) -> VResult<()>) -> c_int {
    // SAFETY: a non-NULL handle came from venc_v4l2_open and is not closed
    // while a call runs (contract).
    let Some(handle) = (unsafe { h.as_ref() }) else {
        return -libc::EBADF;
    };
    if handle.errors.is_poisoned() {
        return -libc::EIO;
    }
    match catch_unwind(AssertUnwindSafe(|| body(handle))) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            handle.errors.set(&e.message);
            -e.errno
        }
        Err(_) => {
            handle.errors.poison();
            -libc::EIO
        }
    }
}

/// Opens an encoder. `path` NULL or "emulated": libvenc's own encoder;
/// otherwise a device node such as "/dev/video0" opened with `flags`
/// (open(2) flags, 0 = O_RDWR). O_NONBLOCK in `flags` makes DQBUF return
/// -EAGAIN instead of waiting, for both kinds. Returns 0 or -errno.
#[no_mangle]
pub extern "C" fn venc_v4l2_open(
    path: *const c_char,
    flags: u32,
    out: *mut *mut venc_v4l2,
) -> c_int {
    ffi_boundary!(-libc::EIO, {
        if out.is_null() {
            return -libc::EFAULT;
        }
        let path = if path.is_null() {
            None
        } else {
            match c_str(path, "path") {
                Ok(p) => Some(p),
                Err(_) => return -libc::EINVAL,
            }
        };
        match Device::open(path, flags as i32) {
            Ok(dev) => {
                give(
                    out,
                    venc_v4l2 {
                        dev,
                        errors: ErrorSlot::default(),
                    },
                );
                0
            }
            Err(e) => -e.errno,
        }
    })
}

/// Closes the encoder; NULL is a no-op. Client mappings of MMAP buffers
/// stay valid until venc_v4l2_munmap.
#[no_mangle]
pub extern "C" fn venc_v4l2_close(h: *mut venc_v4l2) {
    ffi_boundary!((), { take(h) })
}

/// Copies the last error text; returns its full length.
#[no_mangle]
pub extern "C" fn venc_v4l2_last_error(h: *const venc_v4l2, buf: *mut c_char, cap: usize) -> usize {
    last_error(h, buf, cap)
}

/// ioctl(2) on the encoder: `request` is a VIDIOC_* number and `arg` its
/// struct, exactly as for the kernel. Returns 0 or -errno.
#[no_mangle]
pub extern "C" fn venc_v4l2_ioctl(h: *mut venc_v4l2, request: c_ulong, arg: *mut c_void) -> c_int {
    call(h, |h| match &h.dev {
        Device::Kernel(k) => kernel_ioctl(k, request, arg),
        Device::Emulated(e) => emulated_ioctl(e, request as libc::Ioctl, arg),
    })
}

/// Maps a MMAP buffer: `offset` is its m.offset (or m.planes[0].m.mem_offset)
/// from QUERYBUF. Mapped read/write, shared. Returns 0 or -errno.
#[no_mangle]
pub extern "C" fn venc_v4l2_mmap(
    h: *mut venc_v4l2,
    length: usize,
    offset: i64,
    out: *mut *mut c_void,
) -> c_int {
    call(h, |h| {
        if out.is_null() {
            return Err(efault("out"));
        }
        let p = match &h.dev {
            Device::Kernel(k) => k.mmap(length, offset)?,
            Device::Emulated(e) => e.mmap(length, offset)?,
        };
        put(out, p);
        Ok(())
    })
}

/// Unmaps what venc_v4l2_mmap mapped. Returns 0 or -errno.
#[no_mangle]
pub extern "C" fn venc_v4l2_munmap(h: *mut venc_v4l2, addr: *mut c_void, length: usize) -> c_int {
    call(h, |_| unmap(addr, length))
}

fn unmap(addr: *mut c_void, length: usize) -> VResult<()> {
    // SAFETY: the caller unmaps a mapping it got from venc_v4l2_mmap.
    if unsafe { libc::munmap(addr, length) } != 0 {
        let e = std::io::Error::last_os_error();
        let errno = e.raw_os_error().unwrap_or(libc::EINVAL);
        return Err(V4l2Error::new(errno, format!("munmap: {e}")));
    }
    Ok(())
}

fn kernel_ioctl(k: &KernelNode, request: c_ulong, arg: *mut c_void) -> VResult<()> {
    // SAFETY: the caller passes the struct the kernel expects for request.
    let r = unsafe { k.ioctl(request as libc::Ioctl, arg) };
    if r < 0 {
        let message = format!("the device refused ioctl {request:#x}");
        Err(V4l2Error::new(-r, message))
    } else {
        Ok(())
    }
}

/// poll(2): waits up to `timeout_ms` (-1 forever) for POLLIN (a CAPTURE
/// buffer is ready), POLLOUT (an OUTPUT buffer is free), POLLPRI (an
/// event). `*revents` gets the result (0 on timeout). Returns 0 or -errno.
#[no_mangle]
pub extern "C" fn venc_v4l2_poll(
    h: *mut venc_v4l2,
    events: c_short,
    timeout_ms: c_int,
    revents: *mut c_short,
) -> c_int {
    call(h, |h| {
        if revents.is_null() {
            return Err(efault("revents"));
        }
        let r = match &h.dev {
            Device::Kernel(k) => k.poll(events, timeout_ms)?,
            Device::Emulated(e) => e.poll(events, timeout_ms)?,
        };
        put(revents, r);
        Ok(())
    })
}

/// Reads the ioctl argument, runs `f` on a copy, writes it back on success.
fn with_arg<T: Copy>(arg: *mut c_void, f: impl FnOnce(&mut T) -> VResult<()>) -> VResult<()> {
    if arg.is_null() {
        return Err(efault("the ioctl argument"));
    }
    // SAFETY: the caller passes a T for this request (the V4L2 contract);
    // unaligned access because C gives no alignment promise we rely on.
    let mut v: T = unsafe { ptr::read_unaligned(arg.cast::<T>()) };
    f(&mut v)?;
    // SAFETY: as above, the argument is a writable T.
    unsafe { ptr::write_unaligned(arg.cast::<T>(), v) };
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BufOp {
    Query,
    Queue,
    Dequeue,
}

// c_ulong is 32 bits on ILP32 targets, so its casts to u64 stay.
#[allow(clippy::unnecessary_cast)]
fn buffer_ioctl(e: &Emulated, arg: *mut c_void, op: BufOp) -> VResult<()> {
    with_arg(arg, |b: &mut v4l2_buffer| {
        let mplane = is_mplane(b.type_);
        let planes = if mplane {
            // SAFETY: reading the union member the multi-planar type selects.
            let p = unsafe { b.m.planes };
            if p.is_null() {
                return Err(efault("m.planes"));
            }
            if b.length < 1 {
                return Err(V4l2Error::new(
                    libc::EINVAL,
                    "length (the plane count) must be at least 1",
                ));
            }
            Some(p)
        } else {
            None
        };
        let mut info = BufInfo {
            index: b.index,
            type_: b.type_,
            memory: b.memory,
            bytesused: b.bytesused,
            flags: b.flags,
            field: b.field,
            timestamp: (b.timestamp.tv_sec, b.timestamp.tv_usec),
            sequence: 0,
            m: 0,
            length: b.length,
        };
        let mut p0 = v4l2_plane::default();
        if let Some(p) = planes {
            // SAFETY: the client gives `length` >= 1 planes at m.planes.
            p0 = unsafe { ptr::read_unaligned(p) };
            info.bytesused = p0.bytesused;
            info.length = p0.length;
            // SAFETY: the memory type selects the union member.
            info.m = match b.memory {
                MEMORY_USERPTR => unsafe { p0.m.userptr as u64 },
                MEMORY_DMABUF => unsafe { p0.m.fd as u32 as u64 },
                _ => 0,
            };
        } else {
            // SAFETY: the memory type selects the union member.
            info.m = match b.memory {
                MEMORY_USERPTR => unsafe { b.m.userptr as u64 },
                MEMORY_DMABUF => unsafe { b.m.fd as u32 as u64 },
                _ => 0,
            };
        }
        match op {
            BufOp::Query => e.querybuf(&mut info)?,
            BufOp::Queue => e.qbuf(&mut info)?,
            BufOp::Dequeue => e.dqbuf(&mut info)?,
        }
        b.index = info.index;
        b.flags = info.flags;
        b.field = info.field;
        b.timestamp.tv_sec = info.timestamp.0;
        b.timestamp.tv_usec = info.timestamp.1;
        b.sequence = info.sequence;
        b.memory = info.memory;
        b.timecode = v4l2_timecode {
            type_: 0,
            flags: 0,
            frames: 0,
            seconds: 0,
            minutes: 0,
            hours: 0,
            userbits: [0; 4],
        };
        if let Some(p) = planes {
            p0.bytesused = info.bytesused;
            p0.length = info.length;
            p0.data_offset = 0;
            p0.m = v4l2_plane_m { userptr: 0 };
            match info.memory {
                MEMORY_USERPTR => p0.m.userptr = info.m as c_ulong,
                MEMORY_DMABUF => p0.m.fd = info.m as i32,
                _ => p0.m.mem_offset = info.m as u32,
            }
            // SAFETY: as above, the first plane is writable.
            unsafe { ptr::write_unaligned(p, p0) };
            b.bytesused = 0;
            b.length = 1;
        } else {
            b.bytesused = info.bytesused;
            b.length = info.length;
            b.m = v4l2_buffer_m { userptr: 0 };
            match info.memory {
                MEMORY_USERPTR => b.m.userptr = info.m as c_ulong,
                MEMORY_DMABUF => b.m.fd = info.m as i32,
                _ => b.m.offset = info.m as u32,
            }
        }
        Ok(())
    })
}

/// Most controls one EXT_CTRLS call takes (the kernel's V4L2_CID_MAX_CTRLS).
const MAX_CTRLS: u32 = 1024;

fn ext_ctrls_ioctl(e: &Emulated, arg: *mut c_void, op: CtrlOp) -> VResult<()> {
    if arg.is_null() {
        return Err(efault("the ioctl argument"));
    }
    // SAFETY: the caller passes a v4l2_ext_controls (V4L2 contract).
    let mut c: v4l2_ext_controls = unsafe { ptr::read_unaligned(arg.cast()) };
    if c.count > MAX_CTRLS {
        c.error_idx = c.count;
        // SAFETY: as above.
        unsafe { ptr::write_unaligned(arg.cast(), c) };
        return Err(V4l2Error::new(libc::EINVAL, "too many controls"));
    }
    if c.count > 0 && c.controls.is_null() {
        return Err(efault("controls"));
    }
    let n = c.count as usize;
    let mut list: Vec<v4l2_ext_control> = (0..n)
        // SAFETY: the client gives `count` controls at `controls`.
        .map(|i| unsafe { ptr::read_unaligned(c.controls.add(i)) })
        .collect();
    let result = e.ext_ctrls(op, c.which, &mut list);
    for (i, v) in list.iter().enumerate() {
        // SAFETY: as above; the array is writable.
        unsafe { ptr::write_unaligned(c.controls.add(i), *v) };
    }
    let r = match result {
        Ok(()) => {
            c.error_idx = 0;
            Ok(())
        }
        Err((err, idx)) => {
            c.error_idx = idx;
            Err(err)
        }
    };
    // SAFETY: as above.
    unsafe { ptr::write_unaligned(arg.cast(), c) };
    r
}

pub(crate) fn emulated_ioctl(e: &Emulated, request: libc::Ioctl, arg: *mut c_void) -> VResult<()> {
    match request {
        VIDIOC_QUERYCAP => with_arg(arg, |c| e.querycap(c)),
        VIDIOC_ENUM_FMT => with_arg(arg, |f| e.enum_fmt(f)),
        VIDIOC_G_FMT => with_arg(arg, |f| e.g_fmt(f)),
        VIDIOC_S_FMT => with_arg(arg, |f| e.s_fmt(f, true)),
        VIDIOC_TRY_FMT => with_arg(arg, |f| e.s_fmt(f, false)),
        VIDIOC_REQBUFS => with_arg(arg, |r| e.reqbufs(r)),
        VIDIOC_QUERYBUF => buffer_ioctl(e, arg, BufOp::Query),
        VIDIOC_CREATE_BUFS => with_arg(arg, |c| e.create_bufs(c)),
        VIDIOC_EXPBUF => with_arg(arg, |x| e.expbuf(x)),
        VIDIOC_QBUF => buffer_ioctl(e, arg, BufOp::Queue),
        VIDIOC_DQBUF => buffer_ioctl(e, arg, BufOp::Dequeue),
        VIDIOC_STREAMON => with_arg(arg, |t: &mut i32| e.streamon(*t as u32)),
        VIDIOC_STREAMOFF => with_arg(arg, |t: &mut i32| e.streamoff(*t as u32)),
        VIDIOC_G_PARM => with_arg(arg, |p| e.g_parm(p)),
        VIDIOC_S_PARM => with_arg(arg, |p| e.s_parm(p)),
        VIDIOC_G_CTRL => with_arg(arg, |c| e.g_ctrl(c)),
        VIDIOC_S_CTRL => with_arg(arg, |c| e.s_ctrl(c)),
        VIDIOC_QUERYCTRL => with_arg(arg, |q| e.queryctrl(q)),
        VIDIOC_QUERYMENU => with_arg(arg, |m| e.querymenu(m)),
        VIDIOC_G_EXT_CTRLS => ext_ctrls_ioctl(e, arg, CtrlOp::Get),
        VIDIOC_S_EXT_CTRLS => ext_ctrls_ioctl(e, arg, CtrlOp::Set),
        VIDIOC_TRY_EXT_CTRLS => ext_ctrls_ioctl(e, arg, CtrlOp::Try),
        VIDIOC_ENUM_FRAMESIZES => with_arg(arg, |f| e.enum_framesizes(f)),
        VIDIOC_ENUM_FRAMEINTERVALS => with_arg(arg, |f| e.enum_frameintervals(f)),
        VIDIOC_ENCODER_CMD => with_arg(arg, |c| e.encoder_cmd(c, false)),
        VIDIOC_TRY_ENCODER_CMD => with_arg(arg, |c| e.encoder_cmd(c, true)),
        VIDIOC_SUBSCRIBE_EVENT => with_arg(arg, |s| e.subscribe(s, true)),
        VIDIOC_UNSUBSCRIBE_EVENT => with_arg(arg, |s| e.subscribe(s, false)),
        VIDIOC_DQEVENT => with_arg(arg, |ev| e.dqevent(ev)),
        VIDIOC_G_SELECTION => with_arg(arg, |s| e.g_selection(s)),
        VIDIOC_S_SELECTION => with_arg(arg, |s| e.s_selection(s)),
        _ => Err(V4l2Error::new(
            libc::ENOTTY,
            format!("ioctl {request:#x} is not implemented by the emulated encoder"),
        )),
    }
}
