//! Fault: a consumer that stops taking output. send_frame must report the
//! personality's "full" code (native AGAIN, K230 BUF_FULL, Horizon -1 after
//! its 2 s block) and memory must stay bounded over 2000 more attempts.
//! One test in its own binary, so RSS is this test's alone.

use std::time::{Duration, Instant};

use venc::api::hobot::HobotEncoder;
use venc::api::k230::{ChnAttr, Code, Device, DeviceOptions, InputFrame, Payload};
use venc::api::native::{Config, Encoder, FrameOptions};
use venc::engine::params::Profile;
use venc::frame::{FrameView, PixelFormat, Plane};
use venc::Status;

const W: u32 = 320;
const H: u32 = 240;
const ATTEMPTS: usize = 2000;
/// Allowed RSS growth over the 2000 refused attempts.
const SLACK_KIB: u64 = 4096;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn nv12_view(buf: &[u8]) -> FrameView<'_> {
    let ys = (W * H) as usize;
    FrameView {
        format: PixelFormat::Nv12,
        width: W,
        height: H,
        planes: [
            Plane::new(&buf[..ys], W as usize),
            Plane::new(&buf[ys..], W as usize),
            Plane::empty(),
        ],
    }
}

fn native() {
    let mut c = Config::default();
    for (k, v) in [("width", "320"), ("height", "240"), ("pix_fmt", "nv12")] {
        c.set(k, v).unwrap();
    }
    let enc = Encoder::new(&c).unwrap();
    let pic = vec![100u8; (W * H * 3 / 2) as usize];
    let mut accepted = 0;
    let first_again = loop {
        match enc.send_frame(&nv12_view(&pic), FrameOptions::default()) {
            Ok(()) => accepted += 1,
            Err(e) => {
                assert_eq!(e.status, Status::Again, "{}", e.message);
                break accepted;
            }
        }
        assert!(accepted < 1000, "send_frame never said AGAIN");
    };
    let rss0 = rss_kib();
    for i in 0..ATTEMPTS {
        let e = enc
            .send_frame(&nv12_view(&pic), FrameOptions::default())
            .expect_err("the consumer stopped: the queue stays full");
        assert_eq!(e.status, Status::Again, "attempt {i}: {}", e.message);
    }
    let rss1 = rss_kib();
    println!("native: AGAIN after {first_again} frames; RSS {rss0} -> {rss1} KiB over {ATTEMPTS} attempts");
    assert!(rss1 <= rss0 + SLACK_KIB, "RSS grew {rss0} -> {rss1} KiB");
    // Taking output makes room again.
    enc.receive_packet(5000).expect("a packet");
    enc.close();
}

fn k230() {
    let dev = Device::new(DeviceOptions::default());
    dev.set_out_bufs(0, 4, W, H).unwrap();
    dev.media_init().unwrap();
    dev.create(0, &ChnAttr::new(Payload::H264, Profile::Main, W, H))
        .unwrap();
    dev.start(0).unwrap();
    let pic = vec![100u8; (W * H * 3 / 2) as usize];
    let frame = |n: i64| InputFrame {
        view: nv12_view(&pic),
        pts_us: n,
    };
    let mut n = 0;
    let first_full = loop {
        match dev.send_frame(0, &frame(n), 0) {
            Ok(()) => n += 1,
            Err(e) => {
                assert_eq!(e.code, Code::BufFull, "{e}");
                break n;
            }
        }
        assert!(n < 1000, "send_frame never said BUF_FULL");
    };
    let rss0 = rss_kib();
    let mut later_ok = 0;
    for i in 0..ATTEMPTS {
        match dev.send_frame(0, &frame(n), 1) {
            Ok(()) => later_ok += 1,
            Err(e) => assert_eq!(e.code, Code::BufFull, "attempt {i}: {e}"),
        }
    }
    // A few are accepted while the engine moves queued pictures to the
    // (bounded) stream queue; then the channel stays full.
    let st = dev.query_status(0).unwrap();
    println!(
        "k230: {later_ok} of {ATTEMPTS} later attempts accepted; {} pictures and {} streams waiting",
        st.left_pics, st.left_streams
    );
    assert!(later_ok < 64, "{later_ok} accepted with nobody reading");
    let rss1 = rss_kib();
    println!("k230: BUF_FULL after {first_full} frames; RSS {rss0} -> {rss1} KiB over {ATTEMPTS} attempts");
    assert!(rss1 <= rss0 + SLACK_KIB, "RSS grew {rss0} -> {rss1} KiB");
    let s = dev.get_stream(0, 5000).expect("a stream");
    dev.release_stream(0, s.seq).unwrap();
    dev.stop(0).unwrap();
    dev.destroy(0).unwrap();
    dev.media_deinit().unwrap();
}

fn horizon() {
    let enc = HobotEncoder::new();
    enc.encode(1, W as i32, H as i32, 1000).unwrap();
    let pic = vec![100u8; (W * H * 3 / 2) as usize];
    let mut n = 0;
    let (first_full, took) = loop {
        let t = Instant::now();
        match enc.send_frame(&pic) {
            Ok(()) => n += 1,
            Err(e) => {
                let took = t.elapsed();
                println!("horizon: send_frame {n}: {e} after {took:?}");
                break (n, took);
            }
        }
        assert!(n < 1000, "send_frame never failed");
    };
    // The board's send_frame blocks 2 s on a full queue, then returns -1.
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let rss0 = rss_kib();
    // 2000 attempts would take 4000 s at 2 s each: three show it stays -1.
    for _ in 0..3 {
        assert!(enc.send_frame(&pic).is_err());
    }
    let rss1 = rss_kib();
    println!("horizon: -1 after {first_full} frames; RSS {rss0} -> {rss1} KiB");
    assert!(rss1 <= rss0 + SLACK_KIB);
    assert!(!enc.get_frame(5000).expect("a frame").is_empty());
    enc.close().unwrap();
}

#[test]
fn consumer_stops_receiving() {
    native();
    k230();
    horizon();
}
