//! SVG plots (feature `plots`), built with `plotters`' SVG backend and no font rendering, so
//! they work on a machine without system fonts.
//!
//! - [`paired_difference`], the headline: each strategy's paired revenue difference from the
//!   baseline (mean over seeds, Student-t 95% interval), one row per strategy, labelled
//!   directly with its figures and a line at zero. It answers "which strategy won, and is
//!   the difference real": an interval clear of zero is a difference, overlapping intervals
//!   are ties.
//! - [`cumulative_revenue`]: cumulative revenue by day per strategy with 95% bands. Lines that
//!   coincide (a strategy equal to the baseline, learners close to each other) are told apart
//!   by a marker shape and a dash pattern per strategy and by a label at the line's end.
//! - [`hourly_spend`]: one day's cumulative spend by hour against the budget.
//!
//! [`PlotOptions`] adds lines under the title (the twin writes SIMULATION and its calibration
//! verdict there) and a file-name prefix.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::element::ComposedElement;
use plotters::prelude::*;

use crate::compare::runner::JobResult;
use crate::compare::summary::{Interval, paired};
use crate::error::{Error, Result};

const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Dash (length, gap) per strategy; (0, 0) is a solid line.
const DASHES: [(u32, u32); 5] = [(0, 0), (10, 5), (4, 4), (14, 4), (2, 6)];

/// What the plots say besides the data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlotOptions {
    /// Lines drawn under each title (e.g. "SIMULATION ..." and a calibration verdict).
    pub note: Vec<String>,
    /// The strategy differences are measured against (`None`: the first strategy in the
    /// results).
    pub baseline: Option<String>,
    /// Prefix of the file names (`None`: the scenario's name and an underscore).
    pub prefix: Option<String>,
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: format!("plot: {e}"),
    }
}

fn strategies<'a>(results: &'a [JobResult], scenario: &str) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for r in results.iter().filter(|r| r.job.scenario == scenario) {
        if !v.contains(&r.job.strategy.as_str()) {
            v.push(&r.job.strategy);
        }
    }
    v
}

/// A series per strategy: per x, the interval over seeds.
type Bands = Vec<(String, Vec<Interval>)>;

fn bands(
    results: &[JobResult],
    scenario: &str,
    points: usize,
    value: impl Fn(&JobResult, usize) -> f64,
) -> Bands {
    strategies(results, scenario)
        .into_iter()
        .map(|s| {
            let runs: Vec<&JobResult> = results
                .iter()
                .filter(|r| r.job.scenario == scenario && r.job.strategy == s)
                .collect();
            let per_x = (0..points)
                .map(|x| {
                    // `runs` is never empty: the strategy was listed from these results.
                    let xs: Vec<f64> = runs.iter().map(|r| value(r, x)).collect();
                    Interval::of(&xs).unwrap_or(Interval {
                        n: 0,
                        mean: 0.0,
                        lo: 0.0,
                        hi: 0.0,
                    })
                })
                .collect();
            (s.to_owned(), per_x)
        })
        .collect()
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// A drawing area with a white background, the title and the note lines on top; returns the
/// area left for the chart.
fn canvas<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    path: &Path,
    title: &str,
    note: &[String],
) -> Result<DrawingArea<DB, Shift>> {
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let head = 34 + 18 * note.len() as u32;
    let (top, rest) = root.split_vertically(head);
    top.draw(&Text::new(
        title.to_owned(),
        (12, 8),
        ("sans-serif", 20).into_font().color(&BLACK),
    ))
    .map_err(|e| plot_err(path, e))?;
    for (i, line) in note.iter().enumerate() {
        let color = if line.contains("FAIL") { RED } else { BLACK };
        top.draw(&Text::new(
            line.clone(),
            (12, 34 + 18 * i as i32),
            ("sans-serif", 14).into_font().color(&color),
        ))
        .map_err(|e| plot_err(path, e))?;
    }
    Ok(rest)
}

fn ensure_dir(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| plot_err(dir, e))?;
    }
    Ok(())
}

/// A pixel offset.
type Px = (i32, i32);

/// An element drawn at pixel offsets from an anchor point.
type Anchored<C, DB, E> = ComposedElement<C, DB, E, EmptyElement<Px, DB>>;

/// Vertices of marker shape `i` around (0, 0), in pixels: octagon (a circle at this size),
/// triangle, square, plus, diamond.
fn shape(i: usize) -> Vec<(i32, i32)> {
    match i % 5 {
        0 => vec![
            (-2, -5),
            (2, -5),
            (5, -2),
            (5, 2),
            (2, 5),
            (-2, 5),
            (-5, 2),
            (-5, -2),
        ],
        1 => vec![(0, -6), (6, 5), (-6, 5)],
        2 => vec![(-4, -4), (4, -4), (4, 4), (-4, 4)],
        3 => vec![
            (-2, -6),
            (2, -6),
            (2, -2),
            (6, -2),
            (6, 2),
            (2, 2),
            (2, 6),
            (-2, 6),
            (-2, 2),
            (-6, 2),
            (-6, -2),
            (-2, -2),
        ],
        _ => vec![(0, -6), (5, 0), (0, 6), (-5, 0)],
    }
}

/// Marker shape `i` at `at` (data or pixel coordinates).
fn marker<C, DB: DrawingBackend>(i: usize, at: C, color: RGBColor) -> Anchored<C, DB, Polygon<Px>>
where
    C: Clone,
{
    // The trailing empty element makes the composed type nameable.
    EmptyElement::at(at) + Polygon::new(shape(i), color.filled()) + EmptyElement::at((0, 0))
}

/// Text 8 pixels right of `at`, vertically centred on it.
fn label_at<C: Clone, DB: DrawingBackend>(
    text: String,
    at: C,
    color: RGBColor,
) -> Anchored<C, DB, Text<'static, Px, String>> {
    EmptyElement::at(at)
        + Text::new(text, (8, -7), ("sans-serif", 13).into_font().color(&color))
        + EmptyElement::at((0, 0))
}

/// Label positions at the right end of the lines, pushed apart so no two overlap.
fn spread_labels(ys: &[f64], min_gap: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..ys.len()).collect();
    order.sort_by(|&a, &b| ys[a].total_cmp(&ys[b]));
    let mut out = ys.to_vec();
    for w in 1..order.len() {
        let (lo, hi) = (order[w - 1], order[w]);
        if out[hi] - out[lo] < min_gap {
            out[hi] = out[lo] + min_gap;
        }
    }
    out
}

fn draw_lines(
    path: &Path,
    title: &str,
    note: &[String],
    (x_label, y_label): (&str, &str),
    series: &Bands,
    reference: Option<(&str, f64)>,
) -> Result<()> {
    let n = series.first().map_or(0, |s| s.1.len());
    if n == 0 {
        return Err(Error::invalid("plot", title, "no data"));
    }
    ensure_dir(path)?;
    let y_max = series
        .iter()
        .flat_map(|s| s.1.iter().map(|i| finite(i.hi).max(finite(i.mean))))
        .chain(reference.map(|r| r.1))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.05;
    let x_max = (n.max(2) - 1) as f64;
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    let area = canvas(&root, path, title, note)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .margin_right(150) // room for the direct labels
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(|e| plot_err(path, e))?;
    let whole = |x: &f64| format!("{x:.0}");
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels(n.min(16))
        .x_label_formatter(&whole)
        .y_label_formatter(&whole)
        .draw()
        .map_err(|e| plot_err(path, e))?;
    // Every series gets a marker every few points, offset per series so markers of
    // coinciding lines sit side by side instead of on top of each other.
    let every = (n / 8).max(1);
    let ends: Vec<f64> = series
        .iter()
        .map(|(_, p)| p.last().map_or(0.0, |i| finite(i.mean)))
        .collect();
    let label_y = spread_labels(&ends, y_max * 0.035);
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let upper = pts
            .iter()
            .enumerate()
            .map(|(x, p)| (x as f64, finite(p.hi)));
        let lower = pts
            .iter()
            .enumerate()
            .rev()
            .map(|(x, p)| (x as f64, finite(p.lo)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                color.mix(0.12).filled(),
            )))
            .map_err(|e| plot_err(path, e))?;
        let line: Vec<(f64, f64)> = pts
            .iter()
            .enumerate()
            .map(|(x, p)| (x as f64, finite(p.mean)))
            .collect();
        let (dash, gap) = DASHES[i % DASHES.len()];
        let style = color.stroke_width(2);
        if dash == 0 {
            chart
                .draw_series(LineSeries::new(line.clone(), style))
                .map_err(|e| plot_err(path, e))?;
        } else {
            chart
                .draw_series(DashedLineSeries::new(line.clone(), dash, gap, style))
                .map_err(|e| plot_err(path, e))?;
        }
        let offset = i % every;
        chart
            .draw_series(
                line.iter()
                    .enumerate()
                    .filter(|(x, _)| x % every == offset || *x + 1 == line.len())
                    .map(|(_, p)| marker(i, *p, color)),
            )
            .map_err(|e| plot_err(path, e))?
            .label(name.as_str())
            .legend(move |(x, y)| marker(i, (x + 9, y), color));
        // The direct label at the line's end (drawn outside the plotting area, on the right).
        let label = format!("{name} {:.0}", ends[i]);
        chart
            .plotting_area()
            .draw(&label_at(label, (x_max, label_y[i]), color))
            .map_err(|e| plot_err(path, e))?;
    }
    if let Some((name, y)) = reference {
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, y), (x_max, y)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(|e| plot_err(path, e))?
            .label(name)
            .legend(move |(x, yy)| PathElement::new(vec![(x, yy), (x + 18, yy)], BLACK));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_err(path, e))?;
    root.present().map_err(|e| plot_err(path, e))
}

fn revenue(r: &JobResult) -> f64 {
    r.metrics.revenue.units()
}

/// The headline plot: each strategy's paired revenue difference from `baseline` on
/// `scenario` (mean over seeds and its Student-t 95% interval), one row per strategy, best
/// first, each labelled with `+mean [lo, hi]`, and a line at zero. Rows whose interval lies
/// above zero are drawn in green, below in red, across zero in grey.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written; [`Error::InvalidValue`] without a strategy
/// to compare.
pub fn paired_difference(
    results: &[JobResult],
    scenario: &str,
    baseline: &str,
    note: &[String],
    path: &Path,
) -> Result<()> {
    let mut rows: Vec<(String, Interval)> = strategies(results, scenario)
        .into_iter()
        .filter(|s| *s != baseline)
        .filter_map(|s| {
            paired(results, scenario, s, baseline, revenue)
                .ok()
                .map(|d| (s.to_owned(), d))
        })
        .collect();
    if rows.is_empty() {
        return Err(Error::invalid(
            "plot",
            scenario,
            format!("no strategy to compare with {baseline}"),
        ));
    }
    rows.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean));
    ensure_dir(path)?;
    let lo = rows.iter().map(|r| finite(r.1.lo)).fold(0.0f64, f64::min);
    let hi = rows.iter().map(|r| finite(r.1.hi)).fold(0.0f64, f64::max);
    let pad = ((hi - lo) * 0.08).max(1e-9);
    let k = rows.len();
    let root = SVGBackend::new(path, (960, (150 + 44 * k) as u32)).into_drawing_area();
    let n = rows[0].1.n;
    let title = format!(
        "{scenario}: revenue difference from {baseline}, paired by seed (mean, 95% CI, {n} seeds)"
    );
    let area = canvas(&root, path, &title, note)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .margin_right(240) // room for the figures
        .x_label_area_size(40)
        .y_label_area_size(130)
        .build_cartesian_2d((lo - pad)..(hi + pad), -0.5f64..(k as f64 - 0.5))
        .map_err(|e| plot_err(path, e))?;
    let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let name_of = move |y: &f64| {
        let i = y.round();
        if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
            names[k - 1 - i as usize].clone()
        } else {
            String::new()
        }
    };
    let money = |x: &f64| format!("{x:+.0}");
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(2 * k + 1)
        .y_label_formatter(&name_of)
        .x_label_formatter(&money)
        .x_desc(format!("revenue minus {baseline}'s, same seeds"))
        .draw()
        .map_err(|e| plot_err(path, e))?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, k as f64 - 0.5)],
            BLACK.stroke_width(1),
        )))
        .map_err(|e| plot_err(path, e))?;
    for (i, (name, d)) in rows.iter().enumerate() {
        let y = (k - 1 - i) as f64;
        let color = if d.lo > 0.0 {
            RGBColor(44, 160, 44)
        } else if d.hi < 0.0 {
            RGBColor(214, 39, 40)
        } else {
            RGBColor(110, 110, 110)
        };
        let (l, h, m) = (finite(d.lo), finite(d.hi), finite(d.mean));
        chart
            .draw_series([
                PathElement::new(vec![(l, y), (h, y)], color.stroke_width(3)),
                PathElement::new(vec![(l, y - 0.15), (l, y + 0.15)], color.stroke_width(2)),
                PathElement::new(vec![(h, y - 0.15), (h, y + 0.15)], color.stroke_width(2)),
            ])
            .map_err(|e| plot_err(path, e))?;
        chart
            .draw_series(std::iter::once(marker(i, (m, y), color)))
            .map_err(|e| plot_err(path, e))?;
        chart
            .plotting_area()
            .draw(&label_at(
                format!("{name} {m:+.0} [{l:+.0}, {h:+.0}]"),
                (hi + pad, y),
                color,
            ))
            .map_err(|e| plot_err(path, e))?;
    }
    root.present().map_err(|e| plot_err(path, e))
}

/// Cumulative revenue by day for each strategy on `scenario`: the mean over seeds with a
/// shaded 95% interval, a marker shape and dash pattern per strategy, and a label at each
/// line's end.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written; [`Error::InvalidValue`] without data.
pub fn cumulative_revenue(results: &[JobResult], scenario: &str, path: &Path) -> Result<()> {
    cumulative_revenue_noted(results, scenario, &[], path)
}

/// [`cumulative_revenue`] with note lines under the title.
///
/// # Errors
/// As [`cumulative_revenue`].
pub fn cumulative_revenue_noted(
    results: &[JobResult],
    scenario: &str,
    note: &[String],
    path: &Path,
) -> Result<()> {
    let days = results
        .iter()
        .find(|r| r.job.scenario == scenario)
        .map_or(0, |r| r.daily.len());
    let series = bands(results, scenario, days, |r, d| {
        r.daily[..=d.min(r.daily.len().saturating_sub(1))]
            .iter()
            .map(|x| x.revenue.units())
            .sum()
    });
    draw_lines(
        path,
        &format!("{scenario}: cumulative revenue (mean over seeds, shaded 95% CI)"),
        note,
        ("day", "revenue"),
        &series,
        None,
    )
}

/// Cumulative spend by hour on the profile day (the day with the most traffic) for each
/// strategy, against the day's budget (the mean over seeds; the budget line is the first
/// strategy's).
///
/// # Errors
/// As [`cumulative_revenue`].
pub fn hourly_spend(results: &[JobResult], scenario: &str, path: &Path) -> Result<()> {
    hourly_spend_noted(results, scenario, &[], path)
}

/// [`hourly_spend`] with note lines under the title.
///
/// # Errors
/// As [`cumulative_revenue`].
pub fn hourly_spend_noted(
    results: &[JobResult],
    scenario: &str,
    note: &[String],
    path: &Path,
) -> Result<()> {
    let series = bands(results, scenario, 24, |r, h| {
        r.hours.spend[..=h.min(23)].iter().map(|m| m.units()).sum()
    });
    let first = results.iter().find(|r| r.job.scenario == scenario);
    let budget = first.map_or(0.0, |r| r.hours.budget.units());
    let day = first.map_or(0, |r| r.hours.day);
    draw_lines(
        path,
        &format!("{scenario}: cumulative spend by hour on day {day}"),
        note,
        ("hour", "spend"),
        &series,
        Some(("budget", budget)),
    )
}

/// Every plot for every scenario in `results`, into `dir`: `{scenario}_vs_baseline.svg`
/// (the headline, against the first strategy in the results), `{scenario}_revenue.svg` and
/// `{scenario}_hourly_spend.svg`. Returns the paths written.
///
/// # Errors
/// As [`cumulative_revenue`].
pub fn write_plots(results: &[JobResult], dir: &Path) -> Result<Vec<PathBuf>> {
    write_plots_with(results, dir, &PlotOptions::default())
}

/// [`write_plots`] with a baseline, note lines and a file-name prefix.
///
/// # Errors
/// As [`cumulative_revenue`].
pub fn write_plots_with(
    results: &[JobResult],
    dir: &Path,
    opts: &PlotOptions,
) -> Result<Vec<PathBuf>> {
    let mut scenarios: Vec<&str> = Vec::new();
    for r in results {
        if !scenarios.contains(&r.job.scenario.as_str()) {
            scenarios.push(&r.job.scenario);
        }
    }
    let mut out = Vec::new();
    for sc in scenarios {
        let prefix = opts.prefix.clone().unwrap_or_else(|| format!("{sc}_"));
        let baseline = match &opts.baseline {
            Some(b) => b.clone(),
            None => strategies(results, sc)
                .first()
                .map(|s| (*s).to_owned())
                .unwrap_or_default(),
        };
        if strategies(results, sc).len() > 1 {
            let p = dir.join(format!("{prefix}vs_baseline.svg"));
            paired_difference(results, sc, &baseline, &opts.note, &p)?;
            out.push(p);
        }
        let p = dir.join(format!("{prefix}revenue.svg"));
        cumulative_revenue_noted(results, sc, &opts.note, &p)?;
        out.push(p);
        let p = dir.join(format!("{prefix}hourly_spend.svg"));
        hourly_spend_noted(results, sc, &opts.note, &p)?;
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::spread_labels;

    #[test]
    fn labels_never_overlap() {
        let ys = spread_labels(&[10.0, 10.0, 10.5, 50.0], 2.0);
        let mut s = ys.clone();
        s.sort_by(f64::total_cmp);
        assert!(s.windows(2).all(|w| w[1] - w[0] >= 2.0 - 1e-9), "{ys:?}");
        assert!((ys[3] - 50.0).abs() < 1e-12);
    }
}
