use super::draw::colour;
use super::*;
use svg::{polylines, texts};

#[path = "../../tests/common/svg.rs"]
mod svg;

/// A saved result as `--json` writes it, trimmed to what charts read.
fn json(scenario: &str, scale: u64) -> String {
    let curve: Vec<(f64, u64)> = [50.0, 90.0, 99.0, 99.9, 99.99, 99.999]
        .iter()
        .zip(1..)
        .map(|(&p, i)| (p, i * i * scale))
        .collect();
    let timeline: Vec<Sample> = (1..=5)
        .map(|t| Sample {
            t_s: t as f64,
            sent_per_s: 1000.0 * scale as f64,
            delivered_per_s: 990.0 * scale as f64,
            connected_per_s: 0.0,
        })
        .collect();
    serde_json::json!({
        "scenario": scenario, "broker": "127.0.0.1:1883", "mqtt": "3.1.1", "qos": 1,
        "publishers": 10, "subscribers": 1, "payload_bytes": 16,
        "latency_curve_us": curve, "timeline": timeline,
        "connections": { "connack_curve_us": [] },
        "exit_code": 0,
    })
    .to_string()
}

/// A file in a directory of this test alone (removed when it passes).
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let d =
            std::env::temp_dir().join(format!("shardmq-bench-plot-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

#[test]
fn two_runs_on_one_chart_one_curve_and_legend_each() {
    let dir = Scratch::new("two");
    let scratch = |n: &str| dir.file(n);
    let (a, b) = (scratch("shardmq.json"), scratch("mosq.json"));
    std::fs::write(&a, json("fanin", 10)).unwrap();
    // Progress lines before the JSON (`--json` without -q, 2>&1).
    std::fs::write(&b, format!("  1.0s run ...\n{}\n", json("fanin", 30))).unwrap();
    let out = scratch("both.svg");
    let args = PlotArgs {
        files: vec![
            a.display().to_string(),
            format!("Mosquitto={}", b.display()),
        ],
        output: out.clone(),
        title: None,
    };
    command(&args).unwrap();
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..100]);
    let lines = polylines(&svg);
    let texts = texts(&svg);
    for (i, label) in ["shardmq", "Mosquitto"].iter().enumerate() {
        let col = hex(colour(i));
        // The curve (6 points), out and in rates (5 steps of 2 points
        // each), and a 2-point legend sample in each panel.
        let mine: Vec<usize> = lines
            .iter()
            .filter(|(c, _)| c.eq_ignore_ascii_case(&col))
            .map(|l| l.1)
            .collect();
        assert_eq!(
            mine.iter().filter(|&&n| n == 6).count(),
            1,
            "{label}: {mine:?}"
        );
        assert_eq!(
            mine.iter().filter(|&&n| n == 10).count(),
            2,
            "{label}: {mine:?}"
        );
        assert_eq!(
            mine.iter().filter(|&&n| n == 2).count(),
            2,
            "{label}: {mine:?}"
        );
        assert_eq!(texts.iter().filter(|t| t == label).count(), 2, "{label}");
    }
    for tick in ["50%", "99%", "99.999%"] {
        assert!(texts.iter().any(|t| t == tick), "x tick {tick}: {texts:?}");
    }
    assert!(texts.contains(&"fanin: 10 → 1, QoS 1, 16 B, MQTT 3.1.1".to_string()));
}

#[test]
fn png_by_extension() {
    let dir = Scratch::new("png");
    let scratch = |n: &str| dir.file(n);
    let a = scratch("one.json");
    std::fs::write(&a, json("p2p", 1)).unwrap();
    let out = scratch("one.png");
    let args = PlotArgs {
        files: vec![a.display().to_string()],
        output: out.clone(),
        title: Some("t".into()),
    };
    command(&args).unwrap();
    let png = std::fs::read(&out).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 10_000, "a chart, not an empty image");
}

#[test]
fn refusals_say_why() {
    let dir = Scratch::new("refusals");
    let scratch = |n: &str| dir.file(n);
    assert!(format_of(Path::new("x.jpg")).is_err());
    assert_eq!(format_of(Path::new("x.SVG")), Ok(Format::Svg));
    let old = scratch("old.json");
    std::fs::write(
        &old,
        r#"{"scenario":"fanin","mqtt":"3.1.1","qos":0,"publishers":1,"subscribers":1,"payload_bytes":16,"connections":{}}"#,
    )
    .unwrap();
    let args = PlotArgs {
        files: vec![old.display().to_string()],
        output: scratch("old.svg"),
        title: None,
    };
    let e = command(&args).unwrap_err();
    assert!(e.contains("older shardmq-bench"), "{e}");
}

#[test]
fn percentile_axis() {
    assert_eq!(
        draw_labels(),
        ["50%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
    );
}

fn draw_labels() -> Vec<String> {
    let xs = [2f64.log10(), 1.0, 2.0, 3.0, 4.0, 5.0];
    xs.iter()
        .map(|&x| super::draw::percentile_label(x))
        .collect()
}
