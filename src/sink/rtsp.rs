//! RTSP publish client: rtsp://[user:pass@]host[:port]/path.
//!
//! `open` connects and sends OPTIONS (so a missing server fails there with
//! Connect, and authentication is negotiated early). The first keyframe
//! triggers ANNOUNCE (SDP with sprop parameter sets), SETUP
//! (RTP/AVP/TCP interleaved=0-1, mode=record) and RECORD; RTP packets are then
//! sent interleaved on the RTSP TCP connection (RFC 6184 / RFC 7798
//! packetization with FU fragmentation). Basic and Digest (MD5, qop=auth or
//! none) authentication are supported. `finish` sends TEARDOWN.

use super::nal::{base64, ParamSets};
use super::net::{read_available, send_all, Url, IO_TIMEOUT};
use super::rtp::{interleave, weak_random, RtpPacketizer};
use super::{AccessUnit, AuGate, Sink, SinkError, SinkErrorKind, StreamInfo, VideoCodec};
use md5::{Digest, Md5};
use std::io::Read;
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RtspResponse {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RtspResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn md5_hex(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse `key="value", key=value` pairs of an auth challenge.
pub fn parse_auth_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = s[ks..i].trim().to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let val;
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let vs = i;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            val = s[vs..i.min(b.len())].to_string();
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = s[vs..i].trim().to_string();
        }
        out.push((key, val));
    }
    out
}

#[derive(Clone, Debug)]
enum Auth {
    None,
    Basic(String),
    Digest {
        realm: String,
        nonce: String,
        opaque: Option<String>,
        qop: bool,
        nc: u32,
    },
}

pub struct RtspSink {
    url: Url,
    base: String,
    stream: Option<TcpStream>,
    rbuf: Vec<u8>,
    cseq: u32,
    session: Option<String>,
    auth: Auth,
    info: StreamInfo,
    rtp: RtpPacketizer,
    gate: AuGate,
    recording: bool,
    failed: bool,
    out: Vec<u8>,
}

impl RtspSink {
    pub fn open(target: &str, info: &StreamInfo) -> Result<Self, SinkError> {
        let url = Url::parse(target, 554)?;
        let stream = url.connect()?;
        let base = url.public();
        let mut s = RtspSink {
            url,
            base,
            stream: Some(stream),
            rbuf: Vec::new(),
            cseq: 0,
            session: None,
            auth: Auth::None,
            info: info.clone(),
            rtp: RtpPacketizer::new(info.codec, 96),
            gate: AuGate::default(),
            recording: false,
            failed: false,
            out: Vec::new(),
        };
        let base = s.base.clone();
        let r = s.request("OPTIONS", &base, &[], None).map_err(|e| {
            if e.kind == SinkErrorKind::Io {
                SinkError::new(SinkErrorKind::Connect, e.message)
            } else {
                e
            }
        })?;
        if r.status != 200 && r.status != 501 {
            return Err(SinkError::protocol(format!(
                "{}: OPTIONS failed: {} {}",
                s.base, r.status, r.reason
            )));
        }
        Ok(s)
    }

    fn auth_header(&mut self, method: &str, uri: &str) -> Option<String> {
        let user = self.url.user.clone().unwrap_or_default();
        let pass = self.url.pass.clone().unwrap_or_default();
        match &mut self.auth {
            Auth::None => None,
            Auth::Basic(v) => Some(format!("Basic {v}")),
            Auth::Digest {
                realm,
                nonce,
                opaque,
                qop,
                nc,
            } => {
                let ha1 = md5_hex(&format!("{user}:{realm}:{pass}"));
                let ha2 = md5_hex(&format!("{method}:{uri}"));
                let mut h = format!("Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\"");
                if *qop {
                    *nc += 1;
                    let cnonce = format!("{:08x}", weak_random());
                    let ncs = format!("{:08x}", nc);
                    let resp = md5_hex(&format!("{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}"));
                    h.push_str(&format!(
                        ", response=\"{resp}\", qop=auth, nc={ncs}, cnonce=\"{cnonce}\""
                    ));
                } else {
                    let resp = md5_hex(&format!("{ha1}:{nonce}:{ha2}"));
                    h.push_str(&format!(", response=\"{resp}\""));
                }
                if let Some(o) = opaque {
                    h.push_str(&format!(", opaque=\"{o}\""));
                }
                h.push_str(", algorithm=MD5");
                Some(h)
            }
        }
    }

    /// Send a request and wait for its response; retries once after a 401 when credentials exist.
    fn request(
        &mut self,
        method: &str,
        uri: &str,
        headers: &[(&str, String)],
        body: Option<(&str, &[u8])>,
    ) -> Result<RtspResponse, SinkError> {
        for attempt in 0..2 {
            self.cseq += 1;
            let mut req = format!(
                "{method} {uri} RTSP/1.0\r\nCSeq: {}\r\nUser-Agent: libvenc\r\n",
                self.cseq
            );
            if let Some(a) = self.auth_header(method, uri) {
                req.push_str(&format!("Authorization: {a}\r\n"));
            }
            if let Some(sess) = &self.session {
                req.push_str(&format!("Session: {sess}\r\n"));
            }
            for (k, v) in headers {
                req.push_str(&format!("{k}: {v}\r\n"));
            }
            if let Some((ct, b)) = body {
                req.push_str(&format!(
                    "Content-Type: {ct}\r\nContent-Length: {}\r\n",
                    b.len()
                ));
            }
            req.push_str("\r\n");
            let mut bytes = req.into_bytes();
            if let Some((_, b)) = body {
                bytes.extend_from_slice(b);
            }
            let stream = self
                .stream
                .as_ref()
                .ok_or_else(|| SinkError::protocol(format!("{}: closed", self.base)))?;
            send_all(stream, &bytes)
                .map_err(|e| SinkError::io(&format!("{}: {method}", self.base), e))?;
            let resp = self.read_response(method)?;
            if resp.status == 401
                && attempt == 0
                && self.url.user.is_some()
                && self.set_auth_from(&resp)
            {
                continue;
            }
            if resp.status == 401 {
                return Err(SinkError::new(
                    SinkErrorKind::Connect,
                    format!(
                        "{}: {method}: authentication required or credentials rejected (401)",
                        self.base
                    ),
                ));
            }
            return Ok(resp);
        }
        // Not reached: the second attempt always returns above.
        Err(SinkError::protocol(format!(
            "{}: {method}: authentication loop",
            self.base
        )))
    }

    fn set_auth_from(&mut self, resp: &RtspResponse) -> bool {
        let challenges: Vec<&str> = resp.headers_named("WWW-Authenticate").collect();
        for c in &challenges {
            if c.len() >= 6 && c[..6].eq_ignore_ascii_case("digest") {
                let p = parse_auth_params(&c[6..]);
                let get = |k: &str| p.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
                let (Some(realm), Some(nonce)) = (get("realm"), get("nonce")) else {
                    continue;
                };
                let qop = get("qop")
                    .map(|q| q.split(',').any(|x| x.trim() == "auth"))
                    .unwrap_or(false);
                self.auth = Auth::Digest {
                    realm,
                    nonce,
                    opaque: get("opaque"),
                    qop,
                    nc: 0,
                };
                return true;
            }
        }
        for c in &challenges {
            if c.len() >= 5 && c[..5].eq_ignore_ascii_case("basic") {
                let user = self.url.user.clone().unwrap_or_default();
                let pass = self.url.pass.clone().unwrap_or_default();
                self.auth = Auth::Basic(base64(format!("{user}:{pass}").as_bytes()));
                return true;
            }
        }
        false
    }

    /// Read one RTSP response, skipping interleaved binary frames and server requests.
    fn read_response(&mut self, method: &str) -> Result<RtspResponse, SinkError> {
        let wait = if method == "TEARDOWN" {
            Duration::from_secs(2)
        } else {
            IO_TIMEOUT * 2
        };
        let deadline = Instant::now() + wait;
        let base = self.base.clone();
        loop {
            // skip interleaved frames
            while self.rbuf.first() == Some(&b'$') && self.rbuf.len() >= 4 {
                let n = u16::from_be_bytes([self.rbuf[2], self.rbuf[3]]) as usize;
                if self.rbuf.len() < 4 + n {
                    break;
                }
                self.rbuf.drain(..4 + n);
            }
            if self.rbuf.first() != Some(&b'$') {
                if let Some(end) = self.rbuf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&self.rbuf[..end]).into_owned();
                    let mut lines = head.split("\r\n");
                    let status_line = lines.next().unwrap_or("");
                    let mut headers = Vec::new();
                    for l in lines {
                        if let Some(i) = l.find(':') {
                            headers
                                .push((l[..i].trim().to_string(), l[i + 1..].trim().to_string()));
                        }
                    }
                    let clen: usize = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    if self.rbuf.len() >= end + 4 + clen {
                        let body = self.rbuf[end + 4..end + 4 + clen].to_vec();
                        self.rbuf.drain(..end + 4 + clen);
                        if !status_line.starts_with("RTSP/") {
                            continue; // a request from the server: ignore
                        }
                        let mut parts = status_line.splitn(3, ' ');
                        parts.next();
                        let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                        let reason = parts.next().unwrap_or("").to_string();
                        return Ok(RtspResponse {
                            status,
                            reason,
                            headers,
                            body,
                        });
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(SinkError::protocol(format!(
                    "{base}: no response to {method}"
                )));
            }
            let mut tmp = [0u8; 8192];
            let stream = self
                .stream
                .as_mut()
                .ok_or_else(|| SinkError::protocol(format!("{base}: closed")))?;
            match stream.read(&mut tmp) {
                Ok(0) => {
                    return Err(SinkError::new(
                        SinkErrorKind::Io,
                        format!(
                            "{base}: server closed the connection (waiting for {method} response)"
                        ),
                    ))
                }
                Ok(n) => self.rbuf.extend_from_slice(&tmp[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => return Err(SinkError::io(&format!("{base}: {method}"), e)),
            }
        }
    }

    fn sdp(&self, ps: &ParamSets) -> String {
        let host = &self.url.host;
        let ipver = if host.contains(':') { "IP6" } else { "IP4" };
        let mut s = format!("v=0\r\no=- 0 0 IN {ipver} {host}\r\ns=libvenc\r\nc=IN {ipver} {host}\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n");
        let b = |v: &Option<Vec<u8>>| base64(v.as_deref().unwrap_or(&[]));
        match self.info.codec {
            VideoCodec::H264 => {
                let sps = ps.sps.as_deref().unwrap_or(&[]);
                let pli = if sps.len() >= 4 {
                    format!(
                        "; profile-level-id={:02X}{:02X}{:02X}",
                        sps[1], sps[2], sps[3]
                    )
                } else {
                    String::new()
                };
                s.push_str("a=rtpmap:96 H264/90000\r\n");
                s.push_str(&format!(
                    "a=fmtp:96 packetization-mode=1; sprop-parameter-sets={},{}{}\r\n",
                    b(&ps.sps),
                    b(&ps.pps),
                    pli
                ));
            }
            VideoCodec::H265 => {
                s.push_str("a=rtpmap:96 H265/90000\r\n");
                s.push_str(&format!(
                    "a=fmtp:96 sprop-vps={}; sprop-sps={}; sprop-pps={}\r\n",
                    b(&ps.vps),
                    b(&ps.sps),
                    b(&ps.pps)
                ));
            }
        }
        if self.info.fps_num > 0 && self.info.fps_den > 0 {
            s.push_str(&format!(
                "a=framerate:{}\r\n",
                self.info.fps_num as f64 / self.info.fps_den as f64
            ));
        }
        s.push_str("a=control:streamid=0\r\n");
        s
    }

    fn start_recording(&mut self, ps: &ParamSets) -> Result<(), SinkError> {
        let base = self.base.clone();
        let sdp = self.sdp(ps);
        let r = self.request(
            "ANNOUNCE",
            &base,
            &[],
            Some(("application/sdp", sdp.as_bytes())),
        )?;
        if r.status != 200 {
            return Err(SinkError::protocol(format!(
                "{base}: ANNOUNCE failed: {} {}",
                r.status, r.reason
            )));
        }
        let setup_uri = format!("{}/streamid=0", base.trim_end_matches('/'));
        let r = self.request(
            "SETUP",
            &setup_uri,
            &[(
                "Transport",
                "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record".to_string(),
            )],
            None,
        )?;
        if r.status != 200 {
            return Err(SinkError::protocol(format!(
                "{base}: SETUP failed: {} {}",
                r.status, r.reason
            )));
        }
        if let Some(sess) = r.header("Session") {
            self.session = Some(sess.split(';').next().unwrap_or("").trim().to_string());
        }
        let r = self.request(
            "RECORD",
            &base,
            &[("Range", "npt=0.000-".to_string())],
            None,
        )?;
        if r.status != 200 {
            return Err(SinkError::protocol(format!(
                "{base}: RECORD failed: {} {}",
                r.status, r.reason
            )));
        }
        self.recording = true;
        Ok(())
    }

    /// Discard what the server sends while recording (RTCP RR etc.); detect a closed peer.
    fn drain_input(&mut self) -> Result<(), SinkError> {
        let mut buf = [0u8; 16 * 1024];
        let base = self.base.clone();
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        for _ in 0..64 {
            match read_available(stream, &mut buf) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Err(SinkError::io(&format!("{base}: connection lost"), e)),
            }
        }
        Ok(())
    }
}

impl Sink for RtspSink {
    fn write(&mut self, au: &AccessUnit) -> Result<(), SinkError> {
        if self.stream.is_none() {
            return Err(SinkError::protocol(format!(
                "{}: write after finish",
                self.base
            )));
        }
        if self.failed {
            return Err(SinkError::new(
                SinkErrorKind::Io,
                format!("{}: connection already failed", self.base),
            ));
        }
        self.gate.check(au, &self.base)?;
        let r = (|| -> Result<(), SinkError> {
            if !self.recording {
                let ps = ParamSets::from_au(self.info.codec, au.data);
                if !ps.complete(self.info.codec) {
                    return Err(SinkError::protocol(format!(
                        "{}: first keyframe lacks in-band parameter sets",
                        self.base
                    )));
                }
                self.start_recording(&ps)?;
            } else {
                self.drain_input()?;
            }
            self.out.clear();
            for p in self.rtp.packetize(au.data, au.pts) {
                interleave(0, &p, &mut self.out);
            }
            let Some(stream) = self.stream.as_ref() else {
                return Err(SinkError::protocol(format!(
                    "{}: write after finish",
                    self.base
                )));
            };
            send_all(stream, &self.out)
                .map_err(|e| SinkError::io(&format!("{}: send", self.base), e))
        })();
        if let Err(e) = r {
            if e.kind == SinkErrorKind::Io {
                self.failed = true;
            }
            return Err(e);
        }
        self.gate.accept(au);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        if self.stream.is_none() {
            return Ok(());
        }
        let mut res = Ok(());
        if self.recording && !self.failed {
            let base = self.base.clone();
            // A server may close right after TEARDOWN; a missing answer is not an error.
            if let Some(s) = &self.stream {
                let _ = s.set_read_timeout(Some(Duration::from_millis(250)));
            }
            match self.request("TEARDOWN", &base, &[], None) {
                Ok(_) => {}
                Err(e) if e.kind == SinkErrorKind::Io => {}
                Err(e) if e.kind == SinkErrorKind::Protocol => {}
                Err(e) => res = Err(e),
            }
        }
        if let Some(s) = self.stream.take() {
            let _ = s.shutdown(Shutdown::Both);
        }
        res
    }

    fn is_network(&self) -> bool {
        true
    }
}

impl Drop for RtspSink {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
