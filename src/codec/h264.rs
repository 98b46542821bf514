//! H.264 through Cisco's openh264 (BSD-2, built from the bundled source by
//! `openh264-sys2`). This file is the only place that touches its C++ vtable.

use std::os::raw::{c_int, c_void};
use std::ptr;

use openh264_sys2 as oh;

use super::nal::{h264_type, push_annexb, split_annexb};
use super::{Coded, VideoEncoder};
use crate::engine::packet::FrameType;
use crate::engine::params::{EncodeParams, Profile, RcMode};
use crate::error::{Error, Result};
use crate::frame::Yuv420;

/// openh264 refuses pictures larger than level 5.2 allows.
pub const MAX_WIDTH: u32 = 3840;
pub const MAX_HEIGHT: u32 = 2160;

type EncodeFrameFn = unsafe extern "C" fn(
    *mut oh::ISVCEncoder,
    *const oh::SSourcePicture,
    *mut oh::SFrameBSInfo,
) -> c_int;
type ForceIntraFn = unsafe extern "C" fn(*mut oh::ISVCEncoder, bool) -> c_int;
type SetOptionFn =
    unsafe extern "C" fn(*mut oh::ISVCEncoder, oh::ENCODER_OPTION, *mut c_void) -> c_int;

pub struct H264Encoder {
    raw: *mut oh::ISVCEncoder,
    encode_frame: EncodeFrameFn,
    force_intra: ForceIntraFn,
    set_option: SetOptionFn,
    info: Box<oh::SFrameBSInfo>,
    width: u32,
    height: u32,
    rc: RcMode,
    frames: u64,
    /// The settings in force, for reconfiguring (runtime QP changes).
    params: Box<oh::SEncParamExt>,
}

// SAFETY: the openh264 encoder instance is owned exclusively by this value and
// is only used through `&mut self`; openh264 keeps no thread affinity.
unsafe impl Send for H264Encoder {}

fn check_size(width: u32, height: u32) -> Result<()> {
    if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(Error::bad_value(format!(
            "size {width}x{height}: H.264 4:2:0 needs even width and height"
        )));
    }
    if width < 16 || height < 16 {
        return Err(Error::bad_value(format!(
            "size {width}x{height}: H.264 needs at least 16x16"
        )));
    }
    let (long, short) = (width.max(height), width.min(height));
    if long > MAX_WIDTH || short > MAX_HEIGHT {
        return Err(Error::bad_value(format!(
            "size {width}x{height}: the H.264 engine encodes at most {MAX_WIDTH}x{MAX_HEIGHT}"
        )));
    }
    Ok(())
}

impl H264Encoder {
    pub fn new(p: &EncodeParams) -> Result<H264Encoder> {
        check_size(p.width, p.height)?;
        let mut raw: *mut oh::ISVCEncoder = ptr::null_mut();
        // SAFETY: WelsCreateSVCEncoder writes a new instance pointer into `raw`.
        let rc = unsafe { oh::source::APILoader::WelsCreateSVCEncoder(&mut raw) };
        if rc != 0 || raw.is_null() {
            return Err(Error::backend(format!(
                "openh264 could not create an encoder (code {rc})"
            )));
        }
        // SAFETY: `raw` points at a valid ISVCEncoder, whose first field is the vtable pointer.
        let vtbl = unsafe { **raw };
        let destroy = |raw| {
            // SAFETY: `raw` came from WelsCreateSVCEncoder and is not used after this.
            unsafe { oh::source::APILoader::WelsDestroySVCEncoder(raw) }
        };
        let (
            Some(get_defaults),
            Some(init_ext),
            Some(encode_frame),
            Some(force_intra),
            Some(set_option),
        ) = (
            vtbl.GetDefaultParams,
            vtbl.InitializeExt,
            vtbl.EncodeFrame,
            vtbl.ForceIntraFrame,
            vtbl.SetOption,
        )
        else {
            destroy(raw);
            return Err(Error::backend("openh264 vtable is incomplete"));
        };

        // openh264 logs warnings to stderr by default; a library must not.
        let mut quiet: c_int = oh::WELS_LOG_QUIET as c_int;
        let mut sink: oh::WelsTraceCallback = Some(discard_trace);
        // SAFETY: the trace-level option takes a pointer to an int, the
        // callback option a pointer to a function pointer with the C signature.
        unsafe {
            set_option(
                raw,
                oh::ENCODER_OPTION_TRACE_LEVEL,
                (&mut quiet as *mut c_int).cast(),
            );
            set_option(
                raw,
                oh::ENCODER_OPTION_TRACE_CALLBACK,
                (&mut sink as *mut oh::WelsTraceCallback).cast(),
            );
        }
        let mut params = oh::SEncParamExt::default();
        // SAFETY: `params` is a valid, writable SEncParamExt.
        unsafe { get_defaults(raw, &mut params) };
        fill_params(&mut params, p);
        // SAFETY: `params` is fully initialised; openh264 copies it.
        let rc = unsafe { init_ext(raw, &params) };
        if rc != 0 {
            destroy(raw);
            return Err(Error::backend(format!(
                "openh264 rejected the settings (code {rc}) for {}x{} {} at {} bit/s",
                p.width,
                p.height,
                p.rc.name(),
                p.bitrate
            )));
        }
        let mut format: c_int = oh::videoFormatI420 as c_int;
        // SAFETY: the option takes a pointer to an int colour format.
        unsafe {
            set_option(
                raw,
                oh::ENCODER_OPTION_DATAFORMAT,
                (&mut format as *mut c_int).cast(),
            )
        };
        Ok(H264Encoder {
            raw,
            encode_frame,
            force_intra,
            set_option,
            info: Box::default(),
            width: p.width,
            height: p.height,
            rc: p.rc,
            frames: 0,
            params: Box::new(params),
        })
    }

    fn set_int_option(
        &mut self,
        option: oh::ENCODER_OPTION,
        value: &mut oh::SBitrateInfo,
    ) -> Result<()> {
        // SAFETY: `self.raw` is live; bitrate options take a pointer to SBitrateInfo.
        let rc =
            unsafe { (self.set_option)(self.raw, option, (value as *mut oh::SBitrateInfo).cast()) };
        if rc != 0 {
            return Err(Error::backend(format!(
                "openh264 refused option {option} (code {rc})"
            )));
        }
        Ok(())
    }
}

/// openh264's log sink: libvenc reports errors through status codes instead.
unsafe extern "C" fn discard_trace(
    _ctx: *mut c_void,
    _level: c_int,
    _msg: *const std::os::raw::c_char,
) {
}

fn fill_params(params: &mut oh::SEncParamExt, p: &EncodeParams) {
    let fps = p.fps_num as f32 / p.fps_den.max(1) as f32;
    let bitrate = p.bitrate.min(i32::MAX as u32) as c_int;
    let threads = p.effective_threads().clamp(1, 4);
    params.iUsageType = oh::CAMERA_VIDEO_REAL_TIME;
    params.iPicWidth = p.width as c_int;
    params.iPicHeight = p.height as c_int;
    params.fMaxFrameRate = fps;
    params.iTargetBitrate = bitrate;
    params.iRCMode = match p.rc {
        RcMode::Cbr => oh::RC_BITRATE_MODE,
        RcMode::Vbr => oh::RC_QUALITY_MODE,
        RcMode::Cqp => oh::RC_OFF_MODE,
    };
    params.iMaxBitrate = match p.rc {
        RcMode::Vbr if p.max_bitrate > 0 => p.max_bitrate.min(i32::MAX as u32) as c_int,
        RcMode::Vbr => bitrate.saturating_mul(2),
        _ => oh::UNSPECIFIED_BIT_RATE as c_int,
    };
    if p.rc == RcMode::Cqp {
        params.iMinQp = p.qp as c_int;
        params.iMaxQp = p.qp as c_int;
    }
    params.bEnableFrameSkip = false;
    params.iTemporalLayerNum = 1;
    params.iSpatialLayerNum = 1;
    // openh264's period counts frames; u32::MAX-ish means "first frame only".
    params.uiIntraPeriod = if p.gop == 0 { 0 } else { p.gop };
    params.eSpsPpsIdStrategy = oh::CONSTANT_ID;
    params.bEnableSceneChangeDetect = false;
    params.bEnableBackgroundDetection = false;
    params.bEnableAdaptiveQuant = false;
    params.bEnableDenoise = false;
    params.bEnableLongTermReference = false;
    params.iNumRefFrame = 1;
    params.iEntropyCodingModeFlag = if p.profile == Profile::Baseline { 0 } else { 1 };
    params.iMultipleThreadIdc = threads as u16;
    params.iComplexityMode = oh::LOW_COMPLEXITY;
    params.iLoopFilterDisableIdc = 0;
    let layer = &mut params.sSpatialLayers[0];
    layer.iVideoWidth = p.width as c_int;
    layer.iVideoHeight = p.height as c_int;
    layer.fFrameRate = fps;
    layer.iSpatialBitrate = bitrate;
    layer.iMaxSpatialBitrate = params.iMaxBitrate;
    layer.uiProfileIdc = match p.profile {
        Profile::Baseline => oh::PRO_BASELINE,
        Profile::Main => oh::PRO_MAIN,
        Profile::High => oh::PRO_HIGH,
    };
    layer.uiLevelIdc = oh::LEVEL_UNKNOWN;
    layer.iDLayerQp = p.qp as c_int;
    // One slice per thread keeps the output identical from run to run.
    if threads > 1 {
        layer.sSliceArgument.uiSliceMode = oh::SM_FIXEDSLCNUM_SLICE;
        layer.sSliceArgument.uiSliceNum = threads;
    } else {
        layer.sSliceArgument.uiSliceMode = oh::SM_SINGLE_SLICE;
        layer.sSliceArgument.uiSliceNum = 1;
    }
    params.bUseLoadBalancing = false;
}

impl VideoEncoder for H264Encoder {
    fn encode(&mut self, pic: &Yuv420, force_key: bool) -> Result<Vec<Coded>> {
        if pic.width != self.width || pic.height != self.height {
            return Err(Error::invalid_arg(format!(
                "picture is {}x{} but the encoder was opened for {}x{}",
                pic.width, pic.height, self.width, self.height
            )));
        }
        if force_key || self.frames == 0 {
            // SAFETY: `self.raw` is a live, initialised encoder.
            unsafe { (self.force_intra)(self.raw, true) };
        }
        let cw = pic.c_width() as c_int;
        let source = oh::SSourcePicture {
            iColorFormat: oh::videoFormatI420 as c_int,
            iStride: [pic.width as c_int, cw, cw, 0],
            // openh264 takes mutable pointers but only reads the source planes.
            pData: [
                pic.y.as_ptr().cast_mut(),
                pic.u.as_ptr().cast_mut(),
                pic.v.as_ptr().cast_mut(),
                ptr::null_mut(),
            ],
            iPicWidth: pic.width as c_int,
            iPicHeight: pic.height as c_int,
            uiTimeStamp: (self.frames as i64).saturating_mul(33),
            bPsnrY: false,
            bPsnrU: false,
            bPsnrV: false,
        };
        // SAFETY: the planes hold width x height (chroma c_width x c_height)
        // bytes at the given strides (Yuv420 is tightly packed); `info` is ours.
        let rc = unsafe { (self.encode_frame)(self.raw, &source, &mut *self.info) };
        if rc != 0 {
            return Err(Error::backend(format!(
                "openh264 failed to encode frame {} (code {rc})",
                self.frames
            )));
        }
        let mut coded = collect(&self.info)?;
        coded.display_index = self.frames;
        self.frames += 1;
        Ok(vec![coded])
    }

    fn set_bitrate(&mut self, bps: u32) -> Result<()> {
        if self.rc == RcMode::Cqp {
            return Err(Error::invalid_state(
                "bitrate cannot change in cqp mode; change qp instead",
            ));
        }
        let bps = bps.min(i32::MAX as u32) as c_int;
        let mut info = oh::SBitrateInfo {
            iLayer: oh::SPATIAL_LAYER_ALL,
            iBitrate: bps,
        };
        if self.rc == RcMode::Vbr {
            let mut max = oh::SBitrateInfo {
                iLayer: oh::SPATIAL_LAYER_ALL,
                iBitrate: bps.saturating_mul(2),
            };
            self.set_int_option(oh::ENCODER_OPTION_MAX_BITRATE, &mut max)?;
        } else {
            // A higher target than the current maximum is refused; raise it first.
            let mut max = oh::SBitrateInfo {
                iLayer: oh::SPATIAL_LAYER_ALL,
                iBitrate: bps,
            };
            self.set_int_option(oh::ENCODER_OPTION_MAX_BITRATE, &mut max)?;
        }
        self.set_int_option(oh::ENCODER_OPTION_BITRATE, &mut info)
    }

    fn set_qp(&mut self, qp: u8) -> Result<()> {
        if self.rc != RcMode::Cqp {
            return Err(Error::invalid_state("qp can change only in cqp mode"));
        }
        let qp = c_int::from(qp.min(51));
        self.params.iMinQp = qp;
        self.params.iMaxQp = qp;
        self.params.sSpatialLayers[0].iDLayerQp = qp;
        // SAFETY: `self.raw` is live; the option takes a pointer to a full SEncParamExt.
        let rc = unsafe {
            (self.set_option)(
                self.raw,
                oh::ENCODER_OPTION_SVC_ENCODE_PARAM_EXT,
                (&mut *self.params as *mut oh::SEncParamExt).cast(),
            )
        };
        if rc != 0 {
            return Err(Error::backend(format!(
                "openh264 refused qp {qp} (code {rc})"
            )));
        }
        Ok(())
    }
}

/// Gathers the NAL units of one encoded frame, separating parameter sets.
fn collect(info: &oh::SFrameBSInfo) -> Result<Coded> {
    let mut coded = Coded::default();
    let layers = info.iLayerNum.clamp(0, info.sLayerInfo.len() as c_int) as usize;
    for layer in &info.sLayerInfo[..layers] {
        let total: usize = if layer.pNalLengthInByte.is_null() || layer.pBsBuf.is_null() {
            0
        } else {
            // SAFETY: openh264 reports iNalCount lengths in pNalLengthInByte.
            let lens = unsafe {
                std::slice::from_raw_parts(layer.pNalLengthInByte, layer.iNalCount.max(0) as usize)
            };
            lens.iter().map(|&l| l.max(0) as usize).sum()
        };
        if total == 0 {
            continue;
        }
        // SAFETY: the layer's NAL units lie back to back in pBsBuf, `total` bytes long.
        let bytes = unsafe { std::slice::from_raw_parts(layer.pBsBuf, total) };
        for unit in split_annexb(bytes) {
            match h264_type(unit) {
                7 | 8 => push_annexb(&mut coded.parameter_sets, unit),
                5 => {
                    coded.keyframe = true;
                    push_annexb(&mut coded.data, unit);
                }
                _ => push_annexb(&mut coded.data, unit),
            }
        }
    }
    coded.frame_type = Some(match info.eFrameType {
        oh::videoFrameTypeIDR => FrameType::Idr,
        oh::videoFrameTypeI => FrameType::I,
        _ if coded.keyframe => FrameType::Idr,
        _ => FrameType::P,
    });
    if coded.data.is_empty() {
        return Err(Error::backend(
            "openh264 produced no picture for a frame (frame skipping is off)",
        ));
    }
    Ok(coded)
}

impl Drop for H264Encoder {
    fn drop(&mut self) {
        // SAFETY: `self.raw` came from WelsCreateSVCEncoder; Uninitialize then
        // destroy, and it is never used again.
        unsafe {
            if let Some(uninit) = (**self.raw).Uninitialize {
                uninit(self.raw);
            }
            oh::source::APILoader::WelsDestroySVCEncoder(self.raw);
        }
    }
}
