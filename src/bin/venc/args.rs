//! Command-line options.

pub const HELP: &str = "\
venc - encode raw video to H.264, H.265 or MJPEG with libvenc

Usage: venc [options] INPUT OUTPUT

INPUT   a .y4m file (size and frame rate come from its header), a raw
        video file (give -s WxH and, unless it is i420, --pix-fmt), or -
        for standard input (Y4M or raw, detected from the first bytes)
OUTPUT  an Annex-B elementary stream: .h264/.264, .h265/.265/.hevc,
        or Motion JPEG: .mjpeg/.mjpg (the codec follows the extension);
        a container: .mp4, .ts, .flv (H.264 unless -c h265);
        a live push: rtsp://host:port/path or rtmp://host/app/stream;
        - writes the stream to standard output (H.264 unless -c).

Options:
  -c, --codec CODEC    h264, h265 or mjpeg (default: from OUTPUT)
  -b, --bitrate RATE   target bitrate, e.g. 800k, 2M, 1500000 (default 2M)
      --rc MODE        rate control: cbr, vbr or cqp (default cbr)
      --qp N           quantizer 0..51 for --rc cqp
      --gop N          frames between keyframes (default: the chip's)
      --bframes N      B pictures between anchors, 0..7 (default 0), or
                       lowdelay for B pictures from past references only
      --chip NAME      encoder profile: generic, bm1684x, bm1684, k230,
                       x3, x5, v4l2 (default generic)
  -s, --size WxH       frame size of raw input, e.g. 1280x720
      --pix-fmt FMT    pixel format of raw input: i420 (default), yv12,
                       nv12, nv21, bgr24, rgb24, bgra, rgba, argb, gray8
  -r, --fps RATE       frame rate, e.g. 30, 25, 30000/1001 (raw input
                       default 30; overrides the Y4M header)
  -n, --frames N       stop after N frames
  -o KEY=VALUE         set any libvenc config key (repeatable), e.g.
                       -o profile=main -o threads=2 -o quality=90
  -q, --quiet          no progress line (it is only shown on a terminal)
  -h, --help           show this help
  -V, --version        show the version

Examples:
  venc clip.y4m clip.h264
  venc -b 1M --gop 60 clip.y4m clip.h264
  ffmpeg -i in.mp4 -f rawvideo -pix_fmt nv12 - | venc -s 1280x720 --pix-fmt nv12 -r 25 - out.h264
  venc -c mjpeg -o quality=90 clip.y4m clip.mjpeg

Exit status: 0 on success, 1 when encoding fails, 2 for bad options.
";

/// What the command line asks for.
#[derive(Debug, Default)]
pub struct Args {
    pub input: String,
    pub output: String,
    pub codec: Option<String>,
    pub size: Option<(u32, u32)>,
    pub pix_fmt: Option<String>,
    pub fps: Option<String>,
    pub frames: Option<u64>,
    pub quiet: bool,
    /// Config keys in the order given (--bitrate etc. become keys too).
    pub settings: Vec<(String, String)>,
}

pub enum Parsed {
    Run(Args),
    Help,
    Version,
}

/// A usage problem: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

fn parse_size(s: &str) -> Result<(u32, u32), UsageError> {
    let bad = || {
        UsageError(format!(
            "-s/--size: \"{s}\" is not WIDTHxHEIGHT (e.g. 1280x720)"
        ))
    };
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    match (w.trim().parse::<u32>(), h.trim().parse::<u32>()) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(bad()),
    }
}

pub fn parse<I: IntoIterator<Item = String>>(argv: I) -> Result<Parsed, UsageError> {
    let mut args = Args::default();
    let mut positional = Vec::new();
    let mut it = argv.into_iter();
    let mut only_positional = false;
    while let Some(arg) = it.next() {
        if only_positional || arg == "-" || !arg.starts_with('-') {
            positional.push(arg);
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        // --name=value, or -o=k=v is not accepted: short options take the next word.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, UsageError> {
            match inline.clone().or_else(|| it.next()) {
                Some(v) => Ok(v),
                None => Err(UsageError(format!("{name} needs a value ({what})"))),
            }
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "-V" | "--version" => return Ok(Parsed::Version),
            "-q" | "--quiet" => args.quiet = true,
            "-c" | "--codec" => args.codec = Some(value("h264, h265 or mjpeg")?),
            "-b" | "--bitrate" => {
                let v = value("a bitrate like 2M")?;
                args.settings.push(("bitrate".into(), v));
            }
            "--rc" => {
                let v = value("cbr, vbr or cqp")?;
                args.settings.push(("rc".into(), v));
            }
            "--qp" => {
                let v = value("0..51")?;
                args.settings.push(("qp".into(), v));
            }
            "--gop" => {
                let v = value("frames between keyframes")?;
                args.settings.push(("gop".into(), v));
            }
            "--bframes" => {
                let v = value("0..7 or lowdelay")?;
                args.settings.push(("bframes".into(), v));
            }
            "--chip" => {
                let v = value("a chip name")?;
                args.settings.push(("chip".into(), v));
            }
            "-s" | "--size" => args.size = Some(parse_size(&value("WIDTHxHEIGHT")?)?),
            "--pix-fmt" | "--pix_fmt" => args.pix_fmt = Some(value("a pixel format")?),
            "-r" | "--fps" => args.fps = Some(value("a frame rate like 30")?),
            "-n" | "--frames" => {
                let v = value("a frame count")?;
                args.frames = Some(v.parse().map_err(|_| {
                    UsageError(format!("-n/--frames: \"{v}\" is not a frame count"))
                })?);
            }
            "-o" | "--option" => {
                let v = value("KEY=VALUE")?;
                let (k, val) = v.split_once('=').ok_or_else(|| {
                    UsageError(format!("-o: \"{v}\" is not KEY=VALUE (e.g. -o gop=60)"))
                })?;
                args.settings.push((k.trim().to_string(), val.to_string()));
            }
            _ => return Err(UsageError(format!("unknown option {name}"))),
        }
    }
    match positional.len() {
        2 => {
            let mut p = positional.into_iter();
            args.input = p.next().unwrap_or_default();
            args.output = p.next().unwrap_or_default();
            Ok(Parsed::Run(args))
        }
        0 => Err(UsageError("INPUT and OUTPUT are missing".into())),
        1 => Err(UsageError("OUTPUT is missing".into())),
        n => Err(UsageError(format!(
            "expected INPUT and OUTPUT, got {n} file arguments ({})",
            positional.join(" ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &[&str]) -> Result<Args, String> {
        match parse(v.iter().map(|s| s.to_string())) {
            Ok(Parsed::Run(a)) => Ok(a),
            Ok(_) => Err("help/version".into()),
            Err(e) => Err(e.0),
        }
    }

    #[test]
    fn options_and_files() {
        let a = run(&[
            "-b",
            "1M",
            "--gop=60",
            "-s",
            "64x48",
            "-o",
            "threads=2",
            "-",
            "o.h264",
        ])
        .unwrap();
        assert_eq!(a.input, "-");
        assert_eq!(a.output, "o.h264");
        assert_eq!(a.size, Some((64, 48)));
        assert_eq!(
            a.settings,
            vec![
                ("bitrate".to_string(), "1M".to_string()),
                ("gop".to_string(), "60".to_string()),
                ("threads".to_string(), "2".to_string())
            ]
        );
    }

    #[test]
    fn problems_are_named() {
        assert!(run(&["--bogus", "a", "b"]).unwrap_err().contains("--bogus"));
        assert!(run(&["a"]).unwrap_err().contains("OUTPUT"));
        assert!(run(&["-s", "64", "a", "b"]).unwrap_err().contains("64"));
        assert!(run(&["a", "b", "-b"])
            .unwrap_err()
            .contains("-b needs a value"));
        assert!(run(&["-o", "gop", "a", "b"])
            .unwrap_err()
            .contains("KEY=VALUE"));
    }
}
