#include "plot/svg_plot.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fluxion::plot {

namespace {

// --- numbers and text -----------------------------------------------------------------

// A coordinate: at most 2 decimals, no trailing zeros, locale-independent.
// Far-off values (a point outside fixed axis ends) are clamped; the clip path
// hides them anyway.
std::string coord(double v) {
  v = std::clamp(v, -1e6, 1e6);
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 2).ptr;
  while (end > buf && end[-1] == '0') --end;
  if (end > buf && end[-1] == '.') --end;
  std::string s(buf, end);
  return s == "-0" ? "0" : s;
}

// "1.2e+06" -> "1.2e6", "5e-05" -> "5e-5".
std::string tidy_exponent(std::string s) {
  const auto e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
  const bool negative = !exponent.empty() && exponent[0] == '-';
  exponent.erase(0, exponent.find_first_not_of("+-"));
  exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
  return mantissa + "e" + (negative ? "-" : "") + exponent;
}

// A tick label for `value` on a linear axis with ticks every `step`: as many
// decimals as the step needs, in exponent form for very large or small steps.
std::string tick_label(double value, double step, double max_abs) {
  value += 0.0;  // -0 -> 0
  const int step_exp = static_cast<int>(std::floor(std::log10(step) + 1e-9));
  char buf[64];
  char* end;
  if (step >= 1e-4 && max_abs < 1e6) {
    end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, std::max(0, -step_exp)).ptr;
  } else {
    if (value == 0) return "0";
    const int max_exp = static_cast<int>(std::floor(std::log10(max_abs) + 1e-9));
    end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific, std::max(0, max_exp - step_exp))
              .ptr;
  }
  return tidy_exponent(std::string(buf, end));
}

// The number of UTF-8 code points: a width estimate for labels, since an SVG
// writer cannot measure text.
std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// An average sans-serif glyph is about 0.58 em wide (digits: 0.556 em).
double text_width(std::string_view s, double font_size) { return 0.58 * font_size * static_cast<double>(code_points(s)); }

double tick_label_width(const Tick& t, double font_size) {
  if (!t.power) return text_width(t.label, font_size);
  return text_width("10", font_size) + 0.75 * text_width(std::to_string(*t.power), font_size);
}

// The length of the valid UTF-8 sequence at s[i], or 0 if there is none
// (stray continuation bytes, overlong forms, surrogates, beyond U+10FFFF,
// and the non-characters U+FFFE and U+FFFF, which XML also forbids).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const auto cont = [&](std::size_t k) { return (byte(k) & 0xC0) == 0x80; };
  const unsigned b0 = byte(0), b1 = byte(1);
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b0 == 0xED && b1 >= 0xA0) return 0;  // surrogates
    if (b0 == 0xEF && b1 == 0xBF && byte(2) >= 0xBE) return 0;  // U+FFFE, U+FFFF
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 >= 0x90) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

bool drawable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

// --- layout ---------------------------------------------------------------------------

constexpr double kTickLength = 5, kMinorTickLength = 3;

struct Rect {
  double x0, y0, x1, y1;  // left, top, right, bottom
  bool contains(double x, double y) const { return x >= x0 && x <= x1 && y >= y0 && y <= y1; }
};

// Maps data values to pixels along one axis.
struct Mapping {
  Scale scale;
  double from, to;  // pixel positions of scale.min and scale.max
  double operator()(double v) const {
    const auto t = [&](double u) { return scale.log ? std::log10(u) : u; };
    return from + (t(v) - t(scale.min)) / (t(scale.max) - t(scale.min)) * (to - from);
  }
};

// The data extent [min, max] of the drawable values of one coordinate of all
// series (NaN, NaN when there are none).
std::pair<double, double> data_range(const std::vector<Series>& series, bool x_log, bool y_log, bool want_x) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!drawable(s.x[i], x_log) || !drawable(s.y[i], y_log)) continue;
      const double v = want_x ? s.x[i] : s.y[i];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (lo > hi) return {std::nan(""), std::nan("")};
  return {lo, hi};
}

std::string attr_color(const Series& s, std::size_t index) {
  return xml_escape(s.color ? *s.color : color_cycle(index));
}

const char* kDash = "6 4";

class PanelWriter {
 public:
  PanelWriter(std::ostringstream& out, const Panel& panel, std::size_t panel_index, double ox, double oy,
              const PlotOptions& opt)
      : out_(out), panel_(panel), index_(panel_index), fs_(opt.font_size), ox_(ox), oy_(oy),
        height_(opt.panel_height) {
    const auto [x_lo, x_hi] = data_range(panel.series, panel.x.log, panel.y.log, true);
    const auto [y_lo, y_hi] = data_range(panel.series, panel.x.log, panel.y.log, false);
    const Scale xs = axis_scale(panel.x, x_lo, x_hi);
    const Scale ys = axis_scale(panel.y, y_lo, y_hi);

    double y_tick_w = 0;
    for (const Tick& t : ys.major) y_tick_w = std::max(y_tick_w, tick_label_width(t, fs_));
    const double last_x_tick_w = xs.major.empty() ? 0 : tick_label_width(xs.major.back(), fs_);

    const double left = ox + 10 + (panel.y.label.empty() ? 0 : 1.6 * fs_) + y_tick_w + kTickLength + 4;
    const double right = ox + opt.panel_width - std::max(14.0, last_x_tick_w / 2 + 4);
    const double top = oy + (panel.title.empty() ? 0.8 * fs_ : 2.2 * fs_);
    const double bottom =
        oy + opt.panel_height - (8 + 1.3 * fs_ + kTickLength + (panel.x.label.empty() ? 0 : 1.6 * fs_));
    area_ = {left, top, std::max(right, left + 10), std::max(bottom, top + 10)};
    x_ = {xs, area_.x0, area_.x1};
    y_ = {ys, area_.y1, area_.y0};
  }

  void write() {
    out_ << "<g class=\"panel\">\n";
    write_grid();
    write_series();
    out_ << "<rect class=\"frame\" x=\"" << coord(area_.x0) << "\" y=\"" << coord(area_.y0) << "\" width=\""
         << coord(area_.x1 - area_.x0) << "\" height=\"" << coord(area_.y1 - area_.y0)
         << "\" fill=\"none\" stroke=\"#333\"/>\n";
    write_ticks();
    write_labels();
    write_legend();
    out_ << "</g>\n";
  }

 private:
  void write_grid() {
    out_ << "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
    for (const Tick& t : x_.scale.major) {
      const double x = x_(t.value);
      out_ << "<line x1=\"" << coord(x) << "\" y1=\"" << coord(area_.y0) << "\" x2=\"" << coord(x) << "\" y2=\""
           << coord(area_.y1) << "\"/>\n";
    }
    for (const Tick& t : y_.scale.major) {
      const double y = y_(t.value);
      out_ << "<line x1=\"" << coord(area_.x0) << "\" y1=\"" << coord(y) << "\" x2=\"" << coord(area_.x1)
           << "\" y2=\"" << coord(y) << "\"/>\n";
    }
    out_ << "</g>\n";
  }

  std::string circle(double px, double py) const {
    return "<circle cx=\"" + coord(px) + "\" cy=\"" + coord(py) + "\" r=\"" + coord(0.25 * fs_) + "\"/>";
  }

  // Lines break at undrawable points. A piece of one point stays in the path
  // (a zero-length segment) and gets a marker, as a lone point would be
  // invisible otherwise.
  void write_series() {
    const std::string clip_id = "fluxion-clip-" + std::to_string(index_);
    const double pad = 4;  // markers on the frame stay whole
    out_ << "<defs><clipPath id=\"" << clip_id << "\"><rect x=\"" << coord(area_.x0 - pad) << "\" y=\""
         << coord(area_.y0 - pad) << "\" width=\"" << coord(area_.x1 - area_.x0 + 2 * pad) << "\" height=\""
         << coord(area_.y1 - area_.y0 + 2 * pad) << "\"/></clipPath></defs>\n";
    out_ << "<g clip-path=\"url(#" << clip_id << ")\">\n";
    for (std::size_t si = 0; si < panel_.series.size(); ++si) {
      const Series& s = panel_.series[si];
      std::string d;        // the path's data, or the points' circles
      std::string markers;  // circles for the lone points of a line
      std::size_t piece = 0;  // points in the current piece of a line
      double last_px = 0, last_py = 0;
      const auto end_piece = [&] {
        if (piece == 1) {
          d += " l0 0";
          markers += circle(last_px, last_py);
        }
        piece = 0;
      };
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!drawable(s.x[i], panel_.x.log) || !drawable(s.y[i], panel_.y.log)) {
          end_piece();
          continue;
        }
        const double px = x_(s.x[i]), py = y_(s.y[i]);
        occupied_.push_back({px, py});
        if (s.style == Series::points) {
          d += circle(px, py);
          continue;
        }
        if (piece > 0) {  // also mark the segment's inside, for the legend's placement
          for (int k = 1; k < 8; ++k) {
            occupied_.push_back({last_px + (px - last_px) * k / 8, last_py + (py - last_py) * k / 8});
          }
        }
        if (!d.empty()) d += ' ';
        d.append(piece == 0 ? "M" : "L").append(coord(px)).append(" ").append(coord(py));
        last_px = px;
        last_py = py;
        ++piece;
      }
      end_piece();
      if (d.empty()) continue;  // nothing drawable; the legend still lists it
      const std::string color = attr_color(s, si);
      if (s.style == Series::points) {
        out_ << "<g class=\"series points\" fill=\"" << color << "\">" << d << "</g>\n";
        continue;
      }
      out_ << "<path class=\"series line\" d=\"" << d << "\" fill=\"none\" stroke=\"" << color
           << "\" stroke-width=\"1.75\" stroke-linejoin=\"round\" stroke-linecap=\"round\""
           << (s.dashed ? std::string(" stroke-dasharray=\"") + kDash + "\"" : "") << "/>\n";
      if (!markers.empty()) out_ << "<g class=\"lone-points\" fill=\"" << color << "\">" << markers << "</g>\n";
    }
    out_ << "</g>\n";
  }

  void write_tick_label(double x, double y, const char* anchor, const Tick& t) {
    out_ << "<text x=\"" << coord(x) << "\" y=\"" << coord(y) << "\" text-anchor=\"" << anchor << "\">";
    if (t.power) {
      out_ << "10<tspan dy=\"" << coord(-0.45 * fs_) << "\" font-size=\"" << coord(0.75 * fs_) << "\">" << *t.power
           << "</tspan>";
    } else {
      out_ << xml_escape(t.label);
    }
    out_ << "</text>\n";
  }

  void write_ticks() {
    out_ << "<g class=\"ticks\" stroke=\"#333\">\n";
    const auto x_tick = [&](double v, double len) {
      out_ << "<line x1=\"" << coord(x_(v)) << "\" y1=\"" << coord(area_.y1) << "\" x2=\"" << coord(x_(v))
           << "\" y2=\"" << coord(area_.y1 + len) << "\"/>\n";
    };
    const auto y_tick = [&](double v, double len) {
      out_ << "<line x1=\"" << coord(area_.x0 - len) << "\" y1=\"" << coord(y_(v)) << "\" x2=\"" << coord(area_.x0)
           << "\" y2=\"" << coord(y_(v)) << "\"/>\n";
    };
    for (const Tick& t : x_.scale.major) x_tick(t.value, kTickLength);
    for (double v : x_.scale.minor) x_tick(v, kMinorTickLength);
    for (const Tick& t : y_.scale.major) y_tick(t.value, kTickLength);
    for (double v : y_.scale.minor) y_tick(v, kMinorTickLength);
    out_ << "</g>\n<g class=\"tick-labels\" fill=\"#222\">\n";
    for (const Tick& t : x_.scale.major) write_tick_label(x_(t.value), area_.y1 + kTickLength + 2 + fs_, "middle", t);
    for (const Tick& t : y_.scale.major) write_tick_label(area_.x0 - kTickLength - 3, y_(t.value) + 0.35 * fs_, "end", t);
    out_ << "</g>\n";
  }

  void write_labels() {
    const double mid_x = (area_.x0 + area_.x1) / 2;
    if (!panel_.title.empty()) {
      out_ << "<text class=\"title\" x=\"" << coord(mid_x) << "\" y=\"" << coord(oy_ + 1.5 * fs_)
           << "\" text-anchor=\"middle\" font-size=\"" << coord(1.15 * fs_) << "\" font-weight=\"bold\">"
           << xml_escape(panel_.title) << "</text>\n";
    }
    if (!panel_.x.label.empty()) {
      out_ << "<text class=\"axis-label\" x=\"" << coord(mid_x) << "\" y=\"" << coord(oy_ + height_ - 8)
           << "\" text-anchor=\"middle\">" << xml_escape(panel_.x.label) << "</text>\n";
    }
    if (!panel_.y.label.empty()) {
      out_ << "<text class=\"axis-label\" transform=\"translate(" << coord(ox_ + 10 + fs_) << " "
           << coord((area_.y0 + area_.y1) / 2) << ") rotate(-90)\" text-anchor=\"middle\">"
           << xml_escape(panel_.y.label) << "</text>\n";
    }
  }

  void write_legend() {
    std::vector<std::size_t> entries;
    for (std::size_t i = 0; i < panel_.series.size(); ++i) {
      if (!panel_.series[i].label.empty()) entries.push_back(i);
    }
    if (entries.empty() || panel_.legend == LegendLocation::none) return;

    const double pad = 0.6 * fs_, row = 1.45 * fs_, swatch = 2 * fs_;
    double text_w = 0;
    for (std::size_t i : entries) text_w = std::max(text_w, text_width(panel_.series[i].label, fs_));
    const double w = 2 * pad + swatch + 0.5 * fs_ + text_w;
    const double h = 2 * pad + static_cast<double>(entries.size()) * row - (row - fs_);
    const double margin = 8;
    const auto box_at = [&](LegendLocation where) {
      const bool right = where == LegendLocation::upper_right || where == LegendLocation::lower_right;
      const bool upper = where == LegendLocation::upper_right || where == LegendLocation::upper_left;
      const double x0 = right ? area_.x1 - margin - w : area_.x0 + margin;
      const double y0 = upper ? area_.y0 + margin : area_.y1 - margin - h;
      return Rect{x0, y0, x0 + w, y0 + h};
    };
    LegendLocation where = panel_.legend;
    if (where == LegendLocation::best) {
      std::size_t fewest = std::numeric_limits<std::size_t>::max();
      for (LegendLocation c : {LegendLocation::upper_right, LegendLocation::upper_left, LegendLocation::lower_left,
                               LegendLocation::lower_right}) {
        const Rect r = box_at(c);
        const auto n = static_cast<std::size_t>(std::count_if(
            occupied_.begin(), occupied_.end(), [&](const auto& p) { return r.contains(p.first, p.second); }));
        if (n < fewest) {
          fewest = n;
          where = c;
        }
      }
    }
    const Rect box = box_at(where);
    out_ << "<g class=\"legend\">\n<rect x=\"" << coord(box.x0) << "\" y=\"" << coord(box.y0) << "\" width=\""
         << coord(w) << "\" height=\"" << coord(h)
         << "\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#bbb\" rx=\"3\"/>\n";
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const Series& s = panel_.series[entries[k]];
      const std::string color = attr_color(s, entries[k]);
      const double cy = box.y0 + pad + static_cast<double>(k) * row + fs_ / 2;
      const double sx = box.x0 + pad;
      if (s.style == Series::points) {
        out_ << "<g fill=\"" << color << "\">" << circle(sx + swatch / 2, cy) << "</g>\n";
      } else {
        out_ << "<line x1=\"" << coord(sx) << "\" y1=\"" << coord(cy) << "\" x2=\"" << coord(sx + swatch) << "\" y2=\""
             << coord(cy) << "\" stroke=\"" << color << "\" stroke-width=\"1.75\""
             << (s.dashed ? std::string(" stroke-dasharray=\"") + kDash + "\"" : "") << "/>\n";
      }
      out_ << "<text x=\"" << coord(sx + swatch + 0.5 * fs_) << "\" y=\"" << coord(cy + 0.35 * fs_) << "\">"
           << xml_escape(s.label) << "</text>\n";
    }
    out_ << "</g>\n";
  }

  std::ostringstream& out_;
  const Panel& panel_;
  std::size_t index_;
  double fs_;
  double ox_, oy_, height_;  // the panel's top left corner and height
  Rect area_{};             // the plot area inside the frame
  Mapping x_{}, y_{};
  std::vector<std::pair<double, double>> occupied_;  // pixels covered by data, for LegendLocation::best
};

}  // namespace

// --- public ---------------------------------------------------------------------------

const std::string& color_cycle(std::size_t i) {
  static const std::array<std::string, 10> tab10 = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return tab10[i % tab10.size()];
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
          if ((c >= 0x20 && c != 0x7F) || c == '\t' || c == '\n' || c == '\r') out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD, the replacement character
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

Scale linear_scale(double data_min, double data_max, int target_ticks, bool integer) {
  FLUXION_CHECK(std::isfinite(data_min) && std::isfinite(data_max) && data_min <= data_max,
                "linear_scale: need finite data_min <= data_max, got ", data_min, " and ", data_max);
  double lo = data_min, hi = data_max;
  if (hi - lo <= 1e-12 * std::max(std::abs(lo), std::abs(hi))) {  // one value: a range around it
    const double d = lo == 0 ? 1 : 0.1 * std::abs(lo);
    lo -= d;
    hi += d;
  }
  FLUXION_CHECK(std::isfinite(hi - lo), "linear_scale: the range ", data_min, " .. ", data_max, " is too wide");
  // Heckbert's nice numbers: the step (hi - lo) / (target - 1) rounded to 1, 2 or 5 x 10^k.
  const double raw = (hi - lo) / std::max(1, target_ticks - 1);
  const double base = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / base;
  double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * base;
  if (integer) step = std::max(step, 1.0);

  const double k0 = std::floor(lo / step + 1e-9), k1 = std::max(std::ceil(hi / step - 1e-9), k0 + 1);
  Scale s;
  s.min = k0 * step;
  s.max = k1 * step;
  const double max_abs = std::max(std::abs(s.min), std::abs(s.max));
  for (double k = k0; k <= k1 && s.major.size() < 200; ++k) {
    const double v = k * step + 0.0;
    s.major.push_back({v, tick_label(v, step, max_abs), std::nullopt});
  }
  return s;
}

Scale log_scale(double data_min, double data_max) {
  FLUXION_CHECK(std::isfinite(data_min) && std::isfinite(data_max) && data_min > 0 && data_min <= data_max,
                "log_scale: need finite 0 < data_min <= data_max, got ", data_min, " and ", data_max);
  int p0 = static_cast<int>(std::floor(std::log10(data_min) + 1e-9));
  int p1 = static_cast<int>(std::ceil(std::log10(data_max) - 1e-9));
  if (p1 <= p0) {  // one power of ten: a decade each side
    --p0;
    p1 = p0 + 2;
  }
  const int stride = (p1 - p0 + 7) / 8;  // at most about 8 labelled decades
  const auto floor_div = [](int a, int b) { return a / b - (a % b != 0 && a < 0); };
  p0 = floor_div(p0, stride) * stride;
  p1 = -floor_div(-p1, stride) * stride;
  p0 = std::max(p0, -307);
  p1 = std::min(p1, 308);

  Scale s;
  s.log = true;
  s.min = std::pow(10.0, p0);
  s.max = std::pow(10.0, p1);
  for (int p = p0; p <= p1; ++p) {
    const double v = std::pow(10.0, p);
    if (p % stride == 0) {
      s.major.push_back({v, "1e" + std::to_string(p), p});
    } else {
      s.minor.push_back(v);
    }
    if (stride == 1 && p < p1) {
      for (int m = 2; m <= 9; ++m) s.minor.push_back(m * v);
    }
  }
  return s;
}

Scale axis_scale(const Axis& axis, double data_min, double data_max) {
  for (const auto& end : {axis.min, axis.max}) {
    FLUXION_CHECK(!end || (std::isfinite(*end) && (!axis.log || *end > 0)), "axis '", axis.label,
                  "': a fixed end must be finite", axis.log ? " and > 0 on a log axis" : "", ", got ", *end);
  }
  FLUXION_CHECK(!axis.min || !axis.max || *axis.min < *axis.max, "axis '", axis.label, "': min ", *axis.min,
                " is not below max ", *axis.max);
  const bool no_data = std::isnan(data_min) || std::isnan(data_max);
  double lo = no_data ? (axis.log ? 1 : 0) : data_min;
  double hi = no_data ? (axis.log ? 10 : 1) : data_max;
  if (axis.min) lo = *axis.min;
  if (axis.max) hi = *axis.max;
  if (hi <= lo) {  // one fixed end beyond all data: give the other end room
    if (axis.min) {
      hi = axis.log ? lo * 10 : lo + 1;
    } else {
      lo = axis.log ? hi / 10 : hi - 1;
    }
  }
  Scale s = axis.log ? log_scale(lo, hi) : linear_scale(lo, hi, 6, axis.integer);
  if (!axis.min && !axis.max) return s;
  if (axis.min) s.min = *axis.min;
  if (axis.max) s.max = *axis.max;
  const double slack = 1e-9 * (s.log ? 0 : s.max - s.min);
  const auto outside = [&](double v) { return v < s.min * (s.log ? 1 - 1e-12 : 1) - slack ||
                                              v > s.max * (s.log ? 1 + 1e-12 : 1) + slack; };
  std::erase_if(s.major, [&](const Tick& t) { return outside(t.value); });
  std::erase_if(s.minor, outside);
  return s;
}

std::string render_svg(const std::vector<Panel>& panels, const PlotOptions& options) {
  FLUXION_CHECK(!panels.empty(), "render_svg: no panels to draw");
  FLUXION_CHECK(options.panel_width > 0 && options.panel_height > 0 && options.font_size > 0 &&
                    std::isfinite(options.panel_width + options.panel_height + options.font_size),
                "render_svg: panel_width, panel_height and font_size must be positive, got ", options.panel_width,
                ", ", options.panel_height, " and ", options.font_size);
  for (const Panel& panel : panels) {
    for (const Series& s : panel.series) {
      FLUXION_CHECK(s.x.size() == s.y.size(), "render_svg: panel '", panel.title, "', series '", s.label,
                    "': x has ", s.x.size(), " values but y has ", s.y.size());
    }
  }
  const double fs = options.font_size;
  const double title_h = options.title.empty() ? 0 : 2.4 * fs;
  const double width = options.panel_width * static_cast<double>(panels.size());
  const double height = options.panel_height + title_h;

  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << coord(width) << "\" height=\"" << coord(height)
      << "\" viewBox=\"0 0 " << coord(width) << " " << coord(height)
      << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"" << coord(fs) << "\">\n";
  if (!options.title.empty()) out << "<title>" << xml_escape(options.title) << "</title>\n";
  out << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!options.title.empty()) {
    out << "<text class=\"plot-title\" x=\"" << coord(width / 2) << "\" y=\"" << coord(1.6 * fs)
        << "\" text-anchor=\"middle\" font-size=\"" << coord(1.35 * fs) << "\">" << xml_escape(options.title)
        << "</text>\n";
  }
  for (std::size_t i = 0; i < panels.size(); ++i) {
    PanelWriter(out, panels[i], i, options.panel_width * static_cast<double>(i), title_h, options).write();
  }
  out << "</svg>\n";
  return out.str();
}

void write_svg_file(const std::string& path, const std::string& svg) {
  // Every failure here is about the path the user chose (a missing folder,
  // no permission, a full disk): InputError, not a bug in Fluxion.
  FLUXION_CHECK_INPUT(!path.empty(), "write_svg_file: empty output path");
  try {
    write_file_atomically(path, svg, "write_svg_file");
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(e.what());
  }
}

}  // namespace fluxion::plot
