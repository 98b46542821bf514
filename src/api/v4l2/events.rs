//! Event subscriptions and the pending-event queue. An encoder offers only
//! EOS; SOURCE_CHANGE belongs to decoders and is refused.

use std::collections::VecDeque;

use super::error::{einval, V4l2Error, VResult};
use super::uapi::{EVENT_ALL, EVENT_EOS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub type_: u32,
    pub sequence: u32,
    /// CLOCK_MONOTONIC when it was queued.
    pub timestamp: (i64, i64),
    /// Events still pending after this one.
    pub pending: u32,
}

#[derive(Debug, Default)]
pub struct Events {
    eos: bool,
    queue: VecDeque<Event>,
    sequence: u32,
}

fn monotonic() -> (i64, i64) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec, ts.tv_nsec)
}

impl Events {
    pub fn subscribe(&mut self, type_: u32) -> VResult<()> {
        match type_ {
            EVENT_EOS => {
                self.eos = true;
                Ok(())
            }
            _ => Err(einval(format!(
                "event type {type_} cannot be subscribed (an encoder has only EOS)"
            ))),
        }
    }

    pub fn unsubscribe(&mut self, type_: u32) -> VResult<()> {
        if type_ == EVENT_EOS || type_ == EVENT_ALL {
            self.eos = false;
            self.queue.clear();
        }
        Ok(())
    }

    /// Queues EOS if subscribed.
    pub fn eos(&mut self) {
        if self.eos {
            self.queue.push_back(Event {
                type_: EVENT_EOS,
                sequence: self.sequence,
                timestamp: monotonic(),
                pending: 0,
            });
            self.sequence = self.sequence.wrapping_add(1);
        }
    }

    pub fn pending(&self) -> bool {
        !self.queue.is_empty()
    }

    /// DQEVENT: ENOENT when nothing is pending.
    pub fn dequeue(&mut self) -> VResult<Event> {
        let mut e = self
            .queue
            .pop_front()
            .ok_or_else(|| V4l2Error::new(libc::ENOENT, "no event is pending"))?;
        e.pending = self.queue.len() as u32;
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::v4l2::uapi::EVENT_SOURCE_CHANGE;

    #[test]
    fn only_eos_is_offered() {
        let mut ev = Events::default();
        assert_eq!(
            ev.subscribe(EVENT_SOURCE_CHANGE).unwrap_err().errno,
            libc::EINVAL
        );
        ev.eos();
        assert_eq!(ev.dequeue().unwrap_err().errno, libc::ENOENT);
        ev.subscribe(EVENT_EOS).unwrap();
        ev.eos();
        ev.eos();
        let e = ev.dequeue().unwrap();
        assert_eq!((e.type_, e.sequence, e.pending), (EVENT_EOS, 0, 1));
        ev.unsubscribe(EVENT_ALL).unwrap();
        assert!(!ev.pending());
    }
}
