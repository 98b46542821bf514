//! openh264's own decoder, run on each anchor to obtain the exact (deblocked)
//! reference pictures a decoder of the stream will predict B pictures from.

use std::os::raw::{c_int, c_long, c_uchar, c_void};
use std::ptr;

use openh264_sys2 as oh;

use crate::error::{Error, Result};
use crate::frame::Yuv420;

type DecodeFn = unsafe extern "C" fn(
    *mut oh::ISVCDecoder,
    *const c_uchar,
    c_int,
    *mut *mut c_uchar,
    *mut oh::SBufferInfo,
) -> oh::DECODING_STATE;

pub struct AnchorDecoder {
    raw: *mut oh::ISVCDecoder,
    decode: DecodeFn,
}

// SAFETY: the decoder instance is owned exclusively by this value and used only
// through `&mut self`; openh264 keeps no thread affinity.
unsafe impl Send for AnchorDecoder {}

unsafe extern "C" fn discard_trace(
    _ctx: *mut c_void,
    _level: c_int,
    _msg: *const std::os::raw::c_char,
) {
}

impl AnchorDecoder {
    pub fn new() -> Result<AnchorDecoder> {
        let mut raw: *mut oh::ISVCDecoder = ptr::null_mut();
        // SAFETY: WelsCreateDecoder writes a new instance pointer into `raw`.
        let rc: c_long = unsafe { oh::source::APILoader::WelsCreateDecoder(&mut raw) };
        if rc != 0 || raw.is_null() {
            return Err(Error::backend(format!(
                "openh264 could not create a decoder (code {rc})"
            )));
        }
        // SAFETY: `raw` points at a valid ISVCDecoder, whose first field is the vtable pointer.
        let vtbl = unsafe { **raw };
        let (Some(init), Some(decode), Some(set_option)) =
            (vtbl.Initialize, vtbl.DecodeFrameNoDelay, vtbl.SetOption)
        else {
            // SAFETY: `raw` came from WelsCreateDecoder and is not used after this.
            unsafe { oh::source::APILoader::WelsDestroyDecoder(raw) };
            return Err(Error::backend("openh264 decoder vtable is incomplete"));
        };
        let mut quiet: c_int = oh::WELS_LOG_QUIET as c_int;
        let mut sink: oh::WelsTraceCallback = Some(discard_trace);
        // SAFETY: the trace options take a pointer to an int and to a C
        // function pointer; both live across the calls.
        unsafe {
            set_option(
                raw,
                oh::DECODER_OPTION_TRACE_LEVEL,
                (&mut quiet as *mut c_int).cast(),
            );
            set_option(
                raw,
                oh::DECODER_OPTION_TRACE_CALLBACK,
                (&mut sink as *mut oh::WelsTraceCallback).cast(),
            );
        }
        let param = oh::SDecodingParam {
            eEcActiveIdc: oh::ERROR_CON_DISABLE,
            sVideoProperty: oh::SVideoProperty {
                size: std::mem::size_of::<oh::SVideoProperty>() as u32,
                eVideoBsType: oh::VIDEO_BITSTREAM_AVC,
            },
            ..Default::default()
        };
        // SAFETY: `param` is fully initialised; openh264 copies it.
        let rc = unsafe { init(raw, &param) };
        let dec = AnchorDecoder { raw, decode };
        if rc != 0 {
            return Err(Error::backend(format!(
                "openh264 decoder refused its settings (code {rc})"
            )));
        }
        Ok(dec)
    }

    /// Decodes one coded picture (Annex-B, parameter sets first when they
    /// change) and copies the decoded picture out.
    pub fn decode(&mut self, annexb: &[u8]) -> Result<Yuv420> {
        let len = c_int::try_from(annexb.len())
            .map_err(|_| Error::backend("anchor picture too large to decode"))?;
        let mut dst: [*mut c_uchar; 3] = [ptr::null_mut(); 3];
        let mut info = oh::SBufferInfo::default();
        // SAFETY: `annexb` is `len` readable bytes; `dst` holds three plane
        // pointers and `info` is a writable SBufferInfo, as the API requires.
        let state =
            unsafe { (self.decode)(self.raw, annexb.as_ptr(), len, dst.as_mut_ptr(), &mut info) };
        if state != oh::dsErrorFree || info.iBufferStatus != 1 {
            return Err(Error::backend(format!(
                "openh264 could not decode its own anchor (state {state})"
            )));
        }
        // SAFETY: iBufferStatus == 1 means the sSystemBuffer member is the valid one.
        let sys = unsafe { info.UsrData.sSystemBuffer };
        let (w, h) = (sys.iWidth.max(0) as usize, sys.iHeight.max(0) as usize);
        let (ys, cs) = (
            sys.iStride[0].max(0) as usize,
            sys.iStride[1].max(0) as usize,
        );
        if w == 0 || h == 0 || ys < w || cs < w.div_ceil(2) || dst.iter().any(|p| p.is_null()) {
            return Err(Error::backend("openh264 decoder returned an empty picture"));
        }
        let mut pic = Yuv420::new(w as u32, h as u32);
        let cw = pic.c_width();
        let ch = h.div_ceil(2);
        for (row, out) in pic.y.chunks_exact_mut(w).enumerate() {
            // SAFETY: the decoder's luma plane has `h` rows of `w` valid bytes, `ys` apart.
            let src = unsafe { std::slice::from_raw_parts(dst[0].add(row * ys), w) };
            out.copy_from_slice(src);
        }
        for (plane, p) in [(&mut pic.u, dst[1]), (&mut pic.v, dst[2])] {
            for (row, out) in plane.chunks_exact_mut(cw).take(ch).enumerate() {
                // SAFETY: each chroma plane has `ch` rows of `cw` valid bytes, `cs` apart.
                let src = unsafe { std::slice::from_raw_parts(p.add(row * cs), cw) };
                out.copy_from_slice(src);
            }
        }
        Ok(pic)
    }
}

impl Drop for AnchorDecoder {
    fn drop(&mut self) {
        // SAFETY: `self.raw` came from WelsCreateDecoder; Uninitialize then
        // destroy, and it is never used again.
        unsafe {
            if let Some(uninit) = (**self.raw).Uninitialize {
                uninit(self.raw);
            }
            oh::source::APILoader::WelsDestroyDecoder(self.raw);
        }
    }
}
