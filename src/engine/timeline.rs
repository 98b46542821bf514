//! Timestamps for coded pictures when coding order differs from display order.
//!
//! A picture keeps the pts (and caller data) it came in with. Its dts is the
//! pts of the display picture `reorder_delay` places earlier in coding order,
//! so dts never exceeds pts and rises by one frame per packet. The first
//! `reorder_delay` packets need dts before the first pts; they extrapolate
//! one frame step back per packet, using the step between the first two
//! inputs, so they wait until that step is known (or the stream ends).

use std::collections::{BTreeMap, VecDeque};

use crate::codec::Coded;

/// One coded picture with its timestamps and the caller's data.
#[derive(Debug)]
pub struct Timed<T> {
    pub coded: Coded,
    pub pts: i64,
    pub dts: i64,
    pub meta: T,
}

pub struct Timeline<T> {
    delay: u64,
    /// Pictures taken in display order so far.
    inputs: u64,
    /// pts and caller data of pictures not yet coded, by display index.
    waiting: BTreeMap<u64, (i64, T)>,
    /// pts of display pictures still needed for dts: index `window_start`..
    window: VecDeque<i64>,
    window_start: u64,
    first_pts: [Option<i64>; 2],
    /// Coded pictures whose dts is not known yet, in coding order.
    held: VecDeque<Coded>,
    /// Pictures given out so far (the k of the next one).
    released: u64,
    last_dts: Option<i64>,
}

impl<T: Default> Timeline<T> {
    pub fn new(reorder_delay: u32) -> Timeline<T> {
        Timeline {
            delay: u64::from(reorder_delay),
            inputs: 0,
            waiting: BTreeMap::new(),
            window: VecDeque::new(),
            window_start: 0,
            first_pts: [None, None],
            held: VecDeque::new(),
            released: 0,
            last_dts: None,
        }
    }

    /// Records the next input picture, in display order.
    pub fn input(&mut self, pts: i64, meta: T) {
        if let Some(slot) = self.first_pts.get_mut(self.inputs as usize) {
            *slot = Some(pts);
        }
        self.waiting.insert(self.inputs, (pts, meta));
        self.window.push_back(pts);
        self.inputs += 1;
    }

    /// Takes coded pictures (coding order) and returns those whose
    /// timestamps are known. `end` says no more input will come.
    pub fn coded(&mut self, coded: Vec<Coded>, end: bool) -> Vec<Timed<T>> {
        self.held.extend(coded);
        let mut out = Vec::new();
        while let Some(dts) = self.next_dts(end) {
            let Some(c) = self.held.pop_front() else {
                break;
            };
            // A picture the engine reports twice, or one never given, is a
            // bug there; deliver it anyway, timed by its place in coding order.
            let (pts, meta) = self
                .waiting
                .remove(&c.display_index)
                .unwrap_or((dts, T::default()));
            let dts = self.monotonic(dts.min(pts));
            self.released += 1;
            self.trim_window();
            out.push(Timed {
                coded: c,
                pts,
                dts,
                meta,
            });
        }
        out
    }

    /// The dts of the next held packet, if it can be known yet.
    fn next_dts(&self, end: bool) -> Option<i64> {
        self.held.front()?;
        let k = self.released;
        if k >= self.delay {
            let i = k - self.delay;
            return i
                .checked_sub(self.window_start)
                .and_then(|off| self.window.get(off as usize))
                .copied();
        }
        let first = self.first_pts[0]?;
        let step = match self.first_pts[1] {
            Some(second) if second > first => second - first,
            Some(_) => 1,
            None if end => 1,
            None => return None,
        };
        let back = (self.delay - k) as i64;
        Some(first.saturating_sub(step.saturating_mul(back)))
    }

    fn monotonic(&mut self, dts: i64) -> i64 {
        let dts = match self.last_dts {
            Some(last) if dts <= last => last.saturating_add(1),
            _ => dts,
        };
        self.last_dts = Some(dts);
        dts
    }

    /// Drops pts no later packet's dts will need.
    fn trim_window(&mut self) {
        let needed_from = self.released.saturating_sub(self.delay);
        while self.window_start < needed_from && !self.window.is_empty() {
            self.window.pop_front();
            self.window_start += 1;
        }
    }

    /// Pictures given to the engine and not yet released.
    pub fn pending(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pic(display_index: u64) -> Coded {
        Coded {
            display_index,
            ..Coded::default()
        }
    }

    /// Display I0 B1 B2 P3 B4 B5 P6, coded I0 P3 B1 B2 P6 B4 B5.
    #[test]
    fn flat_b_frames_get_increasing_dts_below_pts() {
        let mut t = Timeline::new(1);
        let order = [
            vec![0],
            vec![],
            vec![],
            vec![3, 1, 2],
            vec![],
            vec![],
            vec![6, 4, 5],
        ];
        let mut out = Vec::new();
        for (i, coded) in order.iter().enumerate() {
            t.input(i as i64 * 10, i);
            out.extend(t.coded(coded.iter().map(|&d| pic(d)).collect(), false));
        }
        let got: Vec<(i64, i64)> = out.iter().map(|p| (p.pts, p.dts)).collect();
        assert_eq!(
            got,
            [
                (0, -10),
                (30, 0),
                (10, 10),
                (20, 20),
                (60, 30),
                (40, 40),
                (50, 50)
            ]
        );
        assert!(out.iter().all(|p| p.meta as i64 * 10 == p.pts));
        assert_eq!(t.pending(), 0);
    }

    #[test]
    fn first_packet_waits_for_the_frame_step() {
        let mut t = Timeline::new(1);
        t.input(100, ());
        assert!(t.coded(vec![pic(0)], false).is_empty());
        t.input(103, ());
        let out = t.coded(Vec::new(), false);
        assert_eq!((out[0].pts, out[0].dts), (100, 97));
    }

    #[test]
    fn a_lone_picture_is_released_at_the_end() {
        let mut t = Timeline::new(1);
        t.input(5, ());
        assert!(t.coded(vec![pic(0)], false).is_empty());
        let out = t.coded(Vec::new(), true);
        assert_eq!((out[0].pts, out[0].dts), (5, 4));
    }

    #[test]
    fn without_reordering_dts_equals_pts() {
        let mut t = Timeline::new(0);
        for i in 0..5 {
            t.input(i * 7, ());
            let out = t.coded(vec![pic(i as u64)], false);
            assert_eq!((out[0].pts, out[0].dts), (i * 7, i * 7));
        }
    }

    #[test]
    fn irregular_caller_pts_still_give_increasing_dts() {
        let mut t = Timeline::new(1);
        let pts = [0, 0, 5, 5, 9];
        let mut out = Vec::new();
        let order = [vec![0], vec![], vec![2, 1], vec![], vec![4, 3]];
        for (i, coded) in order.iter().enumerate() {
            t.input(pts[i], ());
            out.extend(t.coded(coded.iter().map(|&d| pic(d)).collect(), i == 4));
        }
        let dts: Vec<i64> = out.iter().map(|p| p.dts).collect();
        assert!(dts.windows(2).all(|w| w[0] < w[1]), "{dts:?}");
        assert_eq!(out.len(), 5);
    }
}
