//! The latency distribution as HdrHistogram's plotter draws it: the
//! latency at percentiles spaced evenly on a log "1/(1-p)" axis, from the
//! median to 99.999 %, ten points a decade (`--json`, `--plot`).

use hdrhistogram::Histogram;

/// 1/(1-p) of the last point: 99.999 %.
const LAST_DECADE: f64 = 5.0;
const POINTS_PER_DECADE: f64 = 10.0;

/// (percentile, latency) pairs, percentile in %, empty without data.
pub fn percentile_curve(h: &Histogram<u64>) -> Vec<(f64, u64)> {
    if h.is_empty() {
        return Vec::new();
    }
    // The median, then every tenth of a decade (so 90, 99, 99.9 % ... are
    // points of their own).
    let first = 2f64.log10(); // 1/(1-0.5) = 2
    let tenths = (first * POINTS_PER_DECADE).floor() as usize + 1
        ..=(LAST_DECADE * POINTS_PER_DECADE) as usize;
    std::iter::once(first)
        .chain(tenths.map(|k| k as f64 / POINTS_PER_DECADE))
        .map(|t| {
            let q = 1.0 - 10f64.powf(-t);
            // Rounded so 99.9 reads 99.9, not 99.89999999999999.
            let pct = (q * 1e8).round() / 1e6;
            (pct, h.value_at_quantile(q))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::histogram;

    #[test]
    fn median_to_five_nines_rising() {
        let mut h = histogram();
        for v in 1..=100_000 {
            h.record(v).unwrap();
        }
        let c = percentile_curve(&h);
        assert_eq!(c.first().unwrap().0, 50.0);
        assert_eq!(c.last().unwrap().0, 99.999);
        assert!(c.iter().any(|&(p, _)| p == 99.9));
        assert!(c.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        let near = |v: u64, want: u64| v.abs_diff(want) * 100 <= want; // 1 %
        assert!(near(c[0].1, 50_000), "{:?}", c[0]);
        assert!(near(c.last().unwrap().1, 99_999));
        assert!(percentile_curve(&histogram()).is_empty());
    }
}
