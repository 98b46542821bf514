//! Raw Annex-B elementary stream file (.h264/.264/.h265/.265/.hevc).

use super::{AccessUnit, AuGate, Sink, SinkError, SinkErrorKind, StreamInfo};
use std::fs::File;
use std::io::{BufWriter, Write};

pub struct AnnexBSink {
    path: String,
    out: Option<BufWriter<File>>,
    gate: AuGate,
}

pub(crate) fn create_file(path: &str) -> Result<File, SinkError> {
    File::create(path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound
            || e.kind() == std::io::ErrorKind::PermissionDenied
        {
            SinkErrorKind::BadTarget
        } else {
            SinkErrorKind::Io
        };
        SinkError::new(
            kind,
            format!("cannot create {}: {e}", super::redact_url(path)),
        )
    })
}

impl AnnexBSink {
    pub fn create(path: &str, _info: &StreamInfo) -> Result<Self, SinkError> {
        let f = create_file(path)?;
        Ok(AnnexBSink {
            path: path.to_string(),
            out: Some(BufWriter::with_capacity(64 << 10, f)),
            gate: AuGate::default(),
        })
    }
}

impl Sink for AnnexBSink {
    fn write(&mut self, au: &AccessUnit) -> Result<(), SinkError> {
        let path = &self.path;
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| SinkError::protocol(format!("{path}: write after finish")))?;
        self.gate.check(au, path)?;
        if !au.data.starts_with(&[0, 0, 1]) && !au.data.starts_with(&[0, 0, 0, 1]) {
            out.write_all(&[0, 0, 0, 1])
                .map_err(|e| SinkError::io(path, e))?;
        }
        out.write_all(au.data).map_err(|e| SinkError::io(path, e))?;
        // Flushed per access unit, so a full disk fails the write of the
        // frame that did not fit, not a later one or finish().
        out.flush().map_err(|e| SinkError::io(path, e))?;
        self.gate.accept(au);
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        if let Some(mut out) = self.out.take() {
            out.flush().map_err(|e| SinkError::io(&self.path, e))?;
        }
        Ok(())
    }
    fn is_network(&self) -> bool {
        false
    }
}

impl Drop for AnnexBSink {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
