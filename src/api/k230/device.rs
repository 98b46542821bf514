//! The K230 device: stands in for the media manager (output buffer setup,
//! init/deinit) and owns channels 0..3.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::frame::FrameView;

use super::attr::ChnAttr;
use super::channel::{Channel, ChnStatus};
use super::error::{Code, K230Error, KResult};
use super::stream::Stream;

/// Channels 0..CHANNELS-1 exist.
pub const CHANNELS: usize = 4;
/// The channel CanMV's IDE uses for its preview.
pub const IDE_CHANNEL: usize = 3;
/// Plane start addresses the hardware needs in strict mode.
pub const PLANE_ALIGN: usize = 4096;
/// Most output buffers one channel may have.
pub const MAX_BUF_NUM: u32 = 32;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceOptions {
    /// Enforce the hardware's 4 KiB plane alignment (BADADDR otherwise).
    pub strict_align: bool,
    /// Let programs use channel 3, which the IDE preview owns on a board.
    pub allow_ide_channel: bool,
}

/// One picture to encode: the planes and the pts in microseconds.
pub struct InputFrame<'a> {
    pub view: FrameView<'a>,
    pub pts_us: i64,
}

#[derive(Clone, Copy, Debug)]
struct OutBufs {
    buf_num: u32,
    width: u32,
    height: u32,
}

#[derive(Default)]
struct DevState {
    media_ready: bool,
    out_bufs: [Option<OutBufs>; CHANNELS],
    channels: [Option<Arc<Channel>>; CHANNELS],
}

pub struct Device {
    options: DeviceOptions,
    state: Mutex<DevState>,
}

impl Device {
    pub fn new(options: DeviceOptions) -> Device {
        Device {
            options,
            state: Mutex::new(DevState::default()),
        }
    }

    pub fn options(&self) -> DeviceOptions {
        self.options
    }

    fn lock(&self) -> MutexGuard<'_, DevState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn index(&self, chn: i32) -> KResult<usize> {
        let idx = usize::try_from(chn)
            .ok()
            .filter(|&i| i < CHANNELS)
            .ok_or_else(|| {
                K230Error::new(
                    Code::InvalidChnId,
                    format!("channel {chn} does not exist (0..{})", CHANNELS - 1),
                )
            })?;
        if idx == IDE_CHANNEL && !self.options.allow_ide_channel {
            return Err(K230Error::new(
                Code::NotPerm,
                "channel 3 is reserved for the IDE preview; open the device with the allow-IDE-channel option to use it",
            ));
        }
        Ok(idx)
    }

    fn channel(&self, chn: i32) -> KResult<Arc<Channel>> {
        let idx = self.index(chn)?;
        self.lock().channels[idx]
            .clone()
            .ok_or_else(|| K230Error::new(Code::Unexist, format!("channel {chn} is not created")))
    }

    /// `Encoder.SetOutBufs`: only before `media_init`.
    pub fn set_out_bufs(&self, chn: i32, buf_num: u32, width: u32, height: u32) -> KResult<()> {
        let idx = self.index(chn)?;
        let mut st = self.lock();
        if st.media_ready {
            return Err(K230Error::new(
                Code::NotPerm,
                "set_out_bufs must come before media_init",
            ));
        }
        if !(1..=MAX_BUF_NUM).contains(&buf_num) {
            return Err(K230Error::new(
                Code::IllegalParam,
                format!("buf_num {buf_num} is outside 1..{MAX_BUF_NUM}"),
            ));
        }
        if !(1..=8192).contains(&width) || !(1..=8192).contains(&height) {
            return Err(K230Error::new(
                Code::IllegalParam,
                format!("output buffer size {width}x{height} is outside 1x1..8192x8192"),
            ));
        }
        st.out_bufs[idx] = Some(OutBufs {
            buf_num,
            width,
            height,
        });
        Ok(())
    }

    /// `MediaManager.init()`.
    pub fn media_init(&self) -> KResult<()> {
        let mut st = self.lock();
        if st.media_ready {
            return Err(K230Error::new(
                Code::NotPerm,
                "the media manager is already initialised",
            ));
        }
        st.media_ready = true;
        Ok(())
    }

    /// `MediaManager.deinit()`: every channel must be destroyed first.
    pub fn media_deinit(&self) -> KResult<()> {
        let mut st = self.lock();
        if !st.media_ready {
            return Err(K230Error::new(
                Code::NotPerm,
                "the media manager is not initialised",
            ));
        }
        if let Some(i) = st.channels.iter().position(Option::is_some) {
            return Err(K230Error::new(
                Code::Busy,
                format!("channel {i} still exists: destroy it before media_deinit"),
            ));
        }
        st.media_ready = false;
        st.out_bufs = [None; CHANNELS];
        Ok(())
    }

    pub fn create(&self, chn: i32, attr: &ChnAttr) -> KResult<()> {
        let idx = self.index(chn)?;
        let bufs = {
            let st = self.lock();
            if !st.media_ready {
                return Err(K230Error::new(
                    Code::NotReady,
                    "the media manager is not initialised: call media_init first",
                ));
            }
            if st.channels[idx].is_some() {
                return Err(K230Error::new(
                    Code::Exist,
                    format!("channel {chn} already exists"),
                ));
            }
            st.out_bufs[idx].ok_or_else(|| {
                K230Error::new(
                    Code::NotConfig,
                    format!(
                        "channel {chn} has no output buffers: call set_out_bufs before media_init"
                    ),
                )
            })?
        };
        if attr.width > bufs.width || attr.height > bufs.height {
            return Err(K230Error::new(
                Code::IllegalParam,
                format!(
                    "channel size {}x{} is larger than its output buffers ({}x{})",
                    attr.width, attr.height, bufs.width, bufs.height
                ),
            ));
        }
        let channel = Arc::new(Channel::new(*attr, bufs.buf_num)?);
        let mut st = self.lock();
        if st.channels[idx].is_some() {
            return Err(K230Error::new(
                Code::Exist,
                format!("channel {chn} already exists"),
            ));
        }
        st.channels[idx] = Some(channel);
        Ok(())
    }

    pub fn start(&self, chn: i32) -> KResult<()> {
        self.channel(chn)?.start()
    }

    /// Stops taking frames; frames already sent are still encoded. Idempotent.
    pub fn stop(&self, chn: i32) -> KResult<()> {
        self.channel(chn)?.stop();
        Ok(())
    }

    /// Destroys a stopped channel; its unreleased streams become invalid.
    pub fn destroy(&self, chn: i32) -> KResult<()> {
        let idx = self.index(chn)?;
        let channel = {
            let mut st = self.lock();
            let Some(c) = &st.channels[idx] else {
                return Err(K230Error::new(
                    Code::Unexist,
                    format!("channel {chn} is not created"),
                ));
            };
            if c.is_started() {
                return Err(K230Error::new(
                    Code::Busy,
                    format!("channel {chn} is started: stop it before destroy"),
                ));
            }
            st.channels[idx].take()
        };
        if let Some(c) = channel {
            c.retire();
        }
        Ok(())
    }

    pub fn send_frame(&self, chn: i32, frame: &InputFrame, timeout_ms: i32) -> KResult<()> {
        let channel = self.channel(chn)?;
        if self.options.strict_align {
            let planes = frame.view.format.plane_count();
            for (i, p) in frame.view.planes.iter().take(planes).enumerate() {
                let addr = p.data.as_ptr() as usize;
                if !addr.is_multiple_of(PLANE_ALIGN) {
                    return Err(K230Error::new(
                        Code::BadAddr,
                        format!(
                            "plane {i} starts at 0x{addr:x}, not on a 4 KiB boundary (strict device)"
                        ),
                    ));
                }
            }
        }
        channel.send_frame(frame, timeout_ms)
    }

    pub fn get_stream(&self, chn: i32, timeout_ms: i32) -> KResult<Arc<Stream>> {
        self.channel(chn)?.get_stream(timeout_ms)
    }

    pub fn release_stream(&self, chn: i32, seq: u64) -> KResult<()> {
        self.channel(chn)?.release_stream(seq)
    }

    pub fn request_idr(&self, chn: i32) -> KResult<()> {
        let channel = self.channel(chn)?;
        if !channel.is_started() {
            return Err(K230Error::new(
                Code::NotPerm,
                "request_idr needs a started channel",
            ));
        }
        channel.request_idr();
        Ok(())
    }

    pub fn query_status(&self, chn: i32) -> KResult<ChnStatus> {
        Ok(self.channel(chn)?.status())
    }
}
