//! @file
//! A small SVG plot writer: line and scatter series on linear or log axes, in
//! one or more panels side by side, each with a frame, ticks at "nice" values,
//! tick and axis labels, a title and a legend. The output is a self-contained
//! SVG document (no scripts, no external fonts) that any browser shows.
//!
//!   Panel p{.title = "Test error", .x = {.label = "epoch"}, .y = {.label = "test error (%)"}};
//!   p.series.push_back({.label = "adam", .x = epochs, .y = errors});
//!   write_svg_file("error.svg", render_svg({p}));
//!
//! Used by `fluxion plot` (apps/plot.cpp); docs/plotting.md has the details.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fluxion::plot {

struct Series {
  enum Style { line, points };
  std::string label{};        ///< legend text; an empty label keeps the series out of the legend
  std::vector<double> x{}, y{};  ///< the same length (render_svg checks)
  Style style = line;
  /// Any SVG colour ("#1f77b4", "red"). Unset: color_cycle(i) for the i-th
  /// series of its panel, so series i has the same colour in every panel.
  std::optional<std::string> color{};
  bool dashed = false;        ///< line series: a dashed stroke (reference curves, or more than 10 series)
};

struct Axis {
  std::string label{};
  bool log = false;  ///< base-10 log scale; points <= 0 cannot be drawn on it and are left out like NaNs
  /// Fixed low end. Unset: the data range, widened to the nearest tick
  /// (linear) or to whole decades (log). Must be finite, and > 0 on a log axis.
  std::optional<double> min{};
  std::optional<double> max{};  ///< fixed high end, as min
  bool integer = false;  ///< linear axes: ticks only at whole numbers (epochs)
};

/// Where a panel's legend goes. `best` takes the inside corner of the plot
/// area that covers the fewest data points (upper right on a tie).
enum class LegendLocation { best, upper_right, upper_left, lower_left, lower_right, none };

struct Panel {
  std::string title{};
  Axis x{}, y{};
  std::vector<Series> series{};
  LegendLocation legend = LegendLocation::best;
};

struct PlotOptions {
  std::string title{};        ///< one line above all panels; empty: none
  double panel_width = 460;   ///< pixels per panel, labels and margins included
  double panel_height = 340;
  double font_size = 12;      ///< tick labels and legend; titles are a little larger
};

/// Draws the panels left to right in one SVG document, which starts with
/// "<svg". Each line series with at least one drawable point becomes exactly
/// one `<path class="series line">`; each points series one
/// `<g class="series points">` of `<circle>`s. Non-finite points (and, on a log axis, points <= 0)
/// are skipped: a line breaks there, and they do not count towards the axis
/// ranges, so a series with no drawable point leaves the ranges alone (it
/// keeps its legend entry). Labels are XML-escaped.
/// Throws fluxion::Error for: no panels, x and y of different lengths, fixed
/// axis ends that are not finite, not increasing or (log axis) not positive,
/// or non-positive sizes in the options.
std::string render_svg(const std::vector<Panel>& panels, const PlotOptions& options = {});

/// Writes `svg` to `path` atomically: to a temporary file beside it, synced,
/// then renamed over `path`, so a reader sees the old file or the whole new
/// one. Throws fluxion::InputError (a fluxion::Error) naming `path` and the
/// reason on any failure; the temporary file is removed then.
void write_svg_file(const std::string& path, const std::string& svg);

// --- the parts, public for tests and for other plots ---------------------------------

/// matplotlib's "tab10" colours; color_cycle(i) wraps around after 10.
const std::string& color_cycle(std::size_t i);

/// `text` with &, <, >, " and ' replaced by entities, characters that XML 1.0
/// forbids (control characters other than tab, LF and CR) dropped, and bytes
/// that are not valid UTF-8 replaced by U+FFFD, so any label, a folder name in
/// any encoding included, gives a well-formed document.
std::string xml_escape(std::string_view text);

struct Tick {
  double value;
  std::string label;         ///< "0.2", "30", "1e-4" (log decades: the plain form of 10^power)
  std::optional<int> power;  ///< log decades: drawn as 10 with `power` as a superscript
};

/// An axis's extent and ticks. `min` < `max`; every major tick lies in [min, max].
struct Scale {
  double min = 0, max = 1;
  bool log = false;
  std::vector<Tick> major;
  std::vector<double> minor;  ///< unlabelled short ticks (log axes: 2..9 x 10^k)
};

/// Ticks every 1, 2 or 5 x 10^k, the step chosen to give about `target_ticks`
/// ticks over [data_min, data_max] (integer: a step of at least 1); the extent
/// is the data range widened to the nearest ticks outside it, for example 0..0.93 ->
/// 0, 0.2, ..., 1.0. A single value v gets a range around it. Requires finite
/// data_min <= data_max.
Scale linear_scale(double data_min, double data_max, int target_ticks = 6, bool integer = false);

/// Whole decades covering [data_min, data_max] (both > 0, finite), a tick at
/// each, for example 3e-4..2 -> 1e-4, 1e-3, ..., 10; with more than 8 decades, every
/// 2nd, 3rd, ... decade is labelled and the others are minor ticks.
Scale log_scale(double data_min, double data_max);

/// The scale of `axis` for data in [data_min, data_max] (NaN: no data), with
/// the axis's fixed ends applied. Throws fluxion::Error for bad fixed ends.
Scale axis_scale(const Axis& axis, double data_min, double data_max);

}  // namespace fluxion::plot
