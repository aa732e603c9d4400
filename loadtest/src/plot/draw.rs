//! The picture: a title, the latency percentile curves (top) and the
//! rates over time (bottom), one colour per series, a legend in each.

use super::font::FAMILY;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

pub const SIZE: (u32, u32) = (960, 720);

/// Colour-blind-safe (Okabe–Ito), in order.
const COLOURS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
];

pub struct Series {
    pub label: String,
    /// (percentile %, µs).
    pub curve: Vec<(f64, u64)>,
    /// (seconds, in per s, out per s).
    pub rates: Vec<(f64, f64, f64)>,
}

pub struct Chart {
    pub title: String,
    /// Message latency and rates; false: handshakes (CONNACK latency,
    /// connections per second).
    pub messages: bool,
    pub series: Vec<Series>,
}

pub fn colour(i: usize) -> RGBColor {
    COLOURS[i % COLOURS.len()]
}

pub fn svg(path: &Path, c: &Chart) -> Result<(), String> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw(&root, c)?;
    root.present().map_err(|e| e.to_string())
}

pub fn png(path: &Path, c: &Chart) -> Result<(), String> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    draw(&root, c)?;
    root.present().map_err(|e| e.to_string())
}

type Area<'a, DB> = DrawingArea<DB, Shift>;

fn draw<DB: DrawingBackend>(root: &Area<DB>, c: &Chart) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(&c.title, (FAMILY, 22)).map_err(err)?;
    let (top, bottom) = root.split_vertically(SIZE.1 * 56 / 100);
    latency(&top, c).map_err(err)?;
    rates(&bottom, c).map_err(err)
}

/// x = log10(1/(1-p)): the median at log10(2), 99.999 % at 5.
fn x_of(percentile: f64) -> f64 {
    (100.0 / (100.0 - percentile).max(1e-9)).log10()
}

/// The percentile axis: linear in log10(1/(1-p)), ticks at the median and
/// every added nine (plotters' own f64 axis picks round numbers instead).
struct PercentileAxis;

impl PercentileAxis {
    const FIRST: f64 = std::f64::consts::LOG10_2;
    const LAST: f64 = 5.0;
}

impl Ranged for PercentileAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, x: &f64, limit: (i32, i32)) -> i32 {
        let f = (x - Self::FIRST) / (Self::LAST - Self::FIRST);
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, _: H) -> Vec<f64> {
        vec![Self::FIRST, 1.0, 2.0, 3.0, 4.0, 5.0]
    }

    fn range(&self) -> Range<f64> {
        Self::FIRST..Self::LAST
    }
}

pub fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let s = format!("{p:.3}");
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

fn latency_label(us: f64) -> String {
    let (v, unit) = match us {
        u if u >= 1e6 => (u / 1e6, "s"),
        u if u >= 1e3 => (u / 1e3, "ms"),
        u => (u, "µs"),
    };
    format!("{} {unit}", trim(v))
}

fn rate_label(v: f64) -> String {
    match v {
        v if v >= 1e6 => format!("{}M", trim(v / 1e6)),
        v if v >= 1e3 => format!("{}k", trim(v / 1e3)),
        v => trim(v),
    }
}

/// At most two decimals, no trailing zeros.
fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Powers of ten around every curve's values.
fn latency_bounds(c: &Chart) -> (f64, f64) {
    let values = c.series.iter().flat_map(|s| s.curve.iter().map(|p| p.1));
    let (lo, hi) = values.fold((u64::MAX, 1), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let lo = 10f64.powf((lo.max(1) as f64).log10().floor());
    let hi = 10f64.powf((hi.max(1) as f64 * 1.01).log10().ceil());
    (lo, hi.max(lo * 10.0))
}

fn latency<DB: DrawingBackend>(
    area: &Area<DB>,
    c: &Chart,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (y0, y1) = latency_bounds(c);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(36)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(PercentileAxis, (y0..y1).log_scale())?;
    let what = match c.messages {
        true => "publish-to-delivery latency",
        false => "CONNACK latency (connect + handshake)",
    };
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc(what)
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| latency_label(*y))
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .draw()?;
    for (i, s) in c.series.iter().enumerate() {
        let points = s.curve.iter().map(|&(p, us)| (x_of(p), us.max(1) as f64));
        named_line(&mut chart, i, &s.label, points)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// Series `i`'s thick line, named in the legend.
fn named_line<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    i: usize,
    label: &str,
    points: impl IntoIterator<Item = (f64, f64)>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let col = colour(i);
    chart
        .draw_series(LineSeries::new(points, col.stroke_width(2)))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], col.stroke_width(2)));
    Ok(())
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(at)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
}

/// A rate holds over the interval that ends at its sample: a step from
/// the previous sample's time (the first from 0).
fn steps(samples: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut from = 0.0;
    let mut out = Vec::new();
    for (t, r) in samples {
        out.extend([(from, r), (t, r)]);
        from = t;
    }
    out
}

fn rates<DB: DrawingBackend>(
    area: &Area<DB>,
    c: &Chart,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let all = c.series.iter().flat_map(|s| s.rates.iter());
    let (t1, r1) = all.fold((1.0f64, 1.0f64), |(t, r), &(x, a, b)| {
        (t.max(x), r.max(a).max(b))
    });
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(36)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..t1, 0.0..r1 * 1.1)?;
    let what = match c.messages {
        true => "messages/s (thick: out, thin: in)",
        false => "connections/s",
    };
    chart
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc(what)
        .y_label_formatter(&|v| rate_label(*v))
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .draw()?;
    for (i, s) in c.series.iter().enumerate() {
        named_line(
            &mut chart,
            i,
            &s.label,
            steps(s.rates.iter().map(|r| (r.0, r.2))),
        )?;
        if c.messages {
            let sent = steps(s.rates.iter().map(|r| (r.0, r.1)));
            chart.draw_series(LineSeries::new(sent, colour(i).mix(0.5).stroke_width(1)))?;
        }
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}
