//! The slice of <linux/videodev2.h> this personality speaks: `#[repr(C)]`
//! copies of the kernel structs (LP64 layouts of x86_64 and aarch64; the
//! sizes are pinned by tests against the C header) and the ioctl numbers,
//! built with libc's `_IOR`/`_IOW`/`_IOWR` from those structs.
#![allow(non_camel_case_types, missing_docs)]

use libc::{c_ulong, timespec, timeval};

pub const VIDEO_MAX_PLANES: usize = 8;

/// Buffer types.
pub const BUF_TYPE_VIDEO_CAPTURE: u32 = 1;
pub const BUF_TYPE_VIDEO_OUTPUT: u32 = 2;
pub const BUF_TYPE_VIDEO_CAPTURE_MPLANE: u32 = 9;
pub const BUF_TYPE_VIDEO_OUTPUT_MPLANE: u32 = 10;

/// Memory types.
pub const MEMORY_MMAP: u32 = 1;
pub const MEMORY_USERPTR: u32 = 2;
pub const MEMORY_DMABUF: u32 = 4;

pub const FIELD_ANY: u32 = 0;
pub const FIELD_NONE: u32 = 1;

pub const CTRL_TYPE_INTEGER: u32 = 1;
pub const CTRL_TYPE_BOOLEAN: u32 = 2;
pub const CTRL_TYPE_MENU: u32 = 3;
pub const CTRL_TYPE_BUTTON: u32 = 4;

pub const ENC_CMD_START: u32 = 0;
pub const ENC_CMD_STOP: u32 = 1;
pub const ENC_CMD_PAUSE: u32 = 2;
pub const ENC_CMD_RESUME: u32 = 3;

pub const FRMSIZE_TYPE_STEPWISE: u32 = 3;
pub const FRMIVAL_TYPE_CONTINUOUS: u32 = 2;

pub const CID_MPEG_VIDEO_BITRATE_MODE: u32 = 0x9909ce;
pub const CID_MPEG_VIDEO_BITRATE: u32 = 0x9909cf;
pub const CID_MPEG_VIDEO_GOP_SIZE: u32 = 0x9909cb;
pub const CID_MPEG_VIDEO_B_FRAMES: u32 = 0x9909ca;
pub const CID_MPEG_VIDEO_FORCE_KEY_FRAME: u32 = 0x9909e5;
pub const CID_MPEG_VIDEO_HEADER_MODE: u32 = 0x9909d8;
pub const CID_MPEG_VIDEO_REPEAT_SEQ_HEADER: u32 = 0x9909e2;
pub const CID_MPEG_VIDEO_H264_I_PERIOD: u32 = 0x990a66;
pub const CID_MPEG_VIDEO_H264_PROFILE: u32 = 0x990a6b;
pub const CID_MPEG_VIDEO_H264_LEVEL: u32 = 0x990a67;
pub const CID_MPEG_VIDEO_HEVC_PROFILE: u32 = 0x990b67;
pub const CID_MPEG_VIDEO_H264_I_FRAME_QP: u32 = 0x990a5e;
pub const CID_MPEG_VIDEO_H264_P_FRAME_QP: u32 = 0x990a5f;
pub const CID_MPEG_VIDEO_H264_MIN_QP: u32 = 0x990a61;
pub const CID_MPEG_VIDEO_H264_MAX_QP: u32 = 0x990a62;
pub const CID_JPEG_COMPRESSION_QUALITY: u32 = 0x9d0903;
pub const CID_MIN_BUFFERS_FOR_OUTPUT: u32 = 0x980928;
pub const CID_MPEG_VIDEO_FRAME_RC_ENABLE: u32 = 0x9909d7;
pub const CID_MPEG_VIDEO_CONSTANT_QUALITY: u32 = 0x990b85;
pub const CID_MPEG_VIDEO_PREPEND_SPSPPS_TO_IDR: u32 = 0x990b84;
pub const CID_MPEG_VIDEO_HEVC_LEVEL: u32 = 0x990b68;
pub const CID_MPEG_VIDEO_BITRATE_PEAK: u32 = 0x9909d0;
pub const CTRL_CLASS_CODEC: u32 = 0x990000;
pub const CTRL_CLASS_JPEG: u32 = 0x9d0000;
pub const CTRL_CLASS_USER: u32 = 0x980000;
pub const CTRL_WHICH_DEF_VAL: u32 = 0xf000000;
pub const CTRL_WHICH_REQUEST_VAL: u32 = 0xf010000;
pub const CTRL_FLAG_NEXT_CTRL: u32 = 0x80000000;
pub const CTRL_FLAG_NEXT_COMPOUND: u32 = 0x40000000;
pub const CAP_VIDEO_M2M: u32 = 0x8000;
pub const CAP_VIDEO_M2M_MPLANE: u32 = 0x4000;
pub const CAP_STREAMING: u32 = 0x4000000;
pub const CAP_DEVICE_CAPS: u32 = 0x80000000;
pub const CAP_EXT_PIX_FORMAT: u32 = 0x200000;
pub const PIX_FMT_H264: u32 = 0x34363248;
pub const PIX_FMT_HEVC: u32 = 0x43564548;
pub const PIX_FMT_MJPEG: u32 = 0x47504a4d;
pub const PIX_FMT_JPEG: u32 = 0x4745504a;
pub const PIX_FMT_NV12: u32 = 0x3231564e;
pub const PIX_FMT_YUV420: u32 = 0x32315559;
pub const PIX_FMT_NV21: u32 = 0x3132564e;
pub const PIX_FMT_FWHT: u32 = 0x54485746;
pub const BUF_FLAG_MAPPED: u32 = 0x1;
pub const BUF_FLAG_QUEUED: u32 = 0x2;
pub const BUF_FLAG_DONE: u32 = 0x4;
pub const BUF_FLAG_KEYFRAME: u32 = 0x8;
pub const BUF_FLAG_PFRAME: u32 = 0x10;
pub const BUF_FLAG_BFRAME: u32 = 0x20;
pub const BUF_FLAG_ERROR: u32 = 0x40;
pub const BUF_FLAG_TIMESTAMP_COPY: u32 = 0x4000;
pub const BUF_FLAG_LAST: u32 = 0x100000;
pub const BUF_FLAG_TIMESTAMP_MASK: u32 = 0xe000;
pub const EVENT_EOS: u32 = 0x2;
pub const EVENT_SOURCE_CHANGE: u32 = 0x5;
pub const EVENT_ALL: u32 = 0x0;
pub const EVENT_CTRL: u32 = 0x3;
pub const SEL_TGT_CROP: u32 = 0x0;
pub const SEL_TGT_CROP_DEFAULT: u32 = 0x1;
pub const SEL_TGT_CROP_BOUNDS: u32 = 0x2;
pub const BUF_CAP_SUPPORTS_MMAP: u32 = 0x1;
pub const BUF_CAP_SUPPORTS_USERPTR: u32 = 0x2;
pub const BUF_CAP_SUPPORTS_DMABUF: u32 = 0x4;
pub const CAP_TIMEPERFRAME: u32 = 0x1000;
pub const FMT_FLAG_COMPRESSED: u32 = 0x1;
pub const CTRL_FLAG_READ_ONLY: u32 = 0x4;
pub const CTRL_FLAG_WRITE_ONLY: u32 = 0x40;
pub const CTRL_FLAG_EXECUTE_ON_WRITE: u32 = 0x200;
pub const CTRL_FLAG_VOLATILE: u32 = 0x80;
pub const CTRL_FLAG_UPDATE: u32 = 0x8;
pub const COLORSPACE_REC709: u32 = 0x3;
pub const COLORSPACE_JPEG: u32 = 0x7;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_capability {
    pub driver: [u8; 16],
    pub card: [u8; 32],
    pub bus_info: [u8; 32],
    pub version: u32,
    pub capabilities: u32,
    pub device_caps: u32,
    pub reserved: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_fmtdesc {
    pub index: u32,
    pub type_: u32,
    pub flags: u32,
    pub description: [u8; 32],
    pub pixelformat: u32,
    pub mbus_code: u32,
    pub reserved: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_pix_format {
    pub width: u32,
    pub height: u32,
    pub pixelformat: u32,
    pub field: u32,
    pub bytesperline: u32,
    pub sizeimage: u32,
    pub colorspace: u32,
    pub priv_: u32,
    pub flags: u32,
    pub ycbcr_enc: u32,
    pub quantization: u32,
    pub xfer_func: u32,
}

#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct v4l2_plane_pix_format {
    pub sizeimage: u32,
    pub bytesperline: u32,
    pub reserved: [u16; 6],
}

#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct v4l2_pix_format_mplane {
    pub width: u32,
    pub height: u32,
    pub pixelformat: u32,
    pub field: u32,
    pub colorspace: u32,
    pub plane_fmt: [v4l2_plane_pix_format; VIDEO_MAX_PLANES],
    pub num_planes: u8,
    pub flags: u8,
    pub ycbcr_enc: u8,
    pub quantization: u8,
    pub xfer_func: u8,
    pub reserved: [u8; 7],
}

/// The format union; `raw_data` sets its size and the u64 its alignment
/// (the kernel's union holds pointers through `struct v4l2_window`).
#[repr(C)]
#[derive(Clone, Copy)]
pub union v4l2_format_union {
    pub pix: v4l2_pix_format,
    pub pix_mp: v4l2_pix_format_mplane,
    pub raw_data: [u8; 200],
    pub align: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_format {
    pub type_: u32,
    pub fmt: v4l2_format_union,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_requestbuffers {
    pub count: u32,
    pub type_: u32,
    pub memory: u32,
    pub capabilities: u32,
    pub flags: u8,
    pub reserved: [u8; 3],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union v4l2_plane_m {
    pub mem_offset: u32,
    pub userptr: c_ulong,
    pub fd: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_plane {
    pub bytesused: u32,
    pub length: u32,
    pub m: v4l2_plane_m,
    pub data_offset: u32,
    pub reserved: [u32; 11],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union v4l2_buffer_m {
    pub offset: u32,
    pub userptr: c_ulong,
    pub planes: *mut v4l2_plane,
    pub fd: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_timecode {
    pub type_: u32,
    pub flags: u32,
    pub frames: u8,
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    pub userbits: [u8; 4],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_buffer {
    pub index: u32,
    pub type_: u32,
    pub bytesused: u32,
    pub flags: u32,
    pub field: u32,
    pub timestamp: timeval,
    pub timecode: v4l2_timecode,
    pub sequence: u32,
    pub memory: u32,
    pub m: v4l2_buffer_m,
    pub length: u32,
    pub reserved2: u32,
    pub request_fd: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_exportbuffer {
    pub type_: u32,
    pub index: u32,
    pub plane: u32,
    pub flags: u32,
    pub fd: i32,
    pub reserved: [u32; 11],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_control {
    pub id: u32,
    pub value: i32,
}

#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct v4l2_ext_control {
    pub id: u32,
    pub size: u32,
    pub reserved2: [u32; 1],
    /// The kernel's union of value / value64 / pointers.
    pub value64: i64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_ext_controls {
    pub which: u32,
    pub count: u32,
    pub error_idx: u32,
    pub request_fd: i32,
    pub reserved: [u32; 1],
    pub controls: *mut v4l2_ext_control,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_queryctrl {
    pub id: u32,
    pub type_: u32,
    pub name: [u8; 32],
    pub minimum: i32,
    pub maximum: i32,
    pub step: i32,
    pub default_value: i32,
    pub flags: u32,
    pub reserved: [u32; 2],
}

#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct v4l2_querymenu {
    pub id: u32,
    pub index: u32,
    /// The kernel's union of name[32] / value.
    pub name: [u8; 32],
    pub reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_encoder_cmd {
    pub cmd: u32,
    pub flags: u32,
    pub data: [u32; 8],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_event_subscription {
    pub type_: u32,
    pub id: u32,
    pub flags: u32,
    pub reserved: [u32; 5],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union v4l2_event_u {
    pub data: [u8; 64],
    pub align: i64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_event {
    pub type_: u32,
    pub u: v4l2_event_u,
    pub pending: u32,
    pub sequence: u32,
    pub timestamp: timespec,
    pub id: u32,
    pub reserved: [u32; 8],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_fract {
    pub numerator: u32,
    pub denominator: u32,
}

/// `struct v4l2_outputparm` (same layout as v4l2_captureparm up to the
/// field names this code uses).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_outputparm {
    pub capability: u32,
    pub outputmode: u32,
    pub timeperframe: v4l2_fract,
    pub extendedmode: u32,
    pub writebuffers: u32,
    pub reserved: [u32; 4],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union v4l2_streamparm_parm {
    pub output: v4l2_outputparm,
    pub raw_data: [u8; 200],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_streamparm {
    pub type_: u32,
    pub parm: v4l2_streamparm_parm,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct v4l2_rect {
    pub left: i32,
    pub top: i32,
    pub width: u32,
    pub height: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_selection {
    pub type_: u32,
    pub target: u32,
    pub flags: u32,
    pub r: v4l2_rect,
    pub reserved: [u32; 9],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_frmsize_stepwise {
    pub min_width: u32,
    pub max_width: u32,
    pub step_width: u32,
    pub min_height: u32,
    pub max_height: u32,
    pub step_height: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_frmsizeenum {
    pub index: u32,
    pub pixel_format: u32,
    pub type_: u32,
    /// The kernel's union of discrete / stepwise.
    pub stepwise: v4l2_frmsize_stepwise,
    pub reserved: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_frmival_stepwise {
    pub min: v4l2_fract,
    pub max: v4l2_fract,
    pub step: v4l2_fract,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_frmivalenum {
    pub index: u32,
    pub pixel_format: u32,
    pub width: u32,
    pub height: u32,
    pub type_: u32,
    /// The kernel's union of discrete / stepwise.
    pub stepwise: v4l2_frmival_stepwise,
    pub reserved: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct v4l2_create_buffers {
    pub index: u32,
    pub count: u32,
    pub memory: u32,
    pub format: v4l2_format,
    pub capabilities: u32,
    pub flags: u32,
    pub reserved: [u32; 6],
}

macro_rules! zeroed_default {
    ($($t:ty),*) => {$(
        impl Default for $t {
            fn default() -> Self {
                // SAFETY: a plain-old-data kernel struct; all-zero is a valid value
                // (pointers become NULL).
                unsafe { std::mem::zeroed() }
            }
        }
    )*};
}
zeroed_default!(
    v4l2_capability,
    v4l2_fmtdesc,
    v4l2_pix_format,
    v4l2_pix_format_mplane,
    v4l2_format,
    v4l2_requestbuffers,
    v4l2_plane,
    v4l2_buffer,
    v4l2_exportbuffer,
    v4l2_control,
    v4l2_ext_control,
    v4l2_ext_controls,
    v4l2_queryctrl,
    v4l2_querymenu,
    v4l2_encoder_cmd,
    v4l2_event_subscription,
    v4l2_event,
    v4l2_streamparm,
    v4l2_selection,
    v4l2_frmsizeenum,
    v4l2_frmivalenum,
    v4l2_create_buffers
);

type Ioctl = libc::Ioctl;
const V: u32 = b'V' as u32;

pub const VIDIOC_QUERYCAP: Ioctl = libc::_IOR::<v4l2_capability>(V, 0);
pub const VIDIOC_ENUM_FMT: Ioctl = libc::_IOWR::<v4l2_fmtdesc>(V, 2);
pub const VIDIOC_G_FMT: Ioctl = libc::_IOWR::<v4l2_format>(V, 4);
pub const VIDIOC_S_FMT: Ioctl = libc::_IOWR::<v4l2_format>(V, 5);
pub const VIDIOC_REQBUFS: Ioctl = libc::_IOWR::<v4l2_requestbuffers>(V, 8);
pub const VIDIOC_QUERYBUF: Ioctl = libc::_IOWR::<v4l2_buffer>(V, 9);
pub const VIDIOC_QBUF: Ioctl = libc::_IOWR::<v4l2_buffer>(V, 15);
pub const VIDIOC_EXPBUF: Ioctl = libc::_IOWR::<v4l2_exportbuffer>(V, 16);
pub const VIDIOC_DQBUF: Ioctl = libc::_IOWR::<v4l2_buffer>(V, 17);
pub const VIDIOC_STREAMON: Ioctl = libc::_IOW::<i32>(V, 18);
pub const VIDIOC_STREAMOFF: Ioctl = libc::_IOW::<i32>(V, 19);
pub const VIDIOC_G_PARM: Ioctl = libc::_IOWR::<v4l2_streamparm>(V, 21);
pub const VIDIOC_S_PARM: Ioctl = libc::_IOWR::<v4l2_streamparm>(V, 22);
pub const VIDIOC_G_CTRL: Ioctl = libc::_IOWR::<v4l2_control>(V, 27);
pub const VIDIOC_S_CTRL: Ioctl = libc::_IOWR::<v4l2_control>(V, 28);
pub const VIDIOC_QUERYCTRL: Ioctl = libc::_IOWR::<v4l2_queryctrl>(V, 36);
pub const VIDIOC_QUERYMENU: Ioctl = libc::_IOWR::<v4l2_querymenu>(V, 37);
pub const VIDIOC_TRY_FMT: Ioctl = libc::_IOWR::<v4l2_format>(V, 64);
pub const VIDIOC_G_EXT_CTRLS: Ioctl = libc::_IOWR::<v4l2_ext_controls>(V, 71);
pub const VIDIOC_S_EXT_CTRLS: Ioctl = libc::_IOWR::<v4l2_ext_controls>(V, 72);
pub const VIDIOC_TRY_EXT_CTRLS: Ioctl = libc::_IOWR::<v4l2_ext_controls>(V, 73);
pub const VIDIOC_ENUM_FRAMESIZES: Ioctl = libc::_IOWR::<v4l2_frmsizeenum>(V, 74);
pub const VIDIOC_ENUM_FRAMEINTERVALS: Ioctl = libc::_IOWR::<v4l2_frmivalenum>(V, 75);
pub const VIDIOC_ENCODER_CMD: Ioctl = libc::_IOWR::<v4l2_encoder_cmd>(V, 77);
pub const VIDIOC_TRY_ENCODER_CMD: Ioctl = libc::_IOWR::<v4l2_encoder_cmd>(V, 78);
pub const VIDIOC_DQEVENT: Ioctl = libc::_IOR::<v4l2_event>(V, 89);
pub const VIDIOC_SUBSCRIBE_EVENT: Ioctl = libc::_IOW::<v4l2_event_subscription>(V, 90);
pub const VIDIOC_UNSUBSCRIBE_EVENT: Ioctl = libc::_IOW::<v4l2_event_subscription>(V, 91);
pub const VIDIOC_CREATE_BUFS: Ioctl = libc::_IOWR::<v4l2_create_buffers>(V, 92);
pub const VIDIOC_G_SELECTION: Ioctl = libc::_IOWR::<v4l2_selection>(V, 94);
pub const VIDIOC_S_SELECTION: Ioctl = libc::_IOWR::<v4l2_selection>(V, 95);

/// Copies `s` into a fixed, NUL-padded C char array.
pub fn fill_str(dst: &mut [u8], s: &str) {
    dst.fill(0);
    let n = s.len().min(dst.len().saturating_sub(1));
    dst[..n].copy_from_slice(&s.as_bytes()[..n]);
}

pub fn is_output(type_: u32) -> bool {
    matches!(type_, BUF_TYPE_VIDEO_OUTPUT | BUF_TYPE_VIDEO_OUTPUT_MPLANE)
}

pub fn is_capture(type_: u32) -> bool {
    matches!(
        type_,
        BUF_TYPE_VIDEO_CAPTURE | BUF_TYPE_VIDEO_CAPTURE_MPLANE
    )
}

pub fn is_mplane(type_: u32) -> bool {
    matches!(
        type_,
        BUF_TYPE_VIDEO_CAPTURE_MPLANE | BUF_TYPE_VIDEO_OUTPUT_MPLANE
    )
}

/// Sizes of every struct, by kernel name, for the layout tests.
pub fn struct_sizes() -> Vec<(&'static str, usize)> {
    use std::mem::size_of;
    vec![
        ("v4l2_capability", size_of::<v4l2_capability>()),
        ("v4l2_fmtdesc", size_of::<v4l2_fmtdesc>()),
        ("v4l2_pix_format", size_of::<v4l2_pix_format>()),
        (
            "v4l2_pix_format_mplane",
            size_of::<v4l2_pix_format_mplane>(),
        ),
        ("v4l2_format", size_of::<v4l2_format>()),
        ("v4l2_requestbuffers", size_of::<v4l2_requestbuffers>()),
        ("v4l2_plane", size_of::<v4l2_plane>()),
        ("v4l2_buffer", size_of::<v4l2_buffer>()),
        ("v4l2_exportbuffer", size_of::<v4l2_exportbuffer>()),
        ("v4l2_control", size_of::<v4l2_control>()),
        ("v4l2_ext_control", size_of::<v4l2_ext_control>()),
        ("v4l2_ext_controls", size_of::<v4l2_ext_controls>()),
        ("v4l2_queryctrl", size_of::<v4l2_queryctrl>()),
        ("v4l2_querymenu", size_of::<v4l2_querymenu>()),
        ("v4l2_encoder_cmd", size_of::<v4l2_encoder_cmd>()),
        (
            "v4l2_event_subscription",
            size_of::<v4l2_event_subscription>(),
        ),
        ("v4l2_event", size_of::<v4l2_event>()),
        ("v4l2_streamparm", size_of::<v4l2_streamparm>()),
        ("v4l2_selection", size_of::<v4l2_selection>()),
        ("v4l2_frmsizeenum", size_of::<v4l2_frmsizeenum>()),
        ("v4l2_frmivalenum", size_of::<v4l2_frmivalenum>()),
        ("v4l2_create_buffers", size_of::<v4l2_create_buffers>()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiles a C program against the kernel's <linux/videodev2.h> and
    /// compares every struct size and ioctl number with ours.
    #[test]
    #[allow(clippy::unnecessary_cast)] // libc::Ioctl is not u64 everywhere
    fn layouts_match_the_kernel_header() {
        let dir = std::env::temp_dir().join(format!("venc-v4l2-layout-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut src =
            String::from("#include <stdio.h>\n#include <linux/videodev2.h>\nint main(void){\n");
        for (name, _) in struct_sizes() {
            src += &format!("printf(\"{name} %zu\\n\", sizeof(struct {name}));\n");
        }
        let ioctls = [
            ("VIDIOC_QUERYCAP", VIDIOC_QUERYCAP),
            ("VIDIOC_ENUM_FMT", VIDIOC_ENUM_FMT),
            ("VIDIOC_G_FMT", VIDIOC_G_FMT),
            ("VIDIOC_S_FMT", VIDIOC_S_FMT),
            ("VIDIOC_REQBUFS", VIDIOC_REQBUFS),
            ("VIDIOC_QUERYBUF", VIDIOC_QUERYBUF),
            ("VIDIOC_QBUF", VIDIOC_QBUF),
            ("VIDIOC_EXPBUF", VIDIOC_EXPBUF),
            ("VIDIOC_DQBUF", VIDIOC_DQBUF),
            ("VIDIOC_STREAMON", VIDIOC_STREAMON),
            ("VIDIOC_STREAMOFF", VIDIOC_STREAMOFF),
            ("VIDIOC_G_PARM", VIDIOC_G_PARM),
            ("VIDIOC_S_PARM", VIDIOC_S_PARM),
            ("VIDIOC_G_CTRL", VIDIOC_G_CTRL),
            ("VIDIOC_S_CTRL", VIDIOC_S_CTRL),
            ("VIDIOC_QUERYCTRL", VIDIOC_QUERYCTRL),
            ("VIDIOC_QUERYMENU", VIDIOC_QUERYMENU),
            ("VIDIOC_TRY_FMT", VIDIOC_TRY_FMT),
            ("VIDIOC_G_EXT_CTRLS", VIDIOC_G_EXT_CTRLS),
            ("VIDIOC_S_EXT_CTRLS", VIDIOC_S_EXT_CTRLS),
            ("VIDIOC_TRY_EXT_CTRLS", VIDIOC_TRY_EXT_CTRLS),
            ("VIDIOC_ENUM_FRAMESIZES", VIDIOC_ENUM_FRAMESIZES),
            ("VIDIOC_ENUM_FRAMEINTERVALS", VIDIOC_ENUM_FRAMEINTERVALS),
            ("VIDIOC_ENCODER_CMD", VIDIOC_ENCODER_CMD),
            ("VIDIOC_TRY_ENCODER_CMD", VIDIOC_TRY_ENCODER_CMD),
            ("VIDIOC_DQEVENT", VIDIOC_DQEVENT),
            ("VIDIOC_SUBSCRIBE_EVENT", VIDIOC_SUBSCRIBE_EVENT),
            ("VIDIOC_UNSUBSCRIBE_EVENT", VIDIOC_UNSUBSCRIBE_EVENT),
            ("VIDIOC_CREATE_BUFS", VIDIOC_CREATE_BUFS),
            ("VIDIOC_G_SELECTION", VIDIOC_G_SELECTION),
            ("VIDIOC_S_SELECTION", VIDIOC_S_SELECTION),
        ];
        for (name, _) in ioctls {
            src += &format!("printf(\"{name} %lu\\n\", (unsigned long){name});\n");
        }
        src += "return 0;}\n";
        let c = dir.join("layout.c");
        let exe = dir.join("layout");
        std::fs::write(&c, src).unwrap();
        let built = std::process::Command::new("cc")
            .arg(&c)
            .arg("-o")
            .arg(&exe)
            .status();
        let Ok(status) = built else {
            eprintln!("no C compiler; layout check skipped");
            return;
        };
        assert!(status.success(), "the layout program did not compile");
        let out = std::process::Command::new(&exe).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut expected: Vec<(String, u64)> = struct_sizes()
            .into_iter()
            .map(|(n, s)| (n.to_string(), s as u64))
            .collect();
        expected.extend(ioctls.iter().map(|(n, v)| (n.to_string(), *v as u64)));
        for ((name, ours), line) in expected.iter().zip(text.lines()) {
            let theirs: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            assert_eq!(*ours, theirs, "{name}: ours {ours}, kernel header {theirs}");
        }
        assert_eq!(text.lines().count(), expected.len());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
