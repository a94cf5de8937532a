//! plots: CPU and memory history as egui_plot lines. X is seconds before the host's latest
//! sample (hosts' clocks differ, so each is placed relative to its own), Y is percent.

use crate::model::Ring;
use crate::model::host::mem_percent;
use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// Colour of CPU lines in the small plots.
pub const CPU_COLOR: egui::Color32 = egui::Color32::from_rgb(230, 120, 60);
/// Colour of memory lines in the small plots.
pub const MEM_COLOR: egui::Color32 = egui::Color32::from_rgb(90, 150, 230);
use vigia_shared::proto::StatusSample;

/// Which value of a sample a line shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    Cpu,
    Memory,
    Core(usize),
}

/// Most points a line is drawn with: about two a pixel of a wide plot. An hour of 1 s samples
/// (3,600, times the cores when they are shown) would otherwise be tessellated every frame.
pub const MAX_POINTS: usize = 720;

/// Points of one series, for the samples of the last `window_s` seconds (all when `None`),
/// thinned to [`MAX_POINTS`].
pub fn points(
    history: &Ring<StatusSample>,
    series: Series,
    window_s: Option<f64>,
) -> Vec<[f64; 2]> {
    let Some(last) = history.back().map(|s| s.time_ms) else {
        return Vec::new();
    };
    let all = history
        .iter()
        .filter_map(|s| {
            let x = (s.time_ms as f64 - last as f64) / 1000.0;
            if window_s.is_some_and(|w| x < -w) {
                return None;
            }
            let y = match series {
                Series::Cpu => f64::from(s.cpu),
                Series::Memory => mem_percent(s),
                Series::Core(i) => f64::from(*s.cores.get(i)?),
            };
            Some([x, y])
        })
        .collect();
    thin(all, MAX_POINTS)
}

/// At most `max` points (plus the latest): each run of consecutive points gives its lowest and
/// its highest, in time order, so that a one-sample spike survives the thinning.
fn thin(all: Vec<[f64; 2]>, max: usize) -> Vec<[f64; 2]> {
    let buckets = max / 2;
    if all.len() <= max || buckets == 0 {
        return all;
    }
    let mut out = Vec::with_capacity(max + 1);
    for b in 0..buckets {
        let run = &all[b * all.len() / buckets..(b + 1) * all.len() / buckets];
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in run.iter().enumerate() {
            if p[1] < run[lo][1] {
                lo = i;
            }
            if p[1] > run[hi][1] {
                hi = i;
            }
        }
        let (first, second) = (lo.min(hi), lo.max(hi));
        out.extend(run.get(first));
        if second != first {
            out.extend(run.get(second));
        }
    }
    if let (Some(last), Some(shown)) = (all.last(), out.last())
        && last != shown
    {
        out.push(*last);
    }
    out
}

/// A small plot without axes or interaction, for a dashboard card.
pub fn sparkline(ui: &mut egui::Ui, id: u64, history: &Ring<StatusSample>) {
    let cpu = points(history, Series::Cpu, Some(300.0));
    let mem = points(history, Series::Memory, Some(300.0));
    Plot::new(("spark", id))
        .height(70.0)
        .show_axes(false)
        .show_grid(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_x(false)
        .show_y(false)
        .include_y(0.0)
        .include_y(100.0)
        .show(ui, |p| {
            p.line(Line::new("CPU %", PlotPoints::from(cpu)).color(CPU_COLOR));
            p.line(Line::new("Memory %", PlotPoints::from(mem)).color(MEM_COLOR));
        });
}

/// A named line of a percent plot; `None` lets the plot pick the colour.
pub type NamedLine = (String, Vec<[f64; 2]>, Option<egui::Color32>);

/// A percent plot of several named lines.
pub fn percent_plot(ui: &mut egui::Ui, id: &str, height: f32, lines: Vec<NamedLine>) {
    Plot::new(id)
        .height(height)
        .include_y(0.0)
        .include_y(100.0)
        .allow_scroll(false)
        .x_axis_label("seconds ago")
        .y_axis_label("%")
        .legend(Legend::default())
        .show(ui, |p| {
            for (name, pts, color) in lines {
                let line = Line::new(name, PlotPoints::from(pts));
                p.line(match color {
                    Some(c) => line.color(c),
                    None => line,
                });
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: u64, cpu: f32) -> StatusSample {
        StatusSample {
            time_ms: t,
            cpu,
            cores: vec![cpu, 100.0 - cpu],
            mem_used: 1,
            mem_total: 4,
            swap_used: 0,
            swap_total: 0,
            load1: 0.0,
            load5: 0.0,
            load15: 0.0,
            procs: 1,
        }
    }

    #[test]
    fn points_are_seconds_before_the_latest_sample() {
        let mut r = Ring::new(10);
        r.extend([sample(1000, 10.0), sample(2000, 20.0), sample(5000, 30.0)]);
        assert_eq!(
            points(&r, Series::Cpu, None),
            vec![[-4.0, 10.0], [-3.0, 20.0], [0.0, 30.0]]
        );
        assert_eq!(points(&r, Series::Cpu, Some(3.0)).len(), 2);
        assert_eq!(points(&r, Series::Memory, None)[0], [-4.0, 25.0]);
        assert_eq!(points(&r, Series::Core(1), None)[0], [-4.0, 90.0]);
    }

    #[test]
    fn an_hour_is_thinned_and_keeps_its_spikes_and_its_end() {
        let mut r = Ring::new(3600);
        r.extend((0..3600u64).map(|i| sample(i * 1000, if i == 1234 { 99.0 } else { 5.0 })));
        let pts = points(&r, Series::Cpu, None);
        assert!(pts.len() <= MAX_POINTS + 1, "{} points", pts.len());
        assert!(pts.iter().any(|p| p[1] == 99.0), "the spike was lost");
        assert_eq!(pts.last(), Some(&[0.0, 5.0]));
        assert_eq!(pts.first(), Some(&[-3599.0, 5.0]));
        assert!(
            pts.windows(2).all(|w| w[0][0] < w[1][0]),
            "not in time order"
        );
        // Short histories are left as they are.
        r = Ring::new(10);
        r.extend((0..10u64).map(|i| sample(i * 1000, i as f32)));
        assert_eq!(points(&r, Series::Cpu, None).len(), 10);
    }
}
