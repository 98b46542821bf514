//! Annex-B NAL unit scanning, shared by the codec adapters and the sinks.

/// Splits an Annex-B buffer into NAL units (start codes removed).
pub fn split_annexb(data: &[u8]) -> Vec<&[u8]> {
    let mut units = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i + 2 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            if let Some(s) = start {
                units.push(trim_trailing_zeros(&data[s..i]));
            }
            i += 3;
            start = Some(i);
        } else {
            i += 1;
        }
    }
    if let Some(s) = start {
        if s <= data.len() {
            units.push(&data[s..]);
        }
    }
    units.retain(|u| !u.is_empty());
    units
}

fn trim_trailing_zeros(mut unit: &[u8]) -> &[u8] {
    while let [rest @ .., 0] = unit {
        unit = rest;
    }
    unit
}

/// H.264 nal_unit_type.
pub fn h264_type(unit: &[u8]) -> u8 {
    unit.first().map_or(0, |b| b & 0x1f)
}

/// Appends one NAL unit with a 4-byte start code.
pub fn push_annexb(out: &mut Vec<u8>, unit: &[u8]) {
    out.extend_from_slice(&[0, 0, 0, 1]);
    out.extend_from_slice(unit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_three_and_four_byte_start_codes() {
        let data = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4,
        ];
        let units = split_annexb(&data);
        assert_eq!(
            units,
            vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 4][..]]
        );
    }

    #[test]
    fn garbage_without_start_code_gives_nothing() {
        assert!(split_annexb(&[1, 2, 3, 4]).is_empty());
        assert!(split_annexb(&[]).is_empty());
    }
}
