//! The stateful-encoder state machine of the kernel documentation
//! (4.5.2.3): Initialization → Encoding (both queues streaming) → Drain
//! (ENCODER_CMD STOP) → Stopped; START or a STREAMOFF/STREAMON pair on
//! OUTPUT resumes, STREAMOFF on CAPTURE resets. Pure bookkeeping: the
//! device acts on the outcomes.

use super::error::{einval, V4l2Error, VResult};
use super::uapi::{ENC_CMD_START, ENC_CMD_STOP};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not both queues streaming.
    Initialization,
    Encoding,
    Drain,
    Stopped,
}

/// What an encoder command asks the device to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdOutcome {
    /// Accepted, nothing to do (STOP while not streaming, START while encoding).
    Nothing,
    /// Mark the queued OUTPUT buffers as the end of the stream.
    BeginDrain,
    /// Leave Stopped and process OUTPUT buffers again.
    Resume,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Machine {
    pub output_on: bool,
    pub capture_on: bool,
    pub draining: bool,
    pub stopped: bool,
    /// The CAPTURE buffer flagged LAST was dequeued: DQBUF(CAPTURE) → EPIPE.
    pub last_dequeued: bool,
    /// The drain ended with no CAPTURE buffer queued: the next one queued is
    /// returned at once, empty, flagged LAST.
    pub next_buf_last: bool,
}

impl Machine {
    pub fn phase(&self) -> Phase {
        if self.draining {
            Phase::Drain
        } else if self.stopped {
            Phase::Stopped
        } else if self.output_on && self.capture_on {
            Phase::Encoding
        } else {
            Phase::Initialization
        }
    }

    /// OUTPUT buffers are taken for encoding (Encoding or Drain).
    pub fn processing(&self) -> bool {
        self.output_on && self.capture_on && !self.stopped
    }

    /// VIDIOC_TRY_ENCODER_CMD: only START and STOP exist.
    pub fn try_cmd(cmd: u32) -> VResult<()> {
        match cmd {
            ENC_CMD_START | ENC_CMD_STOP => Ok(()),
            _ => Err(einval(format!(
                "encoder command {cmd} is not supported (only START and STOP)"
            ))),
        }
    }

    /// VIDIOC_ENCODER_CMD.
    pub fn encoder_cmd(&mut self, cmd: u32) -> VResult<CmdOutcome> {
        Self::try_cmd(cmd)?;
        if self.draining {
            return Err(V4l2Error::new(
                libc::EBUSY,
                "a drain is in progress; wait for the LAST buffer",
            ));
        }
        match cmd {
            ENC_CMD_STOP => {
                if !(self.output_on && self.capture_on) || self.stopped {
                    return Ok(CmdOutcome::Nothing);
                }
                self.draining = true;
                Ok(CmdOutcome::BeginDrain)
            }
            _ => {
                self.last_dequeued = false;
                if self.stopped {
                    self.stopped = false;
                    self.next_buf_last = false;
                    Ok(CmdOutcome::Resume)
                } else {
                    Ok(CmdOutcome::Nothing)
                }
            }
        }
    }

    /// Every OUTPUT buffer queued before STOP was encoded and delivered.
    pub fn drain_finished(&mut self) {
        if self.draining {
            self.draining = false;
            self.stopped = true;
        }
    }

    pub fn streamon(&mut self, capture: bool) {
        if capture {
            self.capture_on = true;
        } else {
            self.output_on = true;
            // Spec 4.5.2.8 step 3: an OUTPUT STREAMOFF/STREAMON pair resumes.
            if self.stopped && !self.draining {
                self.stopped = false;
            }
        }
    }

    /// Returns true when the encoder must reset (CAPTURE: new stream).
    pub fn streamoff(&mut self, capture: bool) -> bool {
        if capture {
            *self = Machine {
                output_on: self.output_on,
                ..Machine::default()
            };
            true
        } else {
            self.output_on = false;
            if self.draining {
                // The drain completes at once: the next CAPTURE buffer is LAST.
                self.draining = false;
                self.stopped = true;
                self.next_buf_last = true;
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::v4l2::uapi::{ENC_CMD_PAUSE, ENC_CMD_RESUME};

    fn streaming() -> Machine {
        let mut m = Machine::default();
        m.streamon(false);
        m.streamon(true);
        m
    }

    #[test]
    fn encoding_needs_both_queues() {
        let mut m = Machine::default();
        assert_eq!(m.phase(), Phase::Initialization);
        m.streamon(true);
        assert!(!m.processing());
        m.streamon(false);
        assert_eq!(m.phase(), Phase::Encoding);
        assert!(m.processing());
    }

    #[test]
    fn stop_when_not_streaming_does_nothing() {
        let mut m = Machine::default();
        m.streamon(false);
        assert_eq!(m.encoder_cmd(ENC_CMD_STOP), Ok(CmdOutcome::Nothing));
        assert_eq!(m.phase(), Phase::Initialization);
    }

    #[test]
    fn drain_then_start_resumes() {
        let mut m = streaming();
        assert_eq!(m.encoder_cmd(ENC_CMD_STOP), Ok(CmdOutcome::BeginDrain));
        assert_eq!(m.phase(), Phase::Drain);
        assert!(m.processing());
        assert_eq!(m.encoder_cmd(ENC_CMD_STOP).unwrap_err().errno, libc::EBUSY);
        assert_eq!(m.encoder_cmd(ENC_CMD_START).unwrap_err().errno, libc::EBUSY);
        m.drain_finished();
        assert_eq!(m.phase(), Phase::Stopped);
        assert!(!m.processing());
        m.last_dequeued = true;
        assert_eq!(m.encoder_cmd(ENC_CMD_STOP), Ok(CmdOutcome::Nothing));
        assert_eq!(m.encoder_cmd(ENC_CMD_START), Ok(CmdOutcome::Resume));
        assert!(!m.last_dequeued);
        assert_eq!(m.phase(), Phase::Encoding);
        assert_eq!(m.encoder_cmd(ENC_CMD_START), Ok(CmdOutcome::Nothing));
    }

    #[test]
    fn pause_resume_and_unknown_are_einval() {
        let mut m = streaming();
        for cmd in [ENC_CMD_PAUSE, ENC_CMD_RESUME, 77] {
            assert_eq!(m.encoder_cmd(cmd).unwrap_err().errno, libc::EINVAL);
            assert_eq!(Machine::try_cmd(cmd).unwrap_err().errno, libc::EINVAL);
        }
        assert_eq!(m.phase(), Phase::Encoding);
    }

    #[test]
    fn capture_streamoff_resets_everything() {
        let mut m = streaming();
        m.encoder_cmd(ENC_CMD_STOP).unwrap();
        m.drain_finished();
        m.last_dequeued = true;
        assert!(m.streamoff(true));
        assert_eq!(m.phase(), Phase::Initialization);
        assert!(!m.last_dequeued && !m.stopped && m.output_on);
        m.streamon(true);
        assert_eq!(m.phase(), Phase::Encoding);
    }

    #[test]
    fn output_streamoff_ends_drain_with_last_buffer() {
        let mut m = streaming();
        m.encoder_cmd(ENC_CMD_STOP).unwrap();
        assert!(!m.streamoff(false));
        assert_eq!(m.phase(), Phase::Stopped);
        assert!(m.next_buf_last);
        m.streamon(false);
        assert_eq!(m.phase(), Phase::Encoding);
    }
}
