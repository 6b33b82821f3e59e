//! A scatter plot with interval bars (ROI against spend), drawn with `plotters` like the
//! comparison plots (one plotting stack; feature `plots`).
//!
//! Ticks are the axis' own: a linear axis gets round steps, a log axis (spend spanning more
//! than 50x) powers of ten and their multiples, each labelled with the digits it needs
//! ([`tick_label`]), so two ticks never read the same.

use plotters::prelude::*;

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

const W: u32 = 760;
const H: u32 = 480;

/// The interval bars' colour (`stroke="#4488CC"` in the SVG).
pub const BAR_COLOR: RGBColor = RGBColor(68, 136, 204);

/// Labels per axis asked of plotters.
const LABELS: usize = 8;

/// A lower bound of plotters' tick step on a linear axis over `span` with [`LABELS`] labels:
/// its steps are 1, 2 or 5 times a power of ten and at least `span / LABELS`, so they need no
/// more decimals than this power of ten.
fn step_bound(span: f64) -> f64 {
    10f64.powf((span.abs().max(1e-12) / LABELS as f64).log10().floor())
}

/// A tick label on a linear axis whose ticks are `step` apart: the digits the step needs,
/// thousands as k and millions as M (10.05k, 10.1k, 250, 0.025).
pub fn tick_label_step(v: f64, step: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let scale = v.abs().max(step.abs());
    let (div, suffix) = if scale >= 1e6 {
        (1e6, "M")
    } else if scale >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let s = (step / div).abs();
    let decimals = (0..=6)
        .find(|&d| {
            let x = s * 10f64.powi(d);
            (x - x.round()).abs() < 1e-6 * x.max(1.0)
        })
        .unwrap_or(6) as usize;
    let v = v / div;
    let v = if v.abs() < 0.5 * 10f64.powi(-(decimals as i32)) {
        0.0
    } else {
        v
    };
    format!("{v:.decimals$}{suffix}")
}

/// A tick label with two significant digits (log axes, whose ticks are 1, 2 or 5 times a
/// power of ten): 20k, 1.5k, 250, 2.5, 0.25, 0.025.
pub fn tick_label(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if !v.is_finite() {
        String::new()
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        // Two significant digits.
        let d = ((-a.log10().floor()) as usize + 1).min(12);
        trim(format!("{v:.d$}"))
    }
}

/// Control characters would make the SVG invalid; plotters escapes the rest.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if (c as u32) < 0x20 { ' ' } else { c })
        .collect()
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

impl Scatter {
    /// Renders the plot as a standalone SVG document. Non-finite points are left out; bars
    /// above `y_max` are drawn to the edge.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Drawing into a String does no I/O; should plotters still fail, the document is
        // closed and the failure written as an XML comment.
        if let Err(e) = self.draw(&mut out) {
            let cut = out.rfind("</svg>").unwrap_or(out.len());
            out.truncate(cut);
            out.push_str(&format!(
                "<!-- plot failed: {} --></svg>",
                clean(&e.to_string()).replace("--", "- -")
            ));
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }

    fn draw(&self, out: &mut String) -> DrawResult {
        let pts: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| p.x.is_finite() && p.y.is_finite() && (!self.log_x || p.x > 0.0))
            .collect();
        let (mut x0, mut x1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.min(p.x), a.1.max(p.x))
        });
        if !x0.is_finite() {
            (x0, x1) = (1.0, 10.0);
        }
        if self.log_x {
            (x0, x1) = (x0 / 1.3, x1 * 1.3);
        } else {
            if x1 - x0 < 1e-9 {
                (x0, x1) = (x0 - 0.5, x1 + 0.5);
            }
            let pad = (x1 - x0) * 0.05;
            (x0, x1) = ((x0 - pad).max(0.0), x1 + pad);
        }
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
        let clamp = |y: f64| y.clamp(y0, y1);
        let root = SVGBackend::with_string(out, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut b = ChartBuilder::on(&root);
        b.caption(clean(&self.title), ("sans-serif", 15))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(60);
        let (x_step, y_step) = (step_bound(x1 - x0), step_bound(y1 - y0));
        let x_label = |v: &f64| {
            if self.log_x {
                tick_label(*v)
            } else {
                tick_label_step(*v, x_step)
            }
        };
        let y_label = |v: &f64| tick_label_step(*v, y_step);
        // The same drawing on a linear or a log spend axis (two coordinate types).
        macro_rules! body {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(clean(&self.x_label))
                    .y_desc(clean(&self.y_label))
                    .x_labels(LABELS)
                    .y_labels(LABELS)
                    .x_label_formatter(&x_label)
                    .y_label_formatter(&y_label)
                    .light_line_style(RGBColor(240, 240, 240))
                    .draw()?;
                if let Some(r) = self.reference_y
                    && r >= y0
                    && r <= y1
                {
                    chart.draw_series(DashedLineSeries::new(
                        [(x0, r), (x1, r)],
                        5,
                        4,
                        RGBColor(204, 51, 51).stroke_width(1),
                    ))?;
                }
                chart.draw_series(pts.iter().map(|p| {
                    let lo = if p.lo.is_finite() { p.lo } else { p.y };
                    let hi = if p.hi.is_finite() { p.hi } else { y1 };
                    PathElement::new(
                        vec![(p.x, clamp(lo)), (p.x, clamp(hi))],
                        BAR_COLOR.stroke_width(2),
                    )
                }))?;
                chart
                    .draw_series(pts.iter().map(|p| {
                        Circle::new((p.x, clamp(p.y)), 3, RGBColor(34, 51, 85).filled())
                    }))?;
                chart.draw_series(pts.iter().filter(|p| !p.label.is_empty()).map(|p| {
                    EmptyElement::at((p.x, clamp(p.y)))
                        + Text::new(clean(&p.label), (6, -14), ("sans-serif", 11))
                }))?;
            }};
        }
        if self.log_x {
            body!(b.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?);
        } else {
            body!(b.build_cartesian_2d(x0..x1, y0..y1)?);
        }
        root.present()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks_of(svg: &str) -> Vec<String> {
        // Tick labels are <text> elements whose content is a number.
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = t.split('>').nth(1)?.split('<').next()?.trim().to_owned();
                body.chars()
                    .next()
                    .filter(|c| c.is_ascii_digit())
                    .map(|_| body)
            })
            .collect()
    }

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
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"), "{s}");
        assert_eq!(s.matches("<circle").count(), 2);
        assert_eq!(s.matches("stroke=\"#4488CC\"").count(), 2);
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
    }

    #[test]
    fn ticks_are_distinct_on_narrow_and_log_axes() {
        for (log_x, xs) in [
            (false, [10_000.0, 10_400.0]),
            (true, [3.0, 40_000.0]),
            (false, [0.011, 0.019]),
        ] {
            let sc = Scatter {
                title: String::new(),
                x_label: "spend".into(),
                y_label: "ROI".into(),
                points: xs
                    .iter()
                    .map(|&x| Point {
                        x,
                        y: 1.0,
                        lo: 0.5,
                        hi: 2.0,
                        label: String::new(),
                    })
                    .collect(),
                log_x,
                reference_y: None,
                y_max: None,
            };
            let t = ticks_of(&sc.render());
            assert!(t.len() >= 4, "{t:?}");
            let mut u = t.clone();
            u.sort();
            u.dedup();
            assert_eq!(u.len(), t.len(), "ticks repeat: {t:?}");
        }
        assert_eq!(tick_label_step(10_050.0, 50.0), "10.05k");
        assert_eq!(tick_label_step(0.3, 0.1), "0.3");
        assert_eq!(tick_label_step(-0.0, 0.5), "0.0");
        assert!((step_bound(460.0) - 10.0).abs() < 1e-12);
        assert_eq!(tick_label(12_500.0), "12.5k");
        assert_eq!(tick_label(0.025), "0.025");
        assert_eq!(tick_label(2.5), "2.5");
        assert_eq!(tick_label(250.0), "250");
    }
}
