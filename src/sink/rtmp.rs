//! RTMP publish client (rtmp://host[:port]/app[/...]/streamkey) on top of the
//! sans-IO `rml_rtmp` client session. Video goes out as FLV video tag bodies:
//! H.264 as legacy AVC, H.265 with the enhanced-RTMP 'hvc1' ExVideoTagHeader.
//!
//! The TCP connection, handshake, `connect` and `publish` happen inside
//! `open` (bounded by ~5 s timeouts). Sends use MSG_NOSIGNAL and a socket
//! write timeout, so a dead server yields an Io error instead of a hang or
//! SIGPIPE.

use super::flv::{video_tag_body, FlvVideoPacker, VideoPayload};
use super::net::{read_available, send_all, Url, IO_TIMEOUT};
use super::{AccessUnit, AuGate, Sink, SinkError, SinkErrorKind, StreamInfo};
use bytes::Bytes;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{
    ClientSession, ClientSessionConfig, ClientSessionEvent, ClientSessionResult, PublishRequestType,
};
use rml_rtmp::time::RtmpTimestamp;
use std::io::Read;
use std::net::{Shutdown, TcpStream};
use std::time::Instant;

pub struct RtmpSink {
    target: String,
    stream: Option<TcpStream>,
    session: ClientSession,
    packer: FlvVideoPacker,
    gate: AuGate,
    info: StreamInfo,
    last_ts: u32,
    failed: bool,
}

fn perr(target: &str, e: impl std::fmt::Debug) -> SinkError {
    SinkError::protocol(format!("{target}: RTMP session error: {e:?}"))
}

/// Parses an RTMP target into its URL, application and stream key: app is
/// everything between the host and the last '/', the key the last segment
/// (query kept). Pure: no connection is made.
pub fn parse_url(target: &str) -> Result<(Url, String, String), SinkError> {
    let url = Url::parse(target, 1935)?;
    let path = url.path.trim_start_matches('/');
    let (app, key) = match path.rfind('/') {
        Some(i) => (path[..i].to_string(), path[i + 1..].to_string()),
        None => (path.to_string(), String::new()),
    };
    if app.is_empty() || key.is_empty() {
        return Err(SinkError::new(
            SinkErrorKind::BadTarget,
            format!("RTMP URL needs /app/streamkey: {}", url.public()),
        ));
    }
    Ok((url, app, key))
}

impl RtmpSink {
    pub fn open(target: &str, info: &StreamInfo) -> Result<Self, SinkError> {
        let (url, app, key) = parse_url(target)?;
        let public = url.public();
        let mut stream = url.connect()?;
        let cerr = |m: String| SinkError::new(SinkErrorKind::Connect, format!("{public}: {m}"));

        // Handshake
        let mut hs = Handshake::new(PeerType::Client);
        let p0p1 = hs
            .generate_outbound_p0_and_p1()
            .map_err(|e| perr(&public, e))?;
        send_all(&stream, &p0p1).map_err(|e| cerr(format!("handshake send failed: {e}")))?;
        let mut buf = vec![0u8; 64 * 1024];
        let leftover;
        loop {
            let n = stream
                .read(&mut buf)
                .map_err(|e| cerr(format!("handshake failed: {e}")))?;
            if n == 0 {
                return Err(cerr("server closed the connection during handshake".into()));
            }
            match hs.process_bytes(&buf[..n]).map_err(|e| perr(&public, e))? {
                HandshakeProcessResult::InProgress { response_bytes } => {
                    send_all(&stream, &response_bytes)
                        .map_err(|e| cerr(format!("handshake send failed: {e}")))?;
                }
                HandshakeProcessResult::Completed {
                    response_bytes,
                    remaining_bytes,
                } => {
                    send_all(&stream, &response_bytes)
                        .map_err(|e| cerr(format!("handshake send failed: {e}")))?;
                    leftover = remaining_bytes;
                    break;
                }
            }
        }

        let mut cfg = ClientSessionConfig::new();
        let host = if url.host.contains(':') {
            format!("[{}]", url.host)
        } else {
            url.host.clone()
        };
        cfg.tc_url = Some(format!("rtmp://{}:{}/{}", host, url.port, app));
        let (session, initial) = ClientSession::new(cfg).map_err(|e| perr(&public, e))?;
        let mut sink = RtmpSink {
            target: public.clone(),
            stream: None,
            session,
            packer: FlvVideoPacker::new(info.codec),
            gate: AuGate::default(),
            info: info.clone(),
            last_ts: 0,
            failed: false,
        };
        let mut events = Vec::new();
        sink.send_results(&stream, initial, &mut events)?;
        let r = sink
            .session
            .request_connection(app.clone())
            .map_err(|e| perr(&public, e))?;
        sink.send_results(&stream, vec![r], &mut events)?;
        if !leftover.is_empty() {
            let res = sink
                .session
                .handle_input(&leftover)
                .map_err(|e| perr(&public, e))?;
            sink.send_results(&stream, res, &mut events)?;
        }
        sink.wait_event(&mut stream, &mut events, &mut buf, "connect", |e| match e {
            ClientSessionEvent::ConnectionRequestAccepted => Some(Ok(())),
            ClientSessionEvent::ConnectionRequestRejected { description } => {
                Some(Err(description.clone()))
            }
            _ => None,
        })?;
        let r = sink
            .session
            .request_publishing(key, PublishRequestType::Live)
            .map_err(|e| perr(&public, e))?;
        sink.send_results(&stream, vec![r], &mut events)?;
        sink.wait_event(&mut stream, &mut events, &mut buf, "publish", |e| match e {
            ClientSessionEvent::PublishRequestAccepted => Some(Ok(())),
            ClientSessionEvent::UnhandleableOnStatusCode { code }
                if code.contains("BadName") || code.contains("Failed") =>
            {
                Some(Err(code.clone()))
            }
            _ => None,
        })?;
        sink.stream = Some(stream);
        Ok(sink)
    }

    fn send_results(
        &mut self,
        stream: &TcpStream,
        results: Vec<ClientSessionResult>,
        events: &mut Vec<ClientSessionEvent>,
    ) -> Result<(), SinkError> {
        for r in results {
            match r {
                ClientSessionResult::OutboundResponse(p) => send_all(stream, &p.bytes)
                    .map_err(|e| SinkError::io(&format!("{}: send", self.target), e))?,
                ClientSessionResult::RaisedEvent(e) => events.push(e),
                ClientSessionResult::UnhandleableMessageReceived(_) => {}
            }
        }
        Ok(())
    }

    fn wait_event(
        &mut self,
        stream: &mut TcpStream,
        events: &mut Vec<ClientSessionEvent>,
        buf: &mut [u8],
        what: &str,
        pred: impl Fn(&ClientSessionEvent) -> Option<Result<(), String>>,
    ) -> Result<(), SinkError> {
        let deadline = Instant::now() + IO_TIMEOUT * 2;
        loop {
            for e in events.drain(..) {
                match pred(&e) {
                    Some(Ok(())) => return Ok(()),
                    Some(Err(m)) => {
                        return Err(SinkError::protocol(format!(
                            "{}: RTMP {what} rejected: {m}",
                            self.target
                        )))
                    }
                    None => {}
                }
            }
            if Instant::now() > deadline {
                return Err(SinkError::protocol(format!(
                    "{}: no answer to RTMP {what}",
                    self.target
                )));
            }
            let n = stream.read(buf).map_err(|e| {
                SinkError::new(
                    SinkErrorKind::Connect,
                    format!("{}: RTMP {what} failed: {e}", self.target),
                )
            })?;
            if n == 0 {
                return Err(SinkError::new(
                    SinkErrorKind::Connect,
                    format!(
                        "{}: server closed the connection during RTMP {what}",
                        self.target
                    ),
                ));
            }
            let res = self
                .session
                .handle_input(&buf[..n])
                .map_err(|e| perr(&self.target, e))?;
            self.send_results(stream, res, events)?;
        }
    }

    /// The socket, taken out while `send_results` borrows `self`; callers
    /// put it back. Missing only after `finish`.
    fn take_stream(&mut self) -> Result<TcpStream, SinkError> {
        self.stream
            .take()
            .ok_or_else(|| SinkError::protocol(format!("{}: write after finish", self.target)))
    }

    /// Process whatever the server sent (acks, pings); detect a closed peer.
    fn drain_input(&mut self) -> Result<(), SinkError> {
        let mut buf = [0u8; 16 * 1024];
        let mut stream = self.take_stream()?;
        let mut events = Vec::new();
        let r = (|| -> Result<(), SinkError> {
            for _ in 0..64 {
                match read_available(&mut stream, &mut buf) {
                    Ok(Some(n)) => {
                        let res = self
                            .session
                            .handle_input(&buf[..n])
                            .map_err(|e| perr(&self.target, e))?;
                        self.send_results(&stream, res, &mut events)?;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        return Err(SinkError::io(
                            &format!("{}: connection lost", self.target),
                            e,
                        ))
                    }
                }
            }
            Ok(())
        })();
        self.stream = Some(stream);
        r
    }

    fn send_video(&mut self, ts: u32, body: Vec<u8>) -> Result<(), SinkError> {
        let r = self
            .session
            .publish_video_data(Bytes::from(body), RtmpTimestamp::new(ts), false)
            .map_err(|e| perr(&self.target, e))?;
        let stream = self.take_stream()?;
        let mut ev = Vec::new();
        let res = self.send_results(&stream, vec![r], &mut ev);
        self.stream = Some(stream);
        res
    }
}

impl Sink for RtmpSink {
    fn write(&mut self, au: &AccessUnit) -> Result<(), SinkError> {
        if self.stream.is_none() {
            return Err(SinkError::protocol(format!(
                "{}: write after finish",
                self.target
            )));
        }
        if self.failed {
            return Err(SinkError::new(
                SinkErrorKind::Io,
                format!("{}: connection already failed", self.target),
            ));
        }
        self.gate.check(au, &self.target)?;
        let items = self.packer.pack(au, &self.target)?;
        let r = (|| -> Result<(), SinkError> {
            self.drain_input()?;
            for (ts, body) in items {
                self.send_video(ts, body)?;
                self.last_ts = ts;
            }
            Ok(())
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
        let mut result = Ok(());
        if !self.failed {
            if self.gate.started() {
                let end = video_tag_body(self.info.codec, &VideoPayload::EndOfSequence);
                result = self.send_video(self.last_ts, end);
            }
            if result.is_ok() {
                if let Ok(res) = self.session.stop_publishing() {
                    let stream = self.take_stream()?;
                    let mut ev = Vec::new();
                    result = self.send_results(&stream, res, &mut ev);
                    self.stream = Some(stream);
                }
            }
        }
        if let Some(s) = self.stream.take() {
            let _ = s.shutdown(Shutdown::Write);
            // Give the server a moment to read everything before the socket closes.
            let _ = s.set_read_timeout(Some(std::time::Duration::from_millis(500)));
            let mut b = [0u8; 4096];
            let mut s2 = &s;
            let end = Instant::now() + std::time::Duration::from_millis(1000);
            while Instant::now() < end {
                match s2.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
        result
    }

    fn is_network(&self) -> bool {
        true
    }
}

impl Drop for RtmpSink {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
