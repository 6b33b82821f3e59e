//! SVG plots (feature `plots`): cumulative revenue over days per strategy with 95% bands, and
//! one day's cumulative spend by hour against the budget. Built with `plotters`' SVG backend
//! and no font rendering, so it works on a machine without system fonts.

use std::path::Path;

use plotters::prelude::*;

use crate::compare::runner::JobResult;
use crate::compare::summary::Interval;
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

fn draw(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &Bands,
    reference: Option<(&str, f64)>,
) -> Result<()> {
    let n = series.first().map_or(0, |s| s.1.len());
    if n == 0 {
        return Err(Error::invalid("plot", title, "no data"));
    }
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| plot_err(dir, e))?;
    }
    let finite = |x: f64| if x.is_finite() { x } else { 0.0 };
    let y_max = series
        .iter()
        .flat_map(|s| s.1.iter().map(|i| finite(i.hi).max(finite(i.mean))))
        .chain(reference.map(|r| r.1))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.05;
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..(n.max(2) - 1) as f64, 0f64..y_max)
        .map_err(|e| plot_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| plot_err(path, e))?;
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
                color.mix(0.15).filled(),
            )))
            .map_err(|e| plot_err(path, e))?;
        chart
            .draw_series(LineSeries::new(
                pts.iter()
                    .enumerate()
                    .map(|(x, p)| (x as f64, finite(p.mean))),
                color.stroke_width(2),
            ))
            .map_err(|e| plot_err(path, e))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    if let Some((name, y)) = reference {
        chart
            .draw_series(LineSeries::new(
                [(0.0, y), ((n.max(2) - 1) as f64, y)],
                BLACK.stroke_width(1),
            ))
            .map_err(|e| plot_err(path, e))?
            .label(name)
            .legend(move |(x, yy)| PathElement::new(vec![(x, yy), (x + 18, yy)], BLACK));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_err(path, e))?;
    root.present().map_err(|e| plot_err(path, e))
}

/// Cumulative revenue by day for each strategy on `scenario`: the mean over seeds with a
/// shaded 95% interval.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written; [`Error::InvalidValue`] without data.
pub fn cumulative_revenue(results: &[JobResult], scenario: &str, path: &Path) -> Result<()> {
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
    draw(
        path,
        &format!("{scenario}: cumulative revenue (mean, 95% CI)"),
        "day",
        "revenue",
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
    let series = bands(results, scenario, 24, |r, h| {
        r.hours.spend[..=h.min(23)].iter().map(|m| m.units()).sum()
    });
    let first = results.iter().find(|r| r.job.scenario == scenario);
    let budget = first.map_or(0.0, |r| r.hours.budget.units());
    let day = first.map_or(0, |r| r.hours.day);
    draw(
        path,
        &format!("{scenario}: cumulative spend by hour on day {day}"),
        "hour",
        "spend",
        &series,
        Some(("budget", budget)),
    )
}

/// Both plots for every scenario in `results`, into `dir` as
/// `{scenario}_revenue.svg` and `{scenario}_hourly_spend.svg`. Returns the paths written.
///
/// # Errors
/// As [`cumulative_revenue`].
pub fn write_plots(results: &[JobResult], dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut scenarios: Vec<&str> = Vec::new();
    for r in results {
        if !scenarios.contains(&r.job.scenario.as_str()) {
            scenarios.push(&r.job.scenario);
        }
    }
    let mut out = Vec::new();
    for sc in scenarios {
        let p = dir.join(format!("{sc}_revenue.svg"));
        cumulative_revenue(results, sc, &p)?;
        out.push(p);
        let p = dir.join(format!("{sc}_hourly_spend.svg"));
        hourly_spend(results, sc, &p)?;
        out.push(p);
    }
    Ok(out)
}
