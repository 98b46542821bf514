//! Annex-B / NAL unit helpers shared by all sinks (and usable by others):
//! start-code scanning, access-unit splitting of an elementary stream,
//! parameter-set extraction, emulation-prevention removal, a tiny bit reader,
//! SPS parsing for dimensions and the avcC / hvcC configuration records.

use super::VideoCodec;

/// Iterate over the NAL units of an Annex-B buffer (start codes removed,
/// trailing zero bytes belonging to the next start code stripped).
pub fn split_nals(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut starts = Vec::new(); // (payload_start, start_code_pos)
    let n = data.len();
    let mut i = 0;
    while i + 2 < n {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            let sc = if i > 0 && data[i - 1] == 0 { i - 1 } else { i };
            starts.push((i + 3, sc));
            i += 3;
        } else {
            i += 1;
        }
    }
    for k in 0..starts.len() {
        let begin = starts[k].0;
        let mut end = if k + 1 < starts.len() {
            starts[k + 1].1
        } else {
            n
        };
        while end > begin && data[end - 1] == 0 {
            end -= 1;
        }
        if end > begin {
            out.push(&data[begin..end]);
        }
    }
    if starts.is_empty() && !data.is_empty() {
        // No start code: treat whole buffer as one NAL (lenient).
        out.push(data);
    }
    out
}

/// NAL unit type of a NAL (header included).
pub fn nal_type(codec: VideoCodec, nal: &[u8]) -> u8 {
    match codec {
        VideoCodec::H264 => nal.first().map(|b| b & 0x1f).unwrap_or(0),
        VideoCodec::H265 => nal.first().map(|b| (b >> 1) & 0x3f).unwrap_or(0),
    }
}

/// Header length of a NAL unit in bytes.
pub fn nal_header_len(codec: VideoCodec) -> usize {
    match codec {
        VideoCodec::H264 => 1,
        VideoCodec::H265 => 2,
    }
}

pub fn is_vcl(codec: VideoCodec, t: u8) -> bool {
    match codec {
        VideoCodec::H264 => (1..=5).contains(&t),
        VideoCodec::H265 => t < 32,
    }
}

pub fn is_aud(codec: VideoCodec, t: u8) -> bool {
    match codec {
        VideoCodec::H264 => t == 9,
        VideoCodec::H265 => t == 35,
    }
}

/// VPS (H.265), SPS or PPS.
pub fn is_param_set(codec: VideoCodec, t: u8) -> bool {
    match codec {
        VideoCodec::H264 => t == 7 || t == 8,
        VideoCodec::H265 => (32..=34).contains(&t),
    }
}

/// IDR / IRAP slice.
pub fn is_keyframe_nal(codec: VideoCodec, t: u8) -> bool {
    match codec {
        VideoCodec::H264 => t == 5,
        VideoCodec::H265 => (16..=23).contains(&t),
    }
}

/// True if the Annex-B access unit contains an IDR/IRAP slice.
pub fn au_is_keyframe(codec: VideoCodec, data: &[u8]) -> bool {
    split_nals(data)
        .iter()
        .any(|n| is_keyframe_nal(codec, nal_type(codec, n)))
}

/// True if this VCL NAL is the first slice of a picture.
fn first_slice_of_picture(codec: VideoCodec, nal: &[u8]) -> bool {
    let h = nal_header_len(codec);
    match nal.get(h) {
        // H.264: first_mb_in_slice == 0 <=> ue(v) starts with bit '1'.
        // H.265: first_slice_segment_in_pic_flag is the first bit.
        Some(b) => b & 0x80 != 0,
        None => false,
    }
}

/// Starts a new access unit (when a VCL NAL has already been seen in the current one).
fn starts_new_au(codec: VideoCodec, nal: &[u8]) -> bool {
    let t = nal_type(codec, nal);
    match codec {
        VideoCodec::H264 => {
            matches!(t, 6..=9 | 14..=18) || (is_vcl(codec, t) && first_slice_of_picture(codec, nal))
        }
        VideoCodec::H265 => {
            matches!(t, 32..=35 | 39 | 41..=44 | 48..=55)
                || (is_vcl(codec, t) && first_slice_of_picture(codec, nal))
        }
    }
}

/// Positions of start codes: (position of the first byte of the start code
/// including a leading zero of a 4-byte code, position of the NAL header).
fn start_codes(data: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut i = 0;
    while i + 2 < data.len() {
        if data[i + 2] > 1 {
            i += 3;
        } else if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            let sc = if i > 0 && data[i - 1] == 0 { i - 1 } else { i };
            v.push((sc, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    v
}

/// Split a whole Annex-B elementary stream into access units. Each AU is the
/// raw byte range of the input (start codes as in the input).
pub fn split_access_units(codec: VideoCodec, stream: &[u8]) -> Vec<Vec<u8>> {
    let mut sp = AuSplitter::new(codec);
    let mut aus = sp.push(stream);
    aus.extend(sp.flush());
    aus
}

/// Incremental access-unit splitter for an Annex-B byte stream arriving in
/// arbitrary chunks. An AU is emitted once the first NAL of the next AU has
/// been completely received; `flush` returns the last one.
pub struct AuSplitter {
    codec: VideoCodec,
    buf: Vec<u8>,
}

impl AuSplitter {
    pub fn new(codec: VideoCodec) -> Self {
        AuSplitter {
            codec,
            buf: Vec::new(),
        }
    }

    /// Feed bytes; returns the access units completed so far.
    pub fn push(&mut self, data: &[u8]) -> Vec<Vec<u8>> {
        self.buf.extend_from_slice(data);
        let codec = self.codec;
        let starts = start_codes(&self.buf);
        let mut out = Vec::new();
        let mut au_start = 0;
        let mut seen_vcl = false;
        // Only NALs followed by another start code are known to be complete.
        for w in starts.windows(2) {
            let nal = &self.buf[w[0].1..w[1].0];
            if nal.is_empty() {
                continue;
            }
            if seen_vcl && starts_new_au(codec, nal) {
                out.push(self.buf[au_start..w[0].0].to_vec());
                au_start = w[0].0;
                seen_vcl = false;
            }
            if is_vcl(codec, nal_type(codec, nal)) {
                seen_vcl = true;
            }
        }
        self.buf.drain(..au_start);
        out
    }

    /// End of stream: return the remaining access unit(s).
    pub fn flush(&mut self) -> Vec<Vec<u8>> {
        // A sentinel start code terminates the last NAL so it can be classified.
        self.buf.extend_from_slice(&[0, 0, 1]);
        let mut out = self.push(&[]);
        let mut rest = std::mem::take(&mut self.buf);
        rest.truncate(rest.len() - 3);
        let codec = self.codec;
        if split_nals(&rest)
            .iter()
            .any(|n| is_vcl(codec, nal_type(codec, n)))
        {
            out.push(rest);
        }
        out
    }
}

/// Parameter sets found in an access unit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamSets {
    pub vps: Option<Vec<u8>>,
    pub sps: Option<Vec<u8>>,
    pub pps: Option<Vec<u8>>,
}

impl ParamSets {
    pub fn from_au(codec: VideoCodec, data: &[u8]) -> ParamSets {
        let mut ps = ParamSets::default();
        for nal in split_nals(data) {
            let t = nal_type(codec, nal);
            match (codec, t) {
                (VideoCodec::H264, 7) | (VideoCodec::H265, 33) => {
                    ps.sps.get_or_insert_with(|| nal.to_vec());
                }
                (VideoCodec::H264, 8) | (VideoCodec::H265, 34) => {
                    ps.pps.get_or_insert_with(|| nal.to_vec());
                }
                (VideoCodec::H265, 32) => {
                    ps.vps.get_or_insert_with(|| nal.to_vec());
                }
                _ => {}
            }
        }
        ps
    }
    /// All parameter sets the codec needs are present.
    pub fn complete(&self, codec: VideoCodec) -> bool {
        self.sps.is_some()
            && self.pps.is_some()
            && (codec == VideoCodec::H264 || self.vps.is_some())
    }
}

/// Convert an Annex-B AU to 4-byte length-prefixed NAL units. AUDs are dropped;
/// parameter sets are dropped when `drop_params` (they live in avcC/hvcC).
pub fn annexb_to_length_prefixed(codec: VideoCodec, data: &[u8], drop_params: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    for nal in split_nals(data) {
        let t = nal_type(codec, nal);
        if is_aud(codec, t) || (drop_params && is_param_set(codec, t)) {
            continue;
        }
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
    out
}

/// Remove emulation-prevention bytes (00 00 03 -> 00 00).
pub fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        if b == 0 {
            zeros += 1;
        } else {
            zeros = 0;
        }
        out.push(b);
    }
    out
}

/// MSB-first bit reader over an RBSP.
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }
    pub fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let v = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Some(v as u32)
    }
    pub fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }
    pub fn skip(&mut self, n: usize) -> Option<()> {
        if self.pos + n > self.data.len() * 8 {
            return None;
        }
        self.pos += n;
        Some(())
    }
    pub fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        if zeros == 0 {
            return Some(0);
        }
        Some((1u32 << zeros) - 1 + self.bits(zeros)?)
    }
    pub fn se(&mut self) -> Option<i32> {
        let k = self.ue()?;
        Some(if k & 1 == 1 {
            k.div_ceil(2) as i32
        } else {
            -((k / 2) as i32)
        })
    }
}

/// Fields of an H.265 SPS needed for hvcC.
#[derive(Clone, Debug, Default)]
pub struct HevcSpsInfo {
    /// general_profile_space .. general_level_idc (12 bytes of profile_tier_level).
    pub ptl: [u8; 12],
    pub chroma_format_idc: u32,
    pub bit_depth_luma_minus8: u32,
    pub bit_depth_chroma_minus8: u32,
    pub width: u32,
    pub height: u32,
    pub max_sub_layers_minus1: u32,
    pub temporal_id_nesting: u32,
}

pub fn parse_hevc_sps(sps_nal: &[u8]) -> Option<HevcSpsInfo> {
    let rbsp = unescape_rbsp(sps_nal.get(2..)?);
    let mut r = BitReader::new(&rbsp);
    let mut info = HevcSpsInfo::default();
    r.bits(4)?; // sps_video_parameter_set_id
    info.max_sub_layers_minus1 = r.bits(3)?;
    info.temporal_id_nesting = r.bits(1)?;
    for b in info.ptl.iter_mut() {
        *b = r.bits(8)? as u8;
    }
    let msl = info.max_sub_layers_minus1 as usize;
    let mut prof = [0u32; 8];
    let mut lvl = [0u32; 8];
    for i in 0..msl {
        prof[i] = r.bit()?;
        lvl[i] = r.bit()?;
    }
    if msl > 0 {
        for _ in msl..8 {
            r.bits(2)?;
        }
    }
    for i in 0..msl {
        if prof[i] == 1 {
            r.skip(88)?;
        }
        if lvl[i] == 1 {
            r.skip(8)?;
        }
    }
    r.ue()?; // sps_seq_parameter_set_id
    info.chroma_format_idc = r.ue()?;
    if info.chroma_format_idc == 3 {
        r.bit()?;
    }
    let mut w = r.ue()?;
    let mut h = r.ue()?;
    if r.bit()? == 1 {
        let (sub_w, sub_h) = match info.chroma_format_idc {
            1 => (2, 2),
            2 => (2, 1),
            _ => (1, 1),
        };
        let l = r.ue()?;
        let rr = r.ue()?;
        let t = r.ue()?;
        let b = r.ue()?;
        w = w.saturating_sub(sub_w * (l + rr));
        h = h.saturating_sub(sub_h * (t + b));
    }
    info.width = w;
    info.height = h;
    info.bit_depth_luma_minus8 = r.ue()?;
    info.bit_depth_chroma_minus8 = r.ue()?;
    Some(info)
}

/// Width/height from an H.264 SPS (best effort).
pub fn parse_h264_sps_size(sps_nal: &[u8]) -> Option<(u32, u32)> {
    let rbsp = unescape_rbsp(sps_nal.get(1..)?);
    let mut r = BitReader::new(&rbsp);
    let profile = r.bits(8)?;
    r.bits(16)?;
    r.ue()?;
    let mut chroma = 1;
    if matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma = r.ue()?;
        if chroma == 3 {
            r.bit()?;
        }
        r.ue()?;
        r.ue()?;
        r.bit()?;
        if r.bit()? == 1 {
            let cnt = if chroma != 3 { 8 } else { 12 };
            for i in 0..cnt {
                if r.bit()? == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i32, 8i32);
                    for _ in 0..size {
                        if next != 0 {
                            let d = r.se()?;
                            next = (last + d + 256) % 256;
                        }
                        last = if next == 0 { last } else { next };
                    }
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num
    let poc_type = r.ue()?;
    if poc_type == 0 {
        r.ue()?;
    } else if poc_type == 1 {
        r.bit()?;
        r.se()?;
        r.se()?;
        let n = r.ue()?;
        for _ in 0..n {
            r.se()?;
        }
    }
    r.ue()?;
    r.bit()?;
    let wmbs = r.ue()? + 1;
    let hmaps = r.ue()? + 1;
    let frame_mbs_only = r.bit()?;
    if frame_mbs_only == 0 {
        r.bit()?;
    }
    r.bit()?;
    let mut w = wmbs * 16;
    let mut h = hmaps * 16 * (2 - frame_mbs_only);
    if r.bit()? == 1 {
        let (cx, cy) = match chroma {
            0 => (1, 2 - frame_mbs_only),
            1 => (2, 2 * (2 - frame_mbs_only)),
            2 => (2, 2 - frame_mbs_only),
            _ => (1, 2 - frame_mbs_only),
        };
        let l = r.ue()?;
        let rr = r.ue()?;
        let t = r.ue()?;
        let b = r.ue()?;
        w = w.saturating_sub(cx * (l + rr));
        h = h.saturating_sub(cy * (t + b));
    }
    Some((w, h))
}

/// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1).
pub fn build_avcc(sps: &[u8], pps: &[u8]) -> Vec<u8> {
    let mut v = vec![
        1,
        sps.get(1).copied().unwrap_or(0x42),
        sps.get(2).copied().unwrap_or(0),
        sps.get(3).copied().unwrap_or(0x1e),
        0xff, // lengthSizeMinusOne = 3
        0xe1, // one SPS
    ];
    v.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    v.extend_from_slice(sps);
    v.push(1);
    v.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    v.extend_from_slice(pps);
    let profile = sps.get(1).copied().unwrap_or(0);
    if matches!(profile, 100 | 110 | 122 | 144) {
        // High profile extension (chroma 4:2:0, 8 bit assumed when unparsed).
        let (chroma, bdl, bdc) = h264_chroma_bitdepth(sps).unwrap_or((1, 0, 0));
        v.push(0xfc | (chroma as u8 & 3));
        v.push(0xf8 | (bdl as u8 & 7));
        v.push(0xf8 | (bdc as u8 & 7));
        v.push(0);
    }
    v
}

fn h264_chroma_bitdepth(sps: &[u8]) -> Option<(u32, u32, u32)> {
    let rbsp = unescape_rbsp(sps.get(1..)?);
    let mut r = BitReader::new(&rbsp);
    r.bits(24)?;
    r.ue()?;
    let chroma = r.ue()?;
    if chroma == 3 {
        r.bit()?;
    }
    Some((chroma, r.ue()?, r.ue()?))
}

/// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1).
pub fn build_hvcc(vps: &[u8], sps: &[u8], pps: &[u8]) -> Vec<u8> {
    let info = parse_hevc_sps(sps).unwrap_or(HevcSpsInfo {
        ptl: [0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x5d],
        chroma_format_idc: 1,
        ..Default::default()
    });
    let mut v = Vec::with_capacity(64 + vps.len() + sps.len() + pps.len());
    v.push(1);
    v.extend_from_slice(&info.ptl);
    v.extend_from_slice(&[0xf0, 0x00]); // min_spatial_segmentation_idc = 0
    v.push(0xfc); // parallelismType = 0
    v.push(0xfc | (info.chroma_format_idc as u8 & 3));
    v.push(0xf8 | (info.bit_depth_luma_minus8 as u8 & 7));
    v.push(0xf8 | (info.bit_depth_chroma_minus8 as u8 & 7));
    v.extend_from_slice(&[0, 0]); // avgFrameRate
                                  // constantFrameRate(2)=0 numTemporalLayers(3) temporalIdNested(1) lengthSizeMinusOne(2)=3
    v.push(
        (((info.max_sub_layers_minus1 + 1) as u8 & 7) << 3)
            | ((info.temporal_id_nesting as u8 & 1) << 2)
            | 3,
    );
    v.push(3);
    for (t, nal) in [(32u8, vps), (33, sps), (34, pps)] {
        v.push(0x80 | t); // array_completeness = 1
        v.extend_from_slice(&1u16.to_be_bytes());
        v.extend_from_slice(&(nal.len() as u16).to_be_bytes());
        v.extend_from_slice(nal);
    }
    v
}

/// Standard base64 (used by RTSP SDP sprop fields and Basic auth).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        s.push(T[(n >> 18) as usize & 63] as char);
        s.push(T[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}
