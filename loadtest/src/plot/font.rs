//! The one font charts are drawn with. plotters measures text (and, for
//! PNG, draws it) through ab_glyph, which has no font of its own: a system
//! TrueType font is registered once, before the first chart.

use plotters::style::{register_font, FontStyle};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The family every text of a chart asks for.
pub const FAMILY: &str = "sans-serif";

/// Where Debian, Fedora and Arch put common sans-serif fonts.
const KNOWN: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
];

/// Register the font (once per process); the error says how to get one.
pub fn ensure() -> Result<(), String> {
    static DONE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DONE.get_or_init(load)
        .as_ref()
        .map(|_| ())
        .map_err(Clone::clone)
}

fn load() -> Result<PathBuf, String> {
    let from_env = std::env::var_os("SHARDMQ_BENCH_FONT").map(PathBuf::from);
    let candidates = from_env
        .into_iter()
        .chain(fc_match())
        .chain(KNOWN.iter().map(PathBuf::from));
    for path in candidates {
        if register(&path) {
            return Ok(path);
        }
    }
    Err(
        "charts need a TrueType font and none was found: install one \
         (Debian: apt-get install fonts-dejavu-core) or set SHARDMQ_BENCH_FONT=FILE.ttf"
            .into(),
    )
}

/// fontconfig's choice for sans-serif, when fc-match is installed.
fn fc_match() -> Option<PathBuf> {
    let out = Command::new("fc-match")
        .args(["-f", "%{file}", "sans-serif:style=Regular"])
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !s.is_empty()).then(|| PathBuf::from(s))
}

fn register(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    // plotters keeps fonts for the life of the process: leaked once.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    register_font(FAMILY, FontStyle::Normal, bytes).is_ok()
}
