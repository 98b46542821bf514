//! Replays every file of fuzz/corpus/<target>/ through the same functions
//! the libFuzzer targets call (src/fuzzing.rs), then runs a short seeded
//! mutation loop over each corpus, so CI exercises every fuzz target
//! without the fuzzer. A failure names the target and the input.

use std::path::{Path, PathBuf};

use venc::fuzzing::TARGETS;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let d = std::fs::read(&p).unwrap();
            (p, d)
        })
        .collect()
}

fn run(name: &str, f: fn(&[u8]), what: &str, data: &[u8]) {
    if std::panic::catch_unwind(|| f(data)).is_err() {
        panic!("fuzz target {name} failed on {what}: {data:02x?}");
    }
}

#[test]
fn every_target_has_a_corpus() {
    for (name, _) in TARGETS {
        assert!(!corpus(name).is_empty(), "fuzz/corpus/{name} is empty");
    }
    // And every corpus directory belongs to a target.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for e in std::fs::read_dir(dir).unwrap() {
        let n = e.unwrap().file_name().into_string().unwrap();
        assert!(
            TARGETS.iter().any(|(t, _)| *t == n),
            "corpus {n} has no target"
        );
    }
}

#[test]
fn corpus_replays_clean() {
    for (name, f) in TARGETS {
        for (path, data) in corpus(name) {
            run(name, *f, &path.display().to_string(), &data);
        }
    }
}

/// xorshift64*: the same inputs on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    const INTERESTING: [u8; 10] = [0, 1, 0x7f, 0x80, 0xff, b'=', b'\n', b'/', b'%', b':'];
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if !data.is_empty() => {
                let i = rng.below(data.len());
                data.remove(i);
            }
            3 => {
                let i = rng.below(data.len() + 1);
                data.insert(i, rng.next() as u8);
            }
            4 if !other.is_empty() => {
                // Splice a piece of another corpus file.
                let s = rng.below(other.len());
                let e = s + rng.below(other.len() - s + 1);
                let i = rng.below(data.len() + 1);
                data.splice(i..i, other[s..e].iter().copied());
            }
            _ => data.truncate(rng.below(data.len() + 1)),
        }
    }
}

#[test]
fn seeded_mutation_loop() {
    let iterations: usize = std::env::var("VENC_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    for (ti, (name, f)) in TARGETS.iter().enumerate() {
        let seeds = corpus(name);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ti as u64);
        for _ in 0..iterations {
            let mut data = seeds[rng.below(seeds.len())].1.clone();
            let other = &seeds[rng.below(seeds.len())].1;
            mutate(&mut rng, &mut data, other);
            run(name, *f, "a seeded mutation", &data);
        }
    }
}
