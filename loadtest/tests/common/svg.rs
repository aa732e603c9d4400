//! Reading back the SVG charts plotters writes (shared by the plot unit
//! tests and tests/plot.rs): what was drawn, not how it looks.

/// `<polyline>` elements: (stroke colour, number of points).
pub fn polylines(svg: &str) -> Vec<(String, usize)> {
    svg.split("<polyline")
        .skip(1)
        .map(|el| {
            let el = &el[..el.find("/>").unwrap()];
            let attr = |name: &str| {
                let from = el.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                el[from..from + el[from..].find('"').unwrap()].to_string()
            };
            (attr("stroke"), attr("points").split_whitespace().count())
        })
        .collect()
}

/// The content of every `<text>` element, trimmed.
pub fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|el| {
            let body = &el[el.find('>').unwrap() + 1..el.find("</text>").unwrap()];
            body.trim().to_string()
        })
        .collect()
}
