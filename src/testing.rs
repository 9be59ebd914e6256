//! Shared test strategies.

use proptest::prelude::*;
use rust_decimal::Decimal;

/// Any decimal pmf can hold: mantissas of 32, 64 and 96 bits, small ones (around 0, 1 and 100
/// at every scale), and zero, each signed or not, at every scale from 0 to 28.
pub fn decimals() -> impl Strategy<Value = Decimal> {
    (any::<(u32, u32, u32)>(), any::<bool>(), 0u32..=28, 0u8..5).prop_map(
        |((lo, mid, hi), negative, scale, size)| {
            let (lo, mid, hi) = match size {
                0 => (lo, 0, 0),
                1 => (lo, mid, 0),
                2 => (lo, mid, hi),
                3 => (lo % 200_000, 0, 0),
                _ => (0, 0, 0),
            };
            Decimal::from_parts(lo, mid, hi, negative, scale)
        },
    )
}
