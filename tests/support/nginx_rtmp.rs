//! nginx with the RTMP module as a real test peer on a loopback port.
//! One copy for every user: the sink unit tests, tests/sail.rs,
//! tests/faults.rs and examples/soak.rs include it with `#[path]`.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/// Whether nginx and its RTMP module are installed.
pub fn available() -> bool {
    Path::new(MODULE).exists()
        && Command::new("nginx")
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
}

/// Starts nginx-rtmp on 127.0.0.1:`port` with application `live`; with
/// `record`, each stream is recorded into `dir` as `<name>.flv`. Returns
/// the child once the port accepts connections; None if nginx cannot start
/// (its error log, in `dir`, is printed).
pub fn spawn(dir: &Path, port: u16, record: bool) -> Option<Child> {
    let recording = if record {
        format!(
            "record all; record_path {}; record_unique off;",
            dir.display()
        )
    } else {
        "record off;".to_string()
    };
    let conf = format!(
        "load_module {MODULE};\ndaemon off;\nmaster_process off;\nworker_processes 1;\n\
         pid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
         events {{ worker_connections 64; }}\n\
         rtmp {{ server {{ listen 127.0.0.1:{port}; chunk_size 4096;\n \
         application live {{ live on; {recording} }} }} }}\n",
        d = dir.display()
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).ok()?;
    let mut child = Command::new("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
    println!("nginx did not listen on {port}: {log}");
    None
}
