//! A small dependency-free SVG scatter plot with interval bars (ROI against spend).
//!
//! Written by hand so the analysis always builds, whatever optional plotting features are on.

use std::fmt::Write as _;

/// One point with a vertical interval and an optional label.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Horizontal position (data units).
    pub x: f64,
    /// Vertical position (data units).
    pub y: f64,
    /// Lower end of the interval bar.
    pub lo: f64,
    /// Upper end of the interval bar.
    pub hi: f64,
    /// Text drawn next to the point (empty: none).
    pub label: String,
}

/// A scatter plot with interval bars.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    /// Title at the top.
    pub title: String,
    /// Horizontal axis label.
    pub x_label: String,
    /// Vertical axis label.
    pub y_label: String,
    /// The points; non-finite ones are left out.
    pub points: Vec<Point>,
    /// Use a log10 horizontal axis (points with x <= 0 are left out).
    pub log_x: bool,
    /// A dashed horizontal reference line (e.g. break-even ROI = 1).
    pub reference_y: Option<f64>,
    /// Upper limit of the vertical axis; bars above it are clipped (drawn to the edge).
    pub y_max: Option<f64>,
}

const W: f64 = 760.0;
const H: f64 = 480.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;

/// Escapes text for XML content and attributes.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// Round-number tick positions covering `[lo, hi]`.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 50 {
        out.push(t);
        t += step;
    }
    out
}

fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Scatter {
    /// Renders the plot as a standalone SVG document.
    pub fn render(&self) -> String {
        let pts: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| p.x.is_finite() && p.y.is_finite() && (!self.log_x || p.x > 0.0))
            .collect();
        let tx = |x: f64| if self.log_x { x.log10() } else { x };
        let (mut x0, mut x1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.min(tx(p.x)), a.1.max(tx(p.x)))
        });
        if !x0.is_finite() {
            (x0, x1) = (0.0, 1.0);
        }
        if x1 - x0 < 1e-9 {
            x0 -= 0.5;
            x1 += 0.5;
        }
        let pad = (x1 - x0) * 0.05;
        let (x0, x1) = (
            if self.log_x {
                x0 - pad
            } else {
                (x0 - pad).max(0.0)
            },
            x1 + pad,
        );
        let finite_hi = |p: &&Point| if p.hi.is_finite() { p.hi } else { p.y };
        let mut y1 = pts.iter().map(finite_hi).fold(f64::NEG_INFINITY, f64::max);
        if let Some(r) = self.reference_y {
            y1 = y1.max(r);
        }
        if let Some(m) = self.y_max {
            y1 = y1.min(m);
        }
        let mut y0 = pts
            .iter()
            .map(|p| if p.lo.is_finite() { p.lo } else { p.y })
            .fold(f64::INFINITY, f64::min)
            .min(0.0);
        if !y1.is_finite() || !y0.is_finite() || y1 - y0 < 1e-9 {
            (y0, y1) = (0.0, 1.0);
        }
        let y1 = y1 + (y1 - y0) * 0.05;
        let pw = W - LEFT - RIGHT;
        let ph = H - TOP - BOTTOM;
        let sx = |x: f64| LEFT + (tx(x) - x0) / (x1 - x0) * pw;
        let sy = |y: f64| TOP + (1.0 - (y.clamp(y0, y1) - y0) / (y1 - y0)) * ph;

        let mut s = String::with_capacity(4096 + pts.len() * 200);
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11">"#
        );
        s.push('\n');
        let _ = writeln!(
            s,
            r#"<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>"#
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
            W / 2.0,
            escape(&self.title)
        );
        // Axes.
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="#333"/>"##,
            TOP + ph,
            LEFT + pw,
            TOP + ph
        );
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="#333"/>"##,
            TOP + ph
        );
        // Ticks.
        for t in ticks(x0, x1, 6) {
            let x = LEFT + (t - x0) / (x1 - x0) * pw;
            let v = if self.log_x { 10f64.powf(t) } else { t };
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#333"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
                TOP + ph,
                TOP + ph + 4.0,
                TOP + ph + 16.0,
                fmt_num(v)
            );
        }
        for t in ticks(y0, y1, 6) {
            let y = sy(t);
            let _ = writeln!(
                s,
                r##"<line x1="{}" y1="{y:.1}" x2="{LEFT}" y2="{y:.1}" stroke="#333"/><line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT - 4.0,
                LEFT + pw,
                LEFT - 6.0,
                y + 4.0,
                fmt_num(t)
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            LEFT + pw / 2.0,
            H - 12.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            s,
            r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>"#,
            TOP + ph / 2.0,
            TOP + ph / 2.0,
            escape(&self.y_label)
        );
        if let Some(r) = self.reference_y
            && r >= y0
            && r <= y1
        {
            let y = sy(r);
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#c33" stroke-dasharray="5,4"/>"##,
                LEFT + pw
            );
        }
        // Bars, then points, then labels.
        for p in &pts {
            let x = sx(p.x);
            let lo = if p.lo.is_finite() { p.lo } else { p.y };
            let hi = if p.hi.is_finite() { p.hi } else { y1 };
            let _ = writeln!(
                s,
                r##"<line class="bar" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#48c" stroke-width="1.5"/>"##,
                sy(lo),
                sy(hi)
            );
        }
        for p in &pts {
            let _ = writeln!(
                s,
                r##"<circle class="point" cx="{:.1}" cy="{:.1}" r="3.5" fill="#235"/>"##,
                sx(p.x),
                sy(p.y)
            );
        }
        for p in pts.iter().filter(|p| !p.label.is_empty()) {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                sx(p.x) + 6.0,
                sy(p.y) - 4.0,
                escape(&p.label)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_points_bars_and_escapes() {
        let sc = Scatter {
            title: "ROI <by> plan & keyword".into(),
            x_label: "spend".into(),
            y_label: "ROI".into(),
            points: vec![
                Point {
                    x: 10.0,
                    y: 2.0,
                    lo: 1.0,
                    hi: 3.0,
                    label: "a\"b".into(),
                },
                Point {
                    x: 1000.0,
                    y: 0.5,
                    lo: 0.2,
                    hi: f64::INFINITY,
                    label: String::new(),
                },
                Point {
                    x: f64::NAN,
                    y: 1.0,
                    lo: 0.0,
                    hi: 2.0,
                    label: "gone".into(),
                },
            ],
            log_x: true,
            reference_y: Some(1.0),
            y_max: Some(10.0),
        };
        let s = sc.render();
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert_eq!(s.matches("<circle").count(), 2);
        assert_eq!(s.matches("class=\"bar\"").count(), 2);
        assert!(s.contains("ROI &lt;by&gt; plan &amp; keyword"));
        assert!(s.contains("a&quot;b") && !s.contains("gone"));
        assert!(!s.contains("NaN") && !s.contains("inf"));
        // An empty plot still renders.
        let e = Scatter {
            points: vec![],
            ..sc
        }
        .render();
        assert!(e.contains("</svg>") && !e.contains("NaN"));
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    }
}
