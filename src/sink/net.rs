//! Socket helpers for the network sinks: URL parsing, connect with timeout,
//! SIGPIPE-free sends with a write timeout.

use super::{redact_url, SinkError, SinkErrorKind};
use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const IO_TIMEOUT: Duration = Duration::from_secs(4);

/// Parsed `scheme://[user[:pass]@]host[:port]/path`.
#[derive(Clone, Debug)]
pub struct Url {
    pub scheme: String,
    pub user: Option<String>,
    pub pass: Option<String>,
    pub host: String,
    pub port: u16,
    /// Path including leading '/', query kept.
    pub path: String,
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // Hex digits are checked as bytes: slicing the str could split a
        // multi-byte character after the '%' (a fuzz finding).
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Url {
    pub fn parse(url: &str, default_port: u16) -> Result<Url, SinkError> {
        let bad = |m: &str| {
            SinkError::new(
                SinkErrorKind::BadTarget,
                format!("{m}: {}", redact_url(url)),
            )
        };
        let p = url.find("://").ok_or_else(|| bad("missing scheme"))?;
        let scheme = url[..p].to_ascii_lowercase();
        let rest = &url[p + 3..];
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, pass) = match userinfo {
            Some(u) => match u.find(':') {
                Some(i) => (Some(pct_decode(&u[..i])), Some(pct_decode(&u[i + 1..]))),
                None => (Some(pct_decode(u)), None),
            },
            None => (None, None),
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let end = h.find(']').ok_or_else(|| bad("bad IPv6 host"))?;
            // Only ":port" may follow ']' (fuzzing found "[::1]junk" taken
            // as [::1] on the default port).
            let port = match &h[end + 1..] {
                "" => default_port,
                rest => match rest.strip_prefix(':') {
                    Some(p) => p.parse().map_err(|_| bad("bad port"))?,
                    None => return Err(bad("bad IPv6 host")),
                },
            };
            (h[..end].to_string(), port)
        } else {
            match hostport.rfind(':') {
                Some(i) => (
                    hostport[..i].to_string(),
                    hostport[i + 1..].parse().map_err(|_| bad("bad port"))?,
                ),
                None => (hostport.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        Ok(Url {
            scheme,
            user,
            pass,
            host,
            port,
            path: path.to_string(),
        })
    }

    /// URL without credentials.
    pub fn public(&self) -> String {
        let h = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{}://{}:{}{}", self.scheme, h, self.port, self.path)
    }

    pub fn connect(&self) -> Result<TcpStream, SinkError> {
        let public = self.public();
        let addrs: Vec<_> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| {
                SinkError::new(
                    SinkErrorKind::Connect,
                    format!("cannot resolve {public}: {e}"),
                )
            })?
            .collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    s.set_write_timeout(Some(IO_TIMEOUT)).ok();
                    s.set_read_timeout(Some(IO_TIMEOUT)).ok();
                    return Ok(s);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(SinkError::new(
            SinkErrorKind::Connect,
            format!(
                "cannot connect to {public}: {}",
                last.map(|e| e.to_string())
                    .unwrap_or_else(|| "no address".into())
            ),
        ))
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const NOSIGNAL: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const NOSIGNAL: libc::c_int = 0;

/// Write all bytes without raising SIGPIPE (MSG_NOSIGNAL); fails after about
/// IO_TIMEOUT (socket write timeout + overall deadline) if the peer stops reading.
pub fn send_all(s: &TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let fd = s.as_raw_fd();
    // Overall bound: a peer that trickles (tiny window) must not stretch one call forever.
    let deadline = std::time::Instant::now() + IO_TIMEOUT;
    while !data.is_empty() {
        if std::time::Instant::now() > deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "send timed out (peer not reading)",
            ));
        }
        // SAFETY: fd is a valid open socket owned by `s`; the buffer is valid for data.len() bytes.
        let n = unsafe {
            libc::send(
                fd,
                data.as_ptr() as *const libc::c_void,
                data.len(),
                NOSIGNAL,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::Interrupted => continue,
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "send timed out",
                    ))
                }
                _ => return Err(e),
            }
        }
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::WriteZero,
                "connection closed",
            ));
        }
        data = &data[n as usize..];
    }
    Ok(())
}

/// Read whatever is available right now without blocking. Ok(None) if nothing;
/// Err if the peer closed the connection or on socket error.
pub fn read_available(s: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
    s.set_nonblocking(true)?;
    let r = s.read(buf);
    s.set_nonblocking(false)?;
    match r {
        Ok(0) => Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection closed by peer",
        )),
        Ok(n) => Ok(Some(n)),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}
