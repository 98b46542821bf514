//! Buffer queues: allocation (MMAP memory is a memfd the client maps with
//! venc_v4l2_mmap; USERPTR memory is the client's), the queued and done
//! lists, and the buffer bookkeeping QUERYBUF/QBUF/DQBUF report.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

use super::error::{einval, V4l2Error, VResult};
use super::uapi::*;

pub const MAX_BUFFERS: u32 = 32;
/// Base of the CAPTURE queue's mmap offsets (OUTPUT starts at 0).
pub const CAPTURE_OFFSET_BASE: u32 = 1 << 30;
const PAGE: usize = 4096;

fn check_memory(memory: u32) -> VResult<()> {
    match memory {
        MEMORY_MMAP | MEMORY_USERPTR | MEMORY_DMABUF => Ok(()),
        _ => Err(einval(format!("memory type {memory} is not supported"))),
    }
}

/// Anonymous shared memory: a memfd, mapped once for the encoder's own use.
pub struct MemFd {
    fd: OwnedFd,
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned by this value; access goes through &self/&mut self.
unsafe impl Send for MemFd {}
// SAFETY: shared access only reads (as_slice); writes need &mut.
unsafe impl Sync for MemFd {}

fn os_error(what: &str) -> V4l2Error {
    let e = std::io::Error::last_os_error();
    V4l2Error::new(
        e.raw_os_error().unwrap_or(libc::ENOMEM),
        format!("{what}: {e}"),
    )
}

impl MemFd {
    pub fn new(len: usize) -> VResult<MemFd> {
        let len = len.max(1).div_ceil(PAGE) * PAGE;
        // SAFETY: plain syscalls on a name we own; the results are checked.
        unsafe {
            let raw = libc::memfd_create(c"venc-v4l2".as_ptr(), libc::MFD_CLOEXEC);
            if raw < 0 {
                return Err(os_error("memfd_create"));
            }
            let fd = OwnedFd::from_raw_fd(raw);
            if libc::ftruncate(raw, len as libc::off_t) != 0 {
                return Err(os_error("ftruncate"));
            }
            let p = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                raw,
                0,
            );
            if p == libc::MAP_FAILED {
                return Err(os_error("mmap"));
            }
            Ok(MemFd {
                fd,
                ptr: NonNull::new_unchecked(p.cast()),
                len,
            })
        }
    }

    /// Maps a client's dma-buf (or any mappable fd) of at least `min_len`
    /// bytes; the fd is duplicated, the client keeps its own.
    pub fn import(client_fd: i32, min_len: usize) -> VResult<MemFd> {
        if client_fd < 0 {
            return Err(einval(format!("DMABUF fd {client_fd} is invalid")));
        }
        // SAFETY: plain syscalls on the client's fd; results are checked and
        // the duplicate is owned from here on.
        unsafe {
            let raw = libc::fcntl(client_fd, libc::F_DUPFD_CLOEXEC, 0);
            if raw < 0 {
                return Err(os_error("DMABUF fd"));
            }
            let fd = OwnedFd::from_raw_fd(raw);
            let end = libc::lseek(raw, 0, libc::SEEK_END);
            if end < 0 || (end as usize) < min_len {
                return Err(einval(format!(
                    "DMABUF of {end} bytes is smaller than the {min_len} the format needs"
                )));
            }
            let len = end as usize;
            let p = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                raw,
                0,
            );
            if p == libc::MAP_FAILED {
                return Err(os_error("mmap of the DMABUF"));
            }
            Ok(MemFd {
                fd,
                ptr: NonNull::new_unchecked(p.cast()),
                len,
            })
        }
    }

    /// EXPBUF: a new fd for the same memory, owned by the caller.
    pub fn export(&self, cloexec: bool) -> VResult<i32> {
        let cmd = if cloexec {
            libc::F_DUPFD_CLOEXEC
        } else {
            libc::F_DUPFD
        };
        // SAFETY: duplicates our own fd; the new one belongs to the caller.
        let fd = unsafe { libc::fcntl(self.fd.as_raw_fd(), cmd, 0) };
        if fd < 0 {
            return Err(os_error("EXPBUF"));
        }
        Ok(fd)
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: ptr maps len bytes for the lifetime of self.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as above, and &mut self gives exclusive access on our side.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// A new shared mapping for the client (venc_v4l2_mmap).
    pub fn map_for_client(&self, length: usize) -> VResult<*mut c_void> {
        if length == 0 || length > self.len {
            return Err(einval(format!(
                "mmap length {length} does not fit the buffer ({} bytes)",
                self.len
            )));
        }
        // SAFETY: maps our own memfd; the mapping keeps the memory alive on its own.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                length,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                self.fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(os_error("mmap"));
        }
        Ok(p)
    }
}

impl Drop for MemFd {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in new().
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufState {
    Dequeued,
    Queued,
    Done,
}

enum Backing {
    Mmap(MemFd),
    /// Client memory, valid from QBUF to DQBUF by the V4L2 contract.
    UserPtr {
        addr: usize,
        len: usize,
    },
    /// A client dma-buf, mapped at QBUF (with the client's fd number).
    DmaBuf(Option<(i32, MemFd)>),
}

/// One buffer as QUERYBUF/QBUF/DQBUF see it, for both the single- and the
/// multi-planar API (one plane).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufInfo {
    pub index: u32,
    pub type_: u32,
    pub memory: u32,
    pub bytesused: u32,
    pub flags: u32,
    pub field: u32,
    pub timestamp: (i64, i64),
    pub sequence: u32,
    /// mmap offset, or user pointer.
    pub m: u64,
    pub length: u32,
}

pub struct Buffer {
    backing: Backing,
    pub state: BufState,
    pub bytesused: u32,
    pub flags: u32,
    pub field: u32,
    pub timestamp: (i64, i64),
    pub sequence: u32,
}

pub struct Queue {
    pub capture: bool,
    pub type_: u32,
    pub memory: u32,
    /// Bytes per buffer (sizeimage when allocated).
    pub size: u32,
    bufs: Vec<Buffer>,
    pub queued: VecDeque<usize>,
    pub done: VecDeque<usize>,
    pub streaming: bool,
    sequence: u32,
}

impl Queue {
    pub fn new(capture: bool) -> Queue {
        Queue {
            capture,
            type_: if capture {
                BUF_TYPE_VIDEO_CAPTURE_MPLANE
            } else {
                BUF_TYPE_VIDEO_OUTPUT_MPLANE
            },
            memory: MEMORY_MMAP,
            size: 0,
            bufs: Vec::new(),
            queued: VecDeque::new(),
            done: VecDeque::new(),
            streaming: false,
            sequence: 0,
        }
    }

    pub fn buffer(&self, index: usize) -> &Buffer {
        &self.bufs[index]
    }

    pub fn count(&self) -> usize {
        self.bufs.len()
    }

    fn base(&self) -> u32 {
        if self.capture {
            CAPTURE_OFFSET_BASE
        } else {
            0
        }
    }

    fn offset(&self, index: usize) -> u32 {
        self.base() + (index * PAGE) as u32
    }

    /// REQBUFS: frees every buffer, then allocates `count` (clamped to
    /// 1..=MAX_BUFFERS) of `size` bytes. Returns the number allocated.
    pub fn reqbufs(&mut self, count: u32, memory: u32, type_: u32, size: u32) -> VResult<u32> {
        check_memory(memory)?;
        if self.streaming {
            return Err(V4l2Error::new(
                libc::EBUSY,
                "the queue is streaming; STREAMOFF first",
            ));
        }
        self.bufs.clear();
        self.queued.clear();
        self.done.clear();
        self.memory = memory;
        self.type_ = type_;
        if count == 0 {
            return Ok(0);
        }
        self.size = size;
        self.add(count.min(MAX_BUFFERS))
    }

    /// CREATE_BUFS: adds up to `count` buffers of at least `size` bytes.
    /// Returns (index of the first, number added); count 0 only reports.
    pub fn create_bufs(
        &mut self,
        count: u32,
        memory: u32,
        type_: u32,
        size: u32,
    ) -> VResult<(u32, u32)> {
        check_memory(memory)?;
        let first = self.bufs.len() as u32;
        if !self.bufs.is_empty() && memory != self.memory {
            return Err(einval(format!(
                "memory {memory} differs from the queue's memory {}",
                self.memory
            )));
        }
        if count == 0 {
            return Ok((first, 0));
        }
        if self.bufs.is_empty() {
            self.memory = memory;
            self.type_ = type_;
            self.size = size;
        } else if size > self.size {
            return Err(einval(format!(
                "buffers of {size} bytes cannot join a queue of {}-byte buffers",
                self.size
            )));
        }
        let n = count.min(MAX_BUFFERS - first.min(MAX_BUFFERS));
        self.add(n).map(|n| (first, n))
    }

    fn add(&mut self, count: u32) -> VResult<u32> {
        for _ in 0..count {
            let backing = match self.memory {
                MEMORY_MMAP => Backing::Mmap(MemFd::new(self.size as usize)?),
                MEMORY_USERPTR => Backing::UserPtr { addr: 0, len: 0 },
                _ => Backing::DmaBuf(None),
            };
            self.bufs.push(Buffer {
                backing,
                state: BufState::Dequeued,
                bytesused: 0,
                flags: 0,
                field: FIELD_NONE,
                timestamp: (0, 0),
                sequence: 0,
            });
        }
        Ok(count)
    }

    /// EXPBUF: an fd for MMAP buffer `index`.
    pub fn export(&self, index: u32, plane: u32, cloexec: bool) -> VResult<i32> {
        let i = self.check_index(index)?;
        if plane != 0 {
            return Err(einval("buffers have one plane"));
        }
        match &self.bufs[i].backing {
            Backing::Mmap(m) => m.export(cloexec),
            _ => Err(einval("only MMAP buffers can be exported")),
        }
    }

    fn check_index(&self, index: u32) -> VResult<usize> {
        if self.bufs.is_empty() {
            return Err(einval(
                "no buffers are allocated on this queue (REQBUFS first)",
            ));
        }
        if index as usize >= self.bufs.len() {
            return Err(einval(format!(
                "buffer index {index} is out of range (0..{})",
                self.bufs.len()
            )));
        }
        Ok(index as usize)
    }

    pub fn info(&self, index: usize) -> BufInfo {
        let b = &self.bufs[index];
        let mut flags = b.flags | BUF_FLAG_TIMESTAMP_COPY;
        match b.state {
            BufState::Queued => flags |= BUF_FLAG_QUEUED,
            BufState::Done => flags |= BUF_FLAG_DONE,
            BufState::Dequeued => {}
        }
        let m = match &b.backing {
            Backing::Mmap(_) => u64::from(self.offset(index)),
            Backing::UserPtr { addr, .. } => *addr as u64,
            Backing::DmaBuf(d) => d.as_ref().map_or(0, |(fd, _)| *fd as u64),
        };
        BufInfo {
            index: index as u32,
            type_: self.type_,
            memory: self.memory,
            bytesused: b.bytesused,
            flags,
            field: b.field,
            timestamp: b.timestamp,
            sequence: b.sequence,
            m,
            length: self.size,
        }
    }

    pub fn querybuf(&self, index: u32) -> VResult<BufInfo> {
        let i = self.check_index(index)?;
        Ok(self.info(i))
    }

    /// QBUF: validates and queues. Returns the buffer index.
    pub fn qbuf(&mut self, info: &BufInfo) -> VResult<usize> {
        let i = self.check_index(info.index)?;
        if info.memory != self.memory {
            return Err(einval(format!(
                "memory {} differs from the queue's memory {}",
                info.memory, self.memory
            )));
        }
        if self.bufs[i].state != BufState::Dequeued {
            return Err(einval(format!("buffer {i} is already queued")));
        }
        let size = self.size;
        let capture = self.capture;
        let b = &mut self.bufs[i];
        if let Backing::UserPtr { addr, len } = &mut b.backing {
            if info.m == 0 || info.length < size {
                return Err(einval(format!(
                    "USERPTR buffer needs a pointer and a length of at least {size} bytes"
                )));
            }
            *addr = info.m as usize;
            *len = info.length as usize;
        }
        if let Backing::DmaBuf(d) = &mut b.backing {
            *d = None;
            *d = Some((info.m as i32, MemFd::import(info.m as i32, size as usize)?));
        }
        if capture {
            b.bytesused = 0;
        } else {
            if info.bytesused > size.max(info.length) {
                return Err(einval(format!(
                    "bytesused {} is larger than the buffer ({size})",
                    info.bytesused
                )));
            }
            b.bytesused = if info.bytesused == 0 {
                size
            } else {
                info.bytesused
            };
            b.timestamp = info.timestamp;
            b.field = if info.field == FIELD_ANY {
                FIELD_NONE
            } else {
                info.field
            };
        }
        b.flags = 0;
        b.state = BufState::Queued;
        self.queued.push_back(i);
        Ok(i)
    }

    /// Moves a queued buffer to the done list.
    pub fn complete(&mut self, index: usize, bytesused: u32, flags: u32, timestamp: (i64, i64)) {
        let seq = self.sequence;
        self.sequence = self.sequence.wrapping_add(1);
        let b = &mut self.bufs[index];
        b.bytesused = bytesused;
        b.flags = flags;
        b.timestamp = timestamp;
        b.field = FIELD_NONE;
        b.sequence = seq;
        b.state = BufState::Done;
        self.queued.retain(|&q| q != index);
        self.done.push_back(index);
    }

    /// Sets flags on the newest done buffer (the LAST mark).
    pub fn flag_newest_done(&mut self, flags: u32) -> bool {
        match self.done.back() {
            Some(&i) => {
                self.bufs[i].flags |= flags;
                true
            }
            None => false,
        }
    }

    pub fn dqbuf(&mut self) -> Option<BufInfo> {
        let i = self.done.pop_front()?;
        self.bufs[i].state = BufState::Dequeued;
        Some(self.info(i))
    }

    /// STREAMOFF: every buffer goes back to the client.
    pub fn streamoff(&mut self) {
        self.streaming = false;
        self.queued.clear();
        self.done.clear();
        self.sequence = 0;
        for b in &mut self.bufs {
            b.state = BufState::Dequeued;
            b.flags = 0;
        }
    }

    pub fn data(&self, index: usize) -> &[u8] {
        match &self.bufs[index].backing {
            Backing::Mmap(m) => &m.as_slice()[..self.size as usize],
            Backing::DmaBuf(Some((_, m))) => &m.as_slice()[..self.size as usize],
            Backing::DmaBuf(None) => &[],
            // SAFETY: the client gave this memory with QBUF and, by the V4L2
            // USERPTR contract, keeps it valid until the buffer is dequeued.
            Backing::UserPtr { addr, len } => unsafe {
                std::slice::from_raw_parts(*addr as *const u8, *len)
            },
        }
    }

    pub fn data_mut(&mut self, index: usize) -> &mut [u8] {
        let size = self.size as usize;
        match &mut self.bufs[index].backing {
            Backing::Mmap(m) => &mut m.as_mut_slice()[..size],
            Backing::DmaBuf(Some((_, m))) => &mut m.as_mut_slice()[..size],
            Backing::DmaBuf(None) => &mut [],
            // SAFETY: as in data(); the buffer is queued, so the client does
            // not touch it until DQBUF.
            Backing::UserPtr { addr, len } => unsafe {
                std::slice::from_raw_parts_mut(*addr as *mut u8, *len)
            },
        }
    }

    /// The MMAP buffer behind an mmap offset.
    pub fn by_offset(&self, offset: u32) -> Option<&MemFd> {
        self.bufs
            .iter()
            .enumerate()
            .find_map(|(i, b)| match &b.backing {
                Backing::Mmap(m) if self.offset(i) == offset => Some(m),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out_info(index: u32) -> BufInfo {
        BufInfo {
            index,
            memory: MEMORY_MMAP,
            timestamp: (5, 7),
            ..BufInfo::default()
        }
    }

    #[test]
    fn queue_lifecycle() {
        let mut q = Queue::new(false);
        assert_eq!(q.qbuf(&out_info(0)).unwrap_err().errno, libc::EINVAL);
        assert_eq!(
            q.reqbufs(2, 3, BUF_TYPE_VIDEO_OUTPUT, 4096)
                .unwrap_err()
                .errno,
            libc::EINVAL
        );
        assert_eq!(
            q.reqbufs(100, MEMORY_MMAP, BUF_TYPE_VIDEO_OUTPUT, 5000)
                .unwrap(),
            MAX_BUFFERS
        );
        assert_eq!(q.qbuf(&out_info(0)).unwrap(), 0);
        assert_eq!(q.qbuf(&out_info(0)).unwrap_err().errno, libc::EINVAL);
        assert_eq!(q.qbuf(&out_info(99)).unwrap_err().errno, libc::EINVAL);
        let i = q.querybuf(0).unwrap();
        assert!(i.flags & BUF_FLAG_QUEUED != 0);
        assert_eq!(i.bytesused, 5000);
        q.data_mut(0)[0] = 9;
        q.complete(0, 5000, 0, (5, 7));
        let d = q.dqbuf().unwrap();
        assert_eq!((d.index, d.timestamp, d.sequence), (0, (5, 7), 0));
        assert!(q.dqbuf().is_none());
        let m = q.by_offset(0).unwrap();
        let p = m.map_for_client(5000).unwrap();
        // SAFETY: p maps at least one byte of buffer 0.
        assert_eq!(unsafe { *p.cast::<u8>() }, 9);
        // SAFETY: unmapping what map_for_client mapped.
        unsafe { libc::munmap(p, 5000) };
        // EXPBUF, then import the export as DMABUF on another queue.
        let fd = q.export(0, 0, true).unwrap();
        let mut c = Queue::new(true);
        assert_eq!(
            c.create_bufs(1, MEMORY_DMABUF, BUF_TYPE_VIDEO_CAPTURE, 5000)
                .unwrap(),
            (0, 1)
        );
        assert_eq!(
            c.create_bufs(0, MEMORY_DMABUF, BUF_TYPE_VIDEO_CAPTURE, 5000)
                .unwrap(),
            (1, 0)
        );
        assert_eq!(
            c.create_bufs(1, MEMORY_MMAP, BUF_TYPE_VIDEO_CAPTURE, 5000)
                .unwrap_err()
                .errno,
            libc::EINVAL
        );
        let info = BufInfo {
            memory: MEMORY_DMABUF,
            m: fd as u64,
            ..BufInfo::default()
        };
        c.qbuf(&info).unwrap();
        assert_eq!(c.data(0)[0], 9);
        assert_eq!(c.info(0).m, fd as u64);
        // SAFETY: closing the fd EXPBUF gave us.
        unsafe { libc::close(fd) };
        q.streaming = true;
        assert_eq!(
            q.reqbufs(0, MEMORY_MMAP, BUF_TYPE_VIDEO_OUTPUT, 0)
                .unwrap_err()
                .errno,
            libc::EBUSY
        );
        q.streamoff();
        assert_eq!(
            q.reqbufs(0, MEMORY_MMAP, BUF_TYPE_VIDEO_OUTPUT, 0).unwrap(),
            0
        );
    }
}
