//! Deterministic pseudo-random topics for the router's randomized tests.

/// Deterministic pseudo-random numbers (64-bit LCG, top bits used).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Topic levels mixing empty levels and a `$` level, so matching edge cases
/// come up often.
pub const LEVELS: &[&str] = &["a", "b", "", "$s", "ab"];
