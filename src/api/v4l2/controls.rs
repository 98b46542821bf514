//! Encoder controls (per open handle): the table QUERYCTRL/QUERYMENU
//! describe, the current values, and the kernel's validation rules
//! (integers are clamped to the range and step, a menu value out of range
//! is ERANGE, a skipped menu item EINVAL, read-only EACCES).

use super::error::{einval, V4l2Error, VResult};
use super::uapi::*;

/// Whether a control may change while the queues stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Live {
    /// Applied to the running encoder.
    Yes,
    /// Needs the CAPTURE queue stopped (EBUSY while streaming).
    No,
}

#[derive(Debug)]
pub struct CtrlDesc {
    pub id: u32,
    pub type_: u32,
    pub name: &'static str,
    pub min: i32,
    pub max: i32,
    pub step: i32,
    pub default: i32,
    pub flags: u32,
    /// Menu item names by value; "" marks a skipped item.
    pub menu: &'static [&'static str],
    pub live: Live,
}

const fn int(
    id: u32,
    name: &'static str,
    min: i32,
    max: i32,
    default: i32,
    live: Live,
) -> CtrlDesc {
    CtrlDesc {
        id,
        type_: CTRL_TYPE_INTEGER,
        name,
        min,
        max,
        step: 1,
        default,
        flags: 0,
        menu: &[],
        live,
    }
}

const fn menu(
    id: u32,
    name: &'static str,
    items: &'static [&'static str],
    default: i32,
) -> CtrlDesc {
    CtrlDesc {
        id,
        type_: CTRL_TYPE_MENU,
        name,
        min: 0,
        max: items.len() as i32 - 1,
        step: 1,
        default,
        flags: 0,
        menu: items,
        live: Live::No,
    }
}

const fn boolean(id: u32, name: &'static str, default: i32) -> CtrlDesc {
    CtrlDesc {
        id,
        type_: CTRL_TYPE_BOOLEAN,
        name,
        min: 0,
        max: 1,
        step: 1,
        default,
        flags: 0,
        menu: &[],
        live: Live::No,
    }
}

pub const BITRATE_MODE_VBR: i32 = 0;
pub const BITRATE_MODE_CBR: i32 = 1;
pub const BITRATE_MODE_CQ: i32 = 2;
pub const HEADER_MODE_SEPARATE: i32 = 0;
pub const HEADER_MODE_JOINED: i32 = 1;
pub const H264_PROFILE_BASELINE: i32 = 0;
pub const H264_PROFILE_CONSTRAINED_BASELINE: i32 = 1;
pub const H264_PROFILE_MAIN: i32 = 2;
pub const H264_PROFILE_HIGH: i32 = 4;
/// Buffers the client should allocate on OUTPUT at least.
pub const MIN_OUTPUT_BUFFERS: i32 = 2;

/// Sorted by id, so NEXT_CTRL enumeration is a walk of the table.
pub static CONTROLS: &[CtrlDesc] = &[
    CtrlDesc {
        flags: CTRL_FLAG_READ_ONLY | CTRL_FLAG_VOLATILE,
        ..int(
            CID_MIN_BUFFERS_FOR_OUTPUT,
            "Min Number of Output Buffers",
            1,
            32,
            MIN_OUTPUT_BUFFERS,
            Live::No,
        )
    },
    int(
        CID_MPEG_VIDEO_B_FRAMES,
        "Number of B-Frames",
        0,
        0,
        0,
        Live::No,
    ),
    int(CID_MPEG_VIDEO_GOP_SIZE, "GOP Size", 0, 10_000, 60, Live::No),
    menu(
        CID_MPEG_VIDEO_BITRATE_MODE,
        "Video Bitrate Mode",
        &["Variable Bitrate", "Constant Bitrate", "Constant Quality"],
        BITRATE_MODE_VBR,
    ),
    int(
        CID_MPEG_VIDEO_BITRATE,
        "Video Bitrate",
        1000,
        200_000_000,
        2_000_000,
        Live::Yes,
    ),
    boolean(
        CID_MPEG_VIDEO_FRAME_RC_ENABLE,
        "Frame Level Rate Control Enable",
        1,
    ),
    menu(
        CID_MPEG_VIDEO_HEADER_MODE,
        "Sequence Header Mode",
        &["Separate Buffer", "Joined With 1st Frame"],
        HEADER_MODE_SEPARATE,
    ),
    boolean(
        CID_MPEG_VIDEO_REPEAT_SEQ_HEADER,
        "Repeat Sequence Header",
        1,
    ),
    CtrlDesc {
        type_: CTRL_TYPE_BUTTON,
        max: 0,
        flags: CTRL_FLAG_WRITE_ONLY | CTRL_FLAG_EXECUTE_ON_WRITE,
        ..int(
            CID_MPEG_VIDEO_FORCE_KEY_FRAME,
            "Force Key Frame",
            0,
            0,
            0,
            Live::Yes,
        )
    },
    int(
        CID_MPEG_VIDEO_H264_I_FRAME_QP,
        "H264 I-Frame QP Value",
        0,
        51,
        26,
        Live::No,
    ),
    int(
        CID_MPEG_VIDEO_H264_P_FRAME_QP,
        "H264 P-Frame QP Value",
        0,
        51,
        28,
        Live::No,
    ),
    int(
        CID_MPEG_VIDEO_H264_MIN_QP,
        "H264 Minimum QP Value",
        0,
        51,
        0,
        Live::No,
    ),
    int(
        CID_MPEG_VIDEO_H264_MAX_QP,
        "H264 Maximum QP Value",
        0,
        51,
        51,
        Live::No,
    ),
    int(
        CID_MPEG_VIDEO_H264_I_PERIOD,
        "H264 I-Frame Period",
        0,
        10_000,
        60,
        Live::No,
    ),
    menu(
        CID_MPEG_VIDEO_H264_LEVEL,
        "H264 Level",
        &[
            "1", "1b", "1.1", "1.2", "1.3", "2", "2.1", "2.2", "3", "3.1", "3.2", "4", "4.1",
            "4.2", "5", "5.1",
        ],
        11,
    ),
    menu(
        CID_MPEG_VIDEO_H264_PROFILE,
        "H264 Profile",
        &["Baseline", "Constrained Baseline", "Main", "", "High"],
        H264_PROFILE_HIGH,
    ),
    menu(CID_MPEG_VIDEO_HEVC_PROFILE, "HEVC Profile", &["Main"], 0),
    boolean(
        CID_MPEG_VIDEO_PREPEND_SPSPPS_TO_IDR,
        "H264 Prepend SPS and PPS to IDR",
        0,
    ),
    CtrlDesc {
        live: Live::Yes,
        ..int(
            CID_JPEG_COMPRESSION_QUALITY,
            "Compression Quality",
            1,
            100,
            80,
            Live::Yes,
        )
    },
];

pub fn find(id: u32) -> Option<(usize, &'static CtrlDesc)> {
    CONTROLS.iter().enumerate().find(|(_, d)| d.id == id)
}

/// QUERYCTRL: the control `id`, or with NEXT_CTRL the first one above it.
pub fn query(id: u32) -> VResult<&'static CtrlDesc> {
    if id & CTRL_FLAG_NEXT_CTRL != 0 {
        let base = id & !(CTRL_FLAG_NEXT_CTRL | CTRL_FLAG_NEXT_COMPOUND);
        return CONTROLS
            .iter()
            .filter(|d| d.id > base)
            .min_by_key(|d| d.id)
            .ok_or_else(|| einval("no more controls"));
    }
    find(id)
        .map(|(_, d)| d)
        .ok_or_else(|| einval(format!("control {id:#x} does not exist")))
}

/// QUERYMENU: the name of one menu item.
pub fn menu_item(id: u32, index: u32) -> VResult<&'static str> {
    let (_, d) = find(id).ok_or_else(|| einval(format!("control {id:#x} does not exist")))?;
    if d.type_ != CTRL_TYPE_MENU {
        return Err(einval(format!("control {} is not a menu", d.name)));
    }
    match d.menu.get(index as usize) {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(einval(format!("menu {} has no item {index}", d.name))),
    }
}

/// Current values, by index into CONTROLS.
#[derive(Clone, Debug)]
pub struct Controls {
    values: Vec<i32>,
}

impl Default for Controls {
    fn default() -> Controls {
        Controls {
            values: CONTROLS.iter().map(|d| d.default).collect(),
        }
    }
}

impl Controls {
    pub fn value(&self, id: u32) -> i32 {
        find(id).map(|(i, _)| self.values[i]).unwrap_or(0)
    }

    /// G_CTRL: write-only controls are EACCES.
    pub fn get(&self, id: u32) -> VResult<i32> {
        let (i, d) = find(id).ok_or_else(|| einval(format!("control {id:#x} does not exist")))?;
        if d.flags & CTRL_FLAG_WRITE_ONLY != 0 {
            return Err(V4l2Error::new(
                libc::EACCES,
                format!("{} is write-only", d.name),
            ));
        }
        Ok(self.values[i])
    }

    /// Checks a new value; returns the value as it will be stored (clamped).
    /// `busy`: the queues stream, so non-live controls are EBUSY.
    pub fn validate(&self, id: u32, value: i64, busy: bool) -> VResult<i32> {
        let (_, d) = find(id).ok_or_else(|| einval(format!("control {id:#x} does not exist")))?;
        if d.flags & CTRL_FLAG_READ_ONLY != 0 {
            return Err(V4l2Error::new(
                libc::EACCES,
                format!("{} is read-only", d.name),
            ));
        }
        let value = value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let v = match d.type_ {
            CTRL_TYPE_MENU => {
                if value < d.min || value > d.max {
                    return Err(V4l2Error::new(
                        libc::ERANGE,
                        format!("{}: {value} is outside {}..{}", d.name, d.min, d.max),
                    ));
                }
                if d.menu[value as usize].is_empty() {
                    return Err(einval(format!("{}: item {value} is not supported", d.name)));
                }
                value
            }
            CTRL_TYPE_BOOLEAN => i32::from(value != 0),
            CTRL_TYPE_BUTTON => 0,
            _ => {
                let v = value.clamp(d.min, d.max);
                d.min + (v - d.min) / d.step * d.step
            }
        };
        if busy && d.live == Live::No && v != self.value(id) {
            return Err(V4l2Error::new(
                libc::EBUSY,
                format!(
                    "{} cannot change while streaming; stop the CAPTURE queue first",
                    d.name
                ),
            ));
        }
        Ok(v)
    }

    pub fn store(&mut self, id: u32, value: i32) {
        if let Some((i, _)) = find(id) {
            self.values[i] = value;
        }
    }
}

/// The control class of an id (`which` of EXT_CTRLS may name it).
pub fn class_of(id: u32) -> u32 {
    id & 0x0fff_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_enumeration() {
        assert!(CONTROLS.windows(2).all(|w| w[0].id < w[1].id));
        let mut id = CTRL_FLAG_NEXT_CTRL;
        let mut n = 0;
        while let Ok(d) = query(id) {
            id = d.id | CTRL_FLAG_NEXT_CTRL;
            n += 1;
        }
        assert_eq!(n, CONTROLS.len());
    }

    #[test]
    fn kernel_validation_rules() {
        let c = Controls::default();
        assert_eq!(c.validate(CID_MPEG_VIDEO_B_FRAMES, 2, false), Ok(0));
        assert_eq!(c.validate(CID_MPEG_VIDEO_BITRATE, 10, false), Ok(1000));
        assert_eq!(
            c.validate(CID_MPEG_VIDEO_BITRATE_MODE, 3, false)
                .unwrap_err()
                .errno,
            libc::ERANGE
        );
        assert_eq!(
            c.validate(CID_MPEG_VIDEO_H264_PROFILE, 3, false)
                .unwrap_err()
                .errno,
            libc::EINVAL
        );
        assert_eq!(
            c.validate(CID_MIN_BUFFERS_FOR_OUTPUT, 3, false)
                .unwrap_err()
                .errno,
            libc::EACCES
        );
        assert_eq!(
            c.validate(CID_MPEG_VIDEO_GOP_SIZE, 10, true)
                .unwrap_err()
                .errno,
            libc::EBUSY
        );
        assert_eq!(
            c.validate(CID_MPEG_VIDEO_BITRATE, 500_000, true),
            Ok(500_000)
        );
        assert_eq!(
            c.get(CID_MPEG_VIDEO_FORCE_KEY_FRAME).unwrap_err().errno,
            libc::EACCES
        );
        assert_eq!(
            menu_item(CID_MPEG_VIDEO_H264_PROFILE, 3).unwrap_err().errno,
            libc::EINVAL
        );
        assert_eq!(menu_item(CID_MPEG_VIDEO_H264_PROFILE, 4), Ok("High"));
    }
}
