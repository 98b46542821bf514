//! The K230 personality (`venc_k230_*`): the `kd_mpi_venc_*` call sequence
//! and error codes on a host. A `venc_k230_dev` stands in for the media
//! manager and owns channels 0..3 (3 is the IDE preview channel).
//!
//! Every call returns 0 or a K230 code `0xA0098000 | n` (VENC_K230_ERR_*);
//! `venc_k230_last_error` explains the last failure on the device.

// Exports take raw pointers by the nature of a C ABI and cannot be `unsafe
// fn`; each dereference is NULL-checked and carries a SAFETY note.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::c_char;

use super::frame::{venc_frame, view, VENC_PIX_NV12};
use super::macros::{
    ffi_boundary, give, take, with_handle_code, BoundaryCodes, CodeError, ErrorSlot, Handle,
};
use crate::api::k230::{
    ChnAttr, Code, Device, DeviceOptions, InputFrame, K230Error, KResult, PackType, Payload,
    RcAttr, MAX_PACKS,
};
use crate::engine::params::Profile;
use crate::frame::FrameView;

/// 0xA0098001.
pub const VENC_K230_ERR_INVALID_DEVID: i32 = -1609990143;
/// 0xA0098002.
pub const VENC_K230_ERR_INVALID_CHNID: i32 = -1609990142;
/// 0xA0098003.
pub const VENC_K230_ERR_ILLEGAL_PARAM: i32 = -1609990141;
/// 0xA0098004.
pub const VENC_K230_ERR_EXIST: i32 = -1609990140;
/// 0xA0098005.
pub const VENC_K230_ERR_UNEXIST: i32 = -1609990139;
/// 0xA0098006.
pub const VENC_K230_ERR_NULL_PTR: i32 = -1609990138;
/// 0xA0098007.
pub const VENC_K230_ERR_NOT_CONFIG: i32 = -1609990137;
/// 0xA0098008.
pub const VENC_K230_ERR_NOT_SUPPORT: i32 = -1609990136;
/// 0xA0098009.
pub const VENC_K230_ERR_NOT_PERM: i32 = -1609990135;
/// 0xA009800C.
pub const VENC_K230_ERR_NOMEM: i32 = -1609990132;
/// 0xA009800D.
pub const VENC_K230_ERR_NOBUF: i32 = -1609990131;
/// 0xA009800E.
pub const VENC_K230_ERR_BUF_EMPTY: i32 = -1609990130;
/// 0xA009800F.
pub const VENC_K230_ERR_BUF_FULL: i32 = -1609990129;
/// 0xA0098010.
pub const VENC_K230_ERR_NOTREADY: i32 = -1609990128;
/// 0xA0098011.
pub const VENC_K230_ERR_BADADDR: i32 = -1609990127;
/// 0xA0098012.
pub const VENC_K230_ERR_BUSY: i32 = -1609990126;

/// `venc_k230_open` flag: plane start addresses must be 4 KiB aligned, as
/// on the board (VENC_K230_ERR_BADADDR otherwise). Default: relaxed, so
/// ordinary host buffers work.
pub const VENC_K230_OPEN_STRICT_ALIGN: u32 = 1;
/// `venc_k230_open` flag: allow channel 3, which the IDE preview owns on a
/// board (VENC_K230_ERR_NOT_PERM otherwise).
pub const VENC_K230_OPEN_ALLOW_IDE_CHN: u32 = 2;

/// Payload types (`k_payload_type`).
pub const VENC_K230_PT_JPEG: u32 = 26;
pub const VENC_K230_PT_H264: u32 = 96;
pub const VENC_K230_PT_H265: u32 = 265;

/// Profiles: H.264 by profile_idc, H.265 Main; JPEG ignores the profile.
pub const VENC_K230_PROFILE_H264_BASELINE: u32 = 66;
pub const VENC_K230_PROFILE_H264_MAIN: u32 = 77;
pub const VENC_K230_PROFILE_H264_HIGH: u32 = 100;
pub const VENC_K230_PROFILE_H265_MAIN: u32 = 1;

/// Rate control modes (`k_venc_rc_mode`).
pub const VENC_K230_RC_CBR: u32 = 1;
pub const VENC_K230_RC_VBR: u32 = 2;
pub const VENC_K230_RC_FIXQP: u32 = 3;
pub const VENC_K230_RC_MJPEG_FIXQP: u32 = 4;

/// Pack types.
pub const VENC_K230_PACK_P: u32 = 1;
pub const VENC_K230_PACK_I: u32 = 2;
pub const VENC_K230_PACK_HEADER: u32 = 3;

/// Input pixel format: NV12 (Y plane, then interleaved UV plane).
pub const VENC_K230_PIXEL_NV12: u32 = 1;

/// Most packs in one stream (`VENC_PACK_CNT_MAX`).
pub const VENC_K230_PACK_CNT_MAX: u32 = 12;
const _: () = assert!(VENC_K230_PACK_CNT_MAX as usize == MAX_PACKS);

/// A K230 device (opaque): the media manager and its four channels.
pub struct venc_k230_dev {
    device: Device,
    errors: ErrorSlot,
}

impl Handle for venc_k230_dev {
    fn errors(&self) -> &ErrorSlot {
        &self.errors
    }
}

impl CodeError for K230Error {
    fn code(&self) -> i32 {
        self.code.value()
    }
    fn message(&self) -> &str {
        &self.message
    }
}

const CODES: BoundaryCodes = BoundaryCodes {
    null: VENC_K230_ERR_INVALID_DEVID,
    poisoned: VENC_K230_ERR_NOTREADY,
    panic: VENC_K230_ERR_NOTREADY,
};

fn call(dev: *const venc_k230_dev, body: impl FnOnce(&Device) -> KResult<()>) -> i32 {
    with_handle_code(dev, &CODES, |d: &venc_k230_dev| body(&d.device).map(|()| 0))
}

fn null(what: &str) -> K230Error {
    K230Error::new(Code::NullPtr, format!("{what} is NULL"))
}

fn check_size(got: u32, want: usize, what: &str) -> KResult<()> {
    if got as usize != want {
        return Err(K230Error::new(
            Code::IllegalParam,
            format!("{what}.struct_size is {got} but this library's {what} is {want} bytes"),
        ));
    }
    Ok(())
}

/// Channel attributes (`k_venc_chn_attr`, CanMV `ChnAttrStr`).
#[repr(C)]
pub struct venc_k230_chn_attr {
    /// sizeof(venc_k230_chn_attr).
    pub struct_size: u32,
    /// VENC_K230_PT_*.
    pub payload: u32,
    /// VENC_K230_PROFILE_*.
    pub profile: u32,
    /// H.264/H.265 128..4096 x 64..4096 (even); JPEG up to 8192 x 8192.
    pub width: u32,
    pub height: u32,
    /// IDR period in frames; 0 = 30.
    pub gop: u32,
    /// CBR target / VBR average, kbps; 0 = 4000.
    pub bit_rate: u32,
    /// VBR ceiling, kbps; 0 = twice bit_rate.
    pub max_bit_rate: u32,
    /// Input frame rate; 0 = 30.
    pub src_frame_rate: u32,
    /// Output frame rate <= src (frames are dropped evenly); 0 = src.
    pub dst_frame_rate: u32,
    /// VENC_K230_RC_*: CBR/VBR/FIXQP for H.264/H.265, MJPEG_FIXQP for JPEG.
    pub rc_mode: u32,
    /// FIXQP: QP of I frames (0..51).
    pub i_qp: u32,
    /// FIXQP: QP of P frames (0..51).
    pub p_qp: u32,
    /// MJPEG_FIXQP: quality factor 1..99; 0 = 45.
    pub q_factor: u32,
}

/// One NV12 picture in the caller's memory (`k_video_frame_info`).
#[repr(C)]
pub struct venc_k230_frame {
    /// sizeof(venc_k230_frame).
    pub struct_size: u32,
    /// VENC_K230_PIXEL_NV12.
    pub pixel_format: u32,
    pub width: u32,
    pub height: u32,
    /// Plane start addresses: [0] Y, [1] interleaved UV, [2] unused.
    pub vir_addr: [*const u8; 3],
    /// Bytes per row of each plane.
    pub stride: [u32; 3],
    pub reserved: u32,
    /// Presentation time in microseconds; comes back on the packs.
    pub pts: i64,
}

/// One pack of a stream.
#[repr(C)]
pub struct venc_k230_pack {
    /// Valid until the stream is released (or its channel destroyed).
    pub data: *const u8,
    pub len: u32,
    /// VENC_K230_PACK_HEADER / _I / _P.
    pub pack_type: u32,
    /// Microseconds.
    pub pts: i64,
}

/// One encoded frame (`k_venc_stream`): an IDR is a HEADER pack then an I
/// pack, a P frame one P pack, a JPEG picture one I pack.
#[repr(C)]
pub struct venc_k230_stream {
    /// sizeof(venc_k230_stream); set by the caller.
    pub struct_size: u32,
    pub pack_cnt: u32,
    /// Per-channel stream number; release_stream checks it.
    pub seq: u64,
    pub packs: [venc_k230_pack; 12],
}

/// Channel state (`k_venc_chn_status`).
#[repr(C)]
pub struct venc_k230_chn_status {
    /// sizeof(venc_k230_chn_status); set by the caller.
    pub struct_size: u32,
    /// 1 between start and stop.
    pub started: u32,
    /// Frames sent, not yet encoded.
    pub left_pics: u64,
    /// Encoded streams waiting for get_stream.
    pub left_streams: u64,
    /// Streams got, not yet released.
    pub held_streams: u64,
    pub frames_encoded: u64,
    /// Frames dropped by src/dst frame-rate conversion.
    pub frames_dropped: u64,
}

/// Opens a device (the media manager) with VENC_K230_OPEN_* flags.
#[no_mangle]
pub extern "C" fn venc_k230_open(flags: u32, out: *mut *mut venc_k230_dev) -> i32 {
    ffi_boundary!(VENC_K230_ERR_NOTREADY, {
        if out.is_null() {
            return VENC_K230_ERR_NULL_PTR;
        }
        if flags & !(VENC_K230_OPEN_STRICT_ALIGN | VENC_K230_OPEN_ALLOW_IDE_CHN) != 0 {
            return VENC_K230_ERR_ILLEGAL_PARAM;
        }
        let options = DeviceOptions {
            strict_align: flags & VENC_K230_OPEN_STRICT_ALIGN != 0,
            allow_ide_channel: flags & VENC_K230_OPEN_ALLOW_IDE_CHN != 0,
        };
        give(
            out,
            venc_k230_dev {
                device: Device::new(options),
                errors: ErrorSlot::default(),
            },
        );
        0
    })
}

/// Frees a device and every channel on it (held streams become invalid).
/// NULL is a no-op. Must not race other calls on the device.
#[no_mangle]
pub extern "C" fn venc_k230_close(dev: *mut venc_k230_dev) {
    ffi_boundary!((), { take(dev) })
}

/// Copies the device's last error text; returns its full length.
#[no_mangle]
pub extern "C" fn venc_k230_last_error(
    dev: *const venc_k230_dev,
    buf: *mut c_char,
    cap: usize,
) -> usize {
    super::native::last_error(dev, buf, cap)
}

/// `Encoder.SetOutBufs`: output buffers of a channel; only before media_init
/// (VENC_K230_ERR_NOT_PERM after). buf_num 1..32 is also how many streams
/// may be held unreleased.
#[no_mangle]
pub extern "C" fn venc_k230_set_out_bufs(
    dev: *mut venc_k230_dev,
    chn: i32,
    buf_num: u32,
    width: u32,
    height: u32,
) -> i32 {
    call(dev, |d| d.set_out_bufs(chn, buf_num, width, height))
}

/// `MediaManager.init()`.
#[no_mangle]
pub extern "C" fn venc_k230_media_init(dev: *mut venc_k230_dev) -> i32 {
    call(dev, |d| d.media_init())
}

/// `MediaManager.deinit()`: every channel must be destroyed first (BUSY).
#[no_mangle]
pub extern "C" fn venc_k230_media_deinit(dev: *mut venc_k230_dev) -> i32 {
    call(dev, |d| d.media_deinit())
}

pub(crate) fn attr_from_c(a: &venc_k230_chn_attr) -> KResult<ChnAttr> {
    check_size(
        a.struct_size,
        std::mem::size_of::<venc_k230_chn_attr>(),
        "venc_k230_chn_attr",
    )?;
    let payload = match a.payload {
        VENC_K230_PT_H264 => Payload::H264,
        VENC_K230_PT_H265 => Payload::H265,
        VENC_K230_PT_JPEG => Payload::Jpeg,
        p => {
            return Err(K230Error::new(
                Code::NotSupport,
                format!("payload type {p} is not H264 (96), H265 (265) or JPEG (26)"),
            ))
        }
    };
    let profile = match (payload, a.profile) {
        (Payload::Jpeg, _) => Profile::Main,
        (Payload::H264, VENC_K230_PROFILE_H264_BASELINE) => Profile::Baseline,
        (Payload::H264, VENC_K230_PROFILE_H264_MAIN) => Profile::Main,
        (Payload::H264, VENC_K230_PROFILE_H264_HIGH) => Profile::High,
        (Payload::H265, VENC_K230_PROFILE_H265_MAIN) => Profile::Main,
        (p, v) => {
            return Err(K230Error::new(
                Code::IllegalParam,
                format!("profile {v} is not a {} profile", p.name()),
            ))
        }
    };
    let small = |v: u32, what: &str| {
        u8::try_from(v)
            .map_err(|_| K230Error::new(Code::IllegalParam, format!("{what} {v} is out of range")))
    };
    let rc = match a.rc_mode {
        VENC_K230_RC_CBR => RcAttr::Cbr {
            bitrate_kbps: if a.bit_rate == 0 { 4000 } else { a.bit_rate },
        },
        VENC_K230_RC_VBR => RcAttr::Vbr {
            bitrate_kbps: if a.bit_rate == 0 { 4000 } else { a.bit_rate },
            max_kbps: a.max_bit_rate,
        },
        VENC_K230_RC_FIXQP => RcAttr::FixQp {
            i_qp: small(a.i_qp, "i_qp")?,
            p_qp: small(a.p_qp, "p_qp")?,
        },
        VENC_K230_RC_MJPEG_FIXQP => RcAttr::MjpegFixQp {
            q_factor: if a.q_factor == 0 {
                45
            } else {
                small(a.q_factor, "q_factor")?
            },
        },
        m => {
            return Err(K230Error::new(
                Code::IllegalParam,
                format!("rc_mode {m} is not CBR (1), VBR (2), FIXQP (3) or MJPEG_FIXQP (4)"),
            ))
        }
    };
    Ok(ChnAttr {
        payload,
        profile,
        width: a.width,
        height: a.height,
        gop: a.gop,
        src_frame_rate: a.src_frame_rate,
        dst_frame_rate: a.dst_frame_rate,
        rc,
    })
}

/// The checked view of a caller's K230 frame (struct size, pixel format,
/// then the generic `venc_frame` checks).
///
/// # Safety
/// Each plane pointer must be NULL or hold the bytes the `venc_frame`
/// contract describes for its stride, for the lifetime of the view.
pub(crate) unsafe fn frame_view<'a>(f: &venc_k230_frame) -> KResult<FrameView<'a>> {
    check_size(
        f.struct_size,
        std::mem::size_of::<venc_k230_frame>(),
        "venc_k230_frame",
    )?;
    if f.pixel_format != VENC_K230_PIXEL_NV12 {
        return Err(K230Error::new(
            Code::NotSupport,
            format!(
                "pixel_format {} is not supported (only VENC_K230_PIXEL_NV12)",
                f.pixel_format
            ),
        ));
    }
    let generic = venc_frame {
        struct_size: std::mem::size_of::<venc_frame>() as u32,
        format: VENC_PIX_NV12,
        width: f.width,
        height: f.height,
        planes: [f.vir_addr[0], f.vir_addr[1], std::ptr::null()],
        strides: [f.stride[0], f.stride[1], 0],
        flags: 0,
        pts: f.pts,
        user_tag: 0,
    };
    // SAFETY: `generic` is a valid venc_frame; its planes are the caller's,
    // which by contract hold stride * rows bytes each for this call.
    unsafe { view(&generic) }.map_err(K230Error::from)
}

/// `kd_mpi_venc_create_chn`: needs media_init (NOTREADY) and set_out_bufs
/// for the channel (NOT_CONFIG). H.265 reports NOT_SUPPORT while this
/// libvenc has no H.265 engine.
#[no_mangle]
pub extern "C" fn venc_k230_create(
    dev: *mut venc_k230_dev,
    chn: i32,
    attr: *const venc_k230_chn_attr,
) -> i32 {
    call(dev, |d| {
        // SAFETY: non-NULL `attr` points at a caller's venc_k230_chn_attr.
        let a = unsafe { attr.as_ref() }.ok_or_else(|| null("attr"))?;
        d.create(chn, &attr_from_c(a)?)
    })
}

/// `kd_mpi_venc_start_chn`: a started channel gives NOT_PERM.
#[no_mangle]
pub extern "C" fn venc_k230_start(dev: *mut venc_k230_dev, chn: i32) -> i32 {
    call(dev, |d| d.start(chn))
}

/// `kd_mpi_venc_stop_chn`: stops taking frames (those sent are still
/// encoded); idempotent.
#[no_mangle]
pub extern "C" fn venc_k230_stop(dev: *mut venc_k230_dev, chn: i32) -> i32 {
    call(dev, |d| d.stop(chn))
}

/// `kd_mpi_venc_destroy_chn`: BUSY while started; unreleased streams of the
/// channel become invalid.
#[no_mangle]
pub extern "C" fn venc_k230_destroy(dev: *mut venc_k230_dev, chn: i32) -> i32 {
    call(dev, |d| d.destroy(chn))
}

/// `kd_mpi_venc_send_frame`: the picture is copied before return.
/// timeout_ms: -1 waits for room, 0 polls, > 0 ms; full → BUF_FULL.
/// A strict device checks 4 KiB plane alignment (BADADDR).
#[no_mangle]
pub extern "C" fn venc_k230_send_frame(
    dev: *mut venc_k230_dev,
    chn: i32,
    frame: *const venc_k230_frame,
    timeout_ms: i32,
) -> i32 {
    call(dev, |d| {
        // SAFETY: non-NULL `frame` points at a caller's venc_k230_frame.
        let f = unsafe { frame.as_ref() }.ok_or_else(|| null("frame"))?;
        // SAFETY: the caller's planes hold stride * rows bytes each (contract).
        let view = unsafe { frame_view(f) }?;
        d.send_frame(
            chn,
            &InputFrame {
                view,
                pts_us: f.pts,
            },
            timeout_ms,
        )
    })
}

/// `kd_mpi_venc_get_stream`: one encoded frame as packs. timeout_ms: -1
/// waits (returns BUF_EMPTY if the channel is stopped with nothing in
/// flight), 0 polls, > 0 ms; nothing ready → BUF_EMPTY. When buf_num
/// streams are held unreleased → NOBUF.
#[no_mangle]
pub extern "C" fn venc_k230_get_stream(
    dev: *mut venc_k230_dev,
    chn: i32,
    stream: *mut venc_k230_stream,
    timeout_ms: i32,
) -> i32 {
    call(dev, |d| {
        // SAFETY: non-NULL `stream` points at a caller's writable venc_k230_stream.
        let out = unsafe { stream.as_mut() }.ok_or_else(|| null("stream"))?;
        check_size(
            out.struct_size,
            std::mem::size_of::<venc_k230_stream>(),
            "venc_k230_stream",
        )?;
        let s = d.get_stream(chn, timeout_ms)?;
        out.pack_cnt = s.packs.len() as u32;
        out.seq = s.seq;
        for (slot, p) in out.packs.iter_mut().zip(s.packs.iter()) {
            // The channel keeps its own reference to `s` until release, so
            // these pointers stay valid after `s` here is dropped.
            slot.data = p.data.as_ptr();
            slot.len = p.data.len() as u32;
            slot.pack_type = match p.pack_type {
                PackType::P => VENC_K230_PACK_P,
                PackType::I => VENC_K230_PACK_I,
                PackType::Header => VENC_K230_PACK_HEADER,
            };
            slot.pts = p.pts;
        }
        for slot in out.packs.iter_mut().skip(s.packs.len()) {
            slot.data = std::ptr::null();
            slot.len = 0;
            slot.pack_type = 0;
            slot.pts = 0;
        }
        Ok(())
    })
}

/// `kd_mpi_venc_release_stream`: gives the stream's buffers back; streams
/// are released in the order they were got (ILLEGAL_PARAM otherwise).
#[no_mangle]
pub extern "C" fn venc_k230_release_stream(
    dev: *mut venc_k230_dev,
    chn: i32,
    stream: *const venc_k230_stream,
) -> i32 {
    call(dev, |d| {
        // SAFETY: non-NULL `stream` points at a caller's venc_k230_stream.
        let s = unsafe { stream.as_ref() }.ok_or_else(|| null("stream"))?;
        check_size(
            s.struct_size,
            std::mem::size_of::<venc_k230_stream>(),
            "venc_k230_stream",
        )?;
        d.release_stream(chn, s.seq)
    })
}

/// `kd_mpi_venc_request_idr`: the next frame the channel encodes is an IDR.
#[no_mangle]
pub extern "C" fn venc_k230_request_idr(dev: *mut venc_k230_dev, chn: i32) -> i32 {
    call(dev, |d| d.request_idr(chn))
}

/// `kd_mpi_venc_query_status`.
#[no_mangle]
pub extern "C" fn venc_k230_query_status(
    dev: *mut venc_k230_dev,
    chn: i32,
    status: *mut venc_k230_chn_status,
) -> i32 {
    call(dev, |d| {
        // SAFETY: non-NULL `status` points at a caller's writable venc_k230_chn_status.
        let out = unsafe { status.as_mut() }.ok_or_else(|| null("status"))?;
        check_size(
            out.struct_size,
            std::mem::size_of::<venc_k230_chn_status>(),
            "venc_k230_chn_status",
        )?;
        let s = d.query_status(chn)?;
        out.started = u32::from(s.started);
        out.left_pics = s.left_pics;
        out.left_streams = s.left_streams;
        out.held_streams = s.held_streams;
        out.frames_encoded = s.frames_encoded;
        out.frames_dropped = s.frames_dropped;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_vendor() {
        assert_eq!(Code::InvalidChnId.value(), VENC_K230_ERR_INVALID_CHNID);
        assert_eq!(Code::Busy.value(), VENC_K230_ERR_BUSY);
        assert_eq!(VENC_K230_ERR_NOBUF as u32, 0xA009_800D);
        assert_eq!(VENC_K230_ERR_BUF_EMPTY as u32, 0xA009_800E);
    }
}
