//! Raw video input: Y4M (header gives size, rate and format) or headerless
//! raw frames, from a file or standard input.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

use venc::frame::{FrameView, PixelFormat, Plane};

pub struct Input {
    reader: Box<dyn BufRead>,
    pub y4m: bool,
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// From the Y4M header ("30/1"), if any.
    pub fps: Option<String>,
    frame: Vec<u8>,
    /// Byte offset of each plane in `frame`, and its stride.
    layout: [(usize, usize); 3],
    frames_read: u64,
}

/// Tightly packed plane offsets and strides, and the frame size.
fn layout(format: PixelFormat, width: u32, height: u32) -> Option<([(usize, usize); 3], usize)> {
    let mut out = [(0, 0); 3];
    let mut off = 0usize;
    for (p, slot) in out.iter_mut().enumerate().take(format.plane_count()) {
        let stride = format.min_stride(p, width)?;
        *slot = (off, stride);
        off = off.checked_add(stride.checked_mul(format.plane_rows(p, height))?)?;
    }
    Some((out, off))
}

fn y4m_format(colorspace: &str) -> Result<PixelFormat, String> {
    match colorspace {
        c if c.starts_with("420") => Ok(PixelFormat::I420),
        "mono" => Ok(PixelFormat::Gray8),
        c => Err(format!(
            "Y4M colour space C{c} is not supported (use 4:2:0, e.g. ffmpeg -pix_fmt yuv420p)"
        )),
    }
}

impl Input {
    /// Opens `path` ("-" = stdin). `size` and `format` describe raw input;
    /// a Y4M header (detected from the first bytes) takes precedence.
    pub fn open(
        path: &str,
        size: Option<(u32, u32)>,
        format: Option<PixelFormat>,
    ) -> Result<Input, String> {
        let mut reader: Box<dyn BufRead> = if path == "-" {
            Box::new(BufReader::with_capacity(1 << 20, io::stdin()))
        } else {
            let f = File::open(path).map_err(|e| format!("cannot open input {path}: {e}"))?;
            Box::new(BufReader::with_capacity(1 << 20, f))
        };
        let name = if path == "-" { "standard input" } else { path };
        let head = reader
            .fill_buf()
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        let y4m = head.starts_with(b"YUV4MPEG2");
        let (format, width, height, fps) = if y4m {
            let mut line = Vec::new();
            reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("cannot read {name}: {e}"))?;
            let line = String::from_utf8_lossy(&line);
            let (mut w, mut h, mut fps, mut fmt) = (0u32, 0u32, None, PixelFormat::I420);
            for tok in line.split_ascii_whitespace().skip(1) {
                let (tag, val) = tok.split_at(1);
                match tag {
                    "W" => w = val.parse().unwrap_or(0),
                    "H" => h = val.parse().unwrap_or(0),
                    "F" => fps = Some(val.replace(':', "/")),
                    "C" => fmt = y4m_format(val).map_err(|e| format!("{name}: {e}"))?,
                    _ => {}
                }
            }
            if w == 0 || h == 0 {
                return Err(format!(
                    "{name}: Y4M header has no valid W and H: {}",
                    line.trim()
                ));
            }
            if let Some((sw, sh)) = size {
                if (sw, sh) != (w, h) {
                    return Err(format!(
                        "-s {sw}x{sh} contradicts the Y4M header of {name} ({w}x{h}); leave -s out"
                    ));
                }
            }
            if format.is_some_and(|f| f != fmt) {
                return Err(format!(
                    "--pix-fmt is for raw input; {name} is Y4M ({})",
                    fmt.name()
                ));
            }
            (fmt, w, h, fps)
        } else {
            let (w, h) = size.ok_or_else(|| {
                format!("{name} is raw video (no Y4M header): give its size with -s WIDTHxHEIGHT")
            })?;
            (format.unwrap_or(PixelFormat::I420), w, h, None)
        };
        let (layout, bytes) = layout(format, width, height)
            .filter(|_| width <= venc::frame::MAX_DIMENSION && height <= venc::frame::MAX_DIMENSION)
            .ok_or_else(|| format!("frame size {width}x{height} is too large"))?;
        Ok(Input {
            reader,
            y4m,
            format,
            width,
            height,
            fps,
            frame: vec![0; bytes],
            layout,
            frames_read: 0,
        })
    }

    /// Reads the next frame; Ok(None) at the end. A frame cut short at
    /// the end of the input is an error that says so.
    pub fn next_frame(&mut self) -> Result<Option<FrameView<'_>>, String> {
        let n = self.frames_read;
        if self.y4m {
            let mut line = Vec::new();
            let got = self
                .reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("reading frame {n}: {e}"))?;
            if got == 0 {
                return Ok(None);
            }
            if !line.starts_with(b"FRAME") {
                return Err(format!(
                    "Y4M frame {n} does not start with FRAME (the input is damaged)"
                ));
            }
        }
        let mut filled = 0;
        while filled < self.frame.len() {
            match self.reader.read(&mut self.frame[filled..]) {
                Ok(0) => break,
                Ok(k) => filled += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading frame {n}: {e}")),
            }
        }
        if filled == 0 && !self.y4m {
            return Ok(None);
        }
        if filled < self.frame.len() {
            return Err(format!(
                "input ends inside frame {n}: {filled} of {} bytes ({}x{} {}); is -s or --pix-fmt wrong?",
                self.frame.len(),
                self.width,
                self.height,
                self.format.name()
            ));
        }
        self.frames_read += 1;
        let mut planes = [Plane::empty(); 3];
        for (p, plane) in planes
            .iter_mut()
            .enumerate()
            .take(self.format.plane_count())
        {
            let (off, stride) = self.layout[p];
            *plane = Plane::new(&self.frame[off..], stride);
        }
        Ok(Some(FrameView {
            format: self.format,
            width: self.width,
            height: self.height,
            planes,
        }))
    }
}
