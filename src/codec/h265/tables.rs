//! Constant tables from the H.265 specification (context init values, scans, etc.).

// Context index layout used by this encoder.
pub const CTX_SPLIT_CU: usize = 0; // 3
pub const CTX_SKIP: usize = 3; // 3
pub const CTX_PRED_MODE: usize = 6;
pub const CTX_PART_MODE: usize = 7;
pub const CTX_PREV_INTRA: usize = 8;
pub const CTX_CHROMA_PRED: usize = 9;
pub const CTX_MERGE_FLAG: usize = 10;
pub const CTX_MERGE_IDX: usize = 11;
pub const CTX_MVD_G0: usize = 12;
pub const CTX_MVD_G1: usize = 13;
pub const CTX_MVP: usize = 14;
pub const CTX_RQT_ROOT: usize = 15;
// 16..19: split_transform_flag (never coded with this configuration)
pub const CTX_CBF_LUMA: usize = 19; // 2
pub const CTX_CBF_CHROMA: usize = 21; // 4
pub const CTX_LAST_X: usize = 25; // 18
pub const CTX_LAST_Y: usize = 43; // 18
pub const CTX_CSBF: usize = 61; // 4
pub const CTX_SIG: usize = 65; // 42
pub const CTX_GT1: usize = 107; // 24
pub const CTX_GT2: usize = 131; // 6
/// inter_pred_idc: contexts 0..=3 by CU depth for the first bin, 4 for the second (B slices).
pub const CTX_INTER_PRED: usize = 137; // 5
pub const NUM_CTX: usize = 142;

pub const CTX_INIT_I: [u8; NUM_CTX] = [
    139, 141, 157, // split
    154, 154, 154, // skip
    154, // pred mode
    184, // part mode
    184, // prev intra
    63,  // chroma pred
    154, // merge flag
    154, // merge idx
    154, 154, // mvd
    154, // mvp
    154, // rqt root
    153, 138, 138, // split tu
    111, 141, // cbf luma
    94, 138, 182, 154, // cbf chroma
    110, 110, 124, 125, 140, 153, 125, 127, 140, 109, 111, 143, 127, 111, 79, 108, 123, 63, 110,
    110, 124, 125, 140, 153, 125, 127, 140, 109, 111, 143, 127, 111, 79, 108, 123, 63, 91, 171,
    134, 141, // csbf
    111, 111, 125, 110, 110, 94, 124, 108, 124, 107, 125, 141, 179, 153, 125, 107, 125, 141, 179,
    153, 125, 107, 125, 141, 179, 153, 125, 140, 139, 182, 182, 152, 136, 152, 136, 153, 136, 139,
    111, 136, 139, 111, // sig
    140, 92, 137, 138, 140, 152, 138, 139, 153, 74, 149, 92, 139, 107, 122, 152, 140, 179, 166,
    182, 140, 227, 122, 197, // gt1
    138, 153, 136, 167, 152, 152, // gt2
    154, 154, 154, 154, 154, // inter pred idc (unused in I slices)
];

pub const CTX_INIT_P: [u8; NUM_CTX] = [
    107, 139, 126, // split
    197, 185, 201, // skip
    149, // pred mode
    154, // part mode
    154, // prev intra
    152, // chroma pred
    110, // merge flag
    122, // merge idx
    140, 198, // mvd
    168, // mvp
    79,  // rqt root
    124, 138, 94, // split tu
    153, 111, // cbf luma
    149, 107, 167, 154, // cbf chroma
    125, 110, 94, 110, 95, 79, 125, 111, 110, 78, 110, 111, 111, 95, 94, 108, 123, 108, 125, 110,
    94, 110, 95, 79, 125, 111, 110, 78, 110, 111, 111, 95, 94, 108, 123, 108, 121, 140, 61,
    154, // csbf
    155, 154, 139, 153, 139, 123, 123, 63, 153, 166, 183, 140, 136, 153, 154, 166, 183, 140, 136,
    153, 154, 166, 183, 140, 136, 153, 154, 170, 153, 123, 123, 107, 121, 107, 121, 167, 151, 183,
    140, 151, 183, 140, // sig
    154, 196, 196, 167, 154, 152, 167, 182, 182, 134, 149, 136, 153, 121, 136, 137, 169, 194, 166,
    167, 154, 167, 137, 182, // gt1
    107, 167, 91, 122, 107, 167, // gt2
    95, 79, 63, 31, 31, // inter pred idc
];

/// initType 2 (B slices, cabac_init_flag = 0), same layout as `CTX_INIT_P`.
pub const CTX_INIT_B: [u8; NUM_CTX] = [
    107, 139, 126, // split
    197, 185, 201, // skip
    134, // pred mode
    154, // part mode
    183, // prev intra
    152, // chroma pred
    154, // merge flag
    137, // merge idx
    169, 198, // mvd
    168, // mvp
    79,  // rqt root
    224, 167, 122, // split tu
    153, 111, // cbf luma
    149, 92, 167, 154, // cbf chroma
    125, 110, 124, 110, 95, 94, 125, 111, 111, 79, 125, 126, 111, 111, 79, 108, 123, 93, 125, 110,
    124, 110, 95, 94, 125, 111, 111, 79, 125, 126, 111, 111, 79, 108, 123, 93, 121, 140, 61,
    154, // csbf
    170, 154, 139, 153, 139, 123, 123, 63, 124, 166, 183, 140, 136, 153, 154, 166, 183, 140, 136,
    153, 154, 166, 183, 140, 136, 153, 154, 170, 153, 138, 138, 122, 121, 122, 121, 167, 151, 183,
    140, 151, 183, 140, // sig
    154, 196, 167, 167, 154, 152, 167, 182, 182, 134, 149, 136, 153, 121, 136, 122, 169, 208, 166,
    167, 154, 152, 167, 182, // gt1
    107, 167, 91, 107, 107, 167, // gt2
    95, 79, 63, 31, 31, // inter pred idc
];

/// Intra prediction angles for modes 2..=34 (index mode-2).
pub const INTRA_ANGLE: [i32; 33] = [
    32, 26, 21, 17, 13, 9, 5, 2, 0, -2, -5, -9, -13, -17, -21, -26, -32, -26, -21, -17, -13, -9,
    -5, -2, 0, 2, 5, 9, 13, 17, 21, 26, 32,
];

pub fn inv_angle(angle: i32) -> i32 {
    match angle {
        -2 => -4096,
        -5 => -1638,
        -9 => -910,
        -13 => -630,
        -17 => -482,
        -21 => -390,
        -26 => -315,
        -32 => -256,
        _ => 0,
    }
}

pub const LUMA_FILTER: [[i32; 8]; 4] = [
    [0, 0, 0, 64, 0, 0, 0, 0],
    [-1, 4, -10, 58, 17, -5, 1, 0],
    [-1, 4, -11, 40, 40, -11, 4, -1],
    [0, 1, -5, 17, 58, -10, 4, -1],
];

pub const CHROMA_FILTER: [[i32; 4]; 8] = [
    [0, 64, 0, 0],
    [-2, 58, 10, -2],
    [-4, 54, 16, -2],
    [-6, 46, 28, -4],
    [-4, 36, 36, -4],
    [-4, 28, 46, -6],
    [-2, 16, 54, -4],
    [-2, 10, 58, -2],
];

pub const TC_TABLE: [u8; 54] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3,
    3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 7, 8, 9, 10, 11, 13, 14, 16, 18, 20, 22, 24,
];

pub const BETA_TABLE: [u8; 52] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
    20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62, 64,
];

/// Chroma QP mapping for 4:2:0 (qPi -> QpC).
pub fn chroma_qp(qpi: i32) -> i32 {
    const T: [i32; 14] = [29, 30, 31, 32, 33, 33, 34, 34, 35, 35, 36, 36, 37, 37];
    if qpi < 30 {
        qpi
    } else if qpi <= 43 {
        T[(qpi - 30) as usize]
    } else {
        qpi - 6
    }
}

/// Group index for last significant coefficient position.
pub const GROUP_IDX: [u8; 32] = [
    0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9,
];
pub const MIN_IN_GROUP: [u8; 10] = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24];

pub const CTX_IDX_MAP_4X4: [u8; 16] = [0, 1, 4, 5, 2, 3, 4, 5, 6, 6, 8, 8, 7, 7, 8, 8];

/// Scan tables: for block width in {1,2,4,8} (in units) and scanIdx {0 diag,1 hor,2 ver},
/// list of (x,y) positions.
pub struct Scans {
    pub s: [[Vec<(u8, u8)>; 3]; 4],
}

fn diag(n: usize) -> Vec<(u8, u8)> {
    let mut v = Vec::with_capacity(n * n);
    let mut x: i32 = 0;
    let mut y: i32 = 0;
    loop {
        while y >= 0 {
            if (x as usize) < n && (y as usize) < n {
                v.push((x as u8, y as u8));
            }
            y -= 1;
            x += 1;
        }
        y = x;
        x = 0;
        if v.len() >= n * n {
            break;
        }
    }
    v
}

impl Scans {
    pub fn new() -> Self {
        let mk = |n: usize| -> [Vec<(u8, u8)>; 3] {
            let d = diag(n);
            let mut h = Vec::new();
            let mut ve = Vec::new();
            for y in 0..n {
                for x in 0..n {
                    h.push((x as u8, y as u8));
                    ve.push((y as u8, x as u8));
                }
            }
            [d, h, ve]
        };
        Scans {
            s: [mk(1), mk(2), mk(4), mk(8)],
        }
    }
}

/// Returns the shared scan tables.
pub fn scans() -> &'static Scans {
    use std::sync::OnceLock;
    static S: OnceLock<Scans> = OnceLock::new();
    S.get_or_init(Scans::new)
}
