// The SVG plot writer (plot/svg_plot.h) and the run-directory reader behind
// `fluxion plot` (plot/run_metrics.h): nice ticks, escaping, skipped points,
// a well-formed document, atomic writes, and every way a metrics file is
// rejected.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "helpers.h"
#include "plot/run_metrics.h"
#include "plot/svg_plot.h"

using namespace fluxion;
using namespace fluxion::plot;
namespace fs = std::filesystem;
using test::TempDir;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

std::vector<double> tick_values(const Scale& s) {
  std::vector<double> v;
  for (const Tick& t : s.major) v.push_back(t.value);
  return v;
}

std::vector<std::string> tick_labels(const Scale& s) {
  std::vector<std::string> v;
  for (const Tick& t : s.major) v.push_back(t.label);
  return v;
}

void check_values(const std::vector<double>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-12));
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// A small XML well-formedness check: tags balance and nest, exactly one root,
// attribute quotes pair up, and text and attributes use only the five
// predefined entities (or numeric ones). Returns "" or what is wrong.
std::string xml_problem(const std::string& doc) {
  std::vector<std::string> open;
  int roots = 0;
  const auto entities_ok = [](const std::string& s) {
    for (auto amp = s.find('&'); amp != std::string::npos; amp = s.find('&', amp + 1)) {
      const auto semi = s.find(';', amp);
      if (semi == std::string::npos) return false;
      const std::string name = s.substr(amp + 1, semi - amp - 1);
      if (name != "amp" && name != "lt" && name != "gt" && name != "quot" && name != "apos" &&
          (name.empty() || name[0] != '#'))
        return false;
    }
    return true;
  };
  std::size_t i = 0;
  while (i < doc.size()) {
    const auto lt = doc.find('<', i);
    const std::string text = doc.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    if (!entities_ok(text)) return "bad entity in text: " + text;
    if (text.find('>') != std::string::npos) return "raw '>' in text: " + text;
    if (lt == std::string::npos) break;
    if (open.empty() && text.find_first_not_of(" \n") != std::string::npos) return "text outside the root";
    const auto gt = doc.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag";
    std::string tag = doc.substr(lt + 1, gt - lt - 1);
    if (count(tag, "\"") % 2 != 0) return "unpaired quote in <" + tag + ">";
    if (tag.find('<') != std::string::npos) return "'<' inside <" + tag + ">";
    if (!entities_ok(tag)) return "bad entity in <" + tag + ">";
    const std::string name = tag.substr(tag[0] == '/' ? 1 : 0, tag.find_first_of(" /\n", 1) - (tag[0] == '/'));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name) return "</" + name + "> does not close <" + (open.empty() ? "" : open.back()) + ">";
      open.pop_back();
    } else {
      if (open.empty() && ++roots > 1) return "more than one root element";
      if (tag.back() != '/') open.push_back(name);
    }
    i = gt + 1;
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  return roots == 1 ? "" : "no root element";
}

// The text contents of the <text> elements (tick labels, titles, legend).
std::vector<std::string> texts(const std::string& svg) {
  std::vector<std::string> out;
  for (auto at = svg.find("<text"); at != std::string::npos; at = svg.find("<text", at + 1)) {
    const auto start = svg.find('>', at) + 1;
    out.push_back(svg.substr(start, svg.find("</text>", start) - start));
  }
  return out;
}

bool has_text(const std::string& svg, const std::string& t) {
  for (const std::string& s : texts(svg)) {
    if (s == t) return true;
  }
  return false;
}

Panel two_line_panel() {
  Panel p{.title = "Test error", .x = {.label = "epoch"}, .y = {.label = "error (%)"}};
  p.series.push_back({.label = "sgd", .x = {1, 2, 3}, .y = {50, 30, 20}});
  p.series.push_back({.label = "adam", .x = {1, 2, 3}, .y = {45, 25, 22}});
  return p;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string metrics_line(int epoch, const std::string& test_error = "0.25", const std::string& extra = "") {
  return "{\"epoch\": " + std::to_string(epoch) +
         ", \"train_loss\": 1.5, \"train_error\": 0.4, \"test_loss\": 1.75, \"test_error\": " + test_error +
         ", \"lr\": 0.1, \"images_per_s\": 900.5, \"seconds\": 12" + extra + "}\n";
}

// A run directory under `tmp` with the given metrics.jsonl (and config.json if given).
std::string make_run(const TempDir& tmp, const std::string& name, const std::string& metrics,
                     const std::string& config = "") {
  const std::string dir = tmp.file(name);
  fs::create_directories(dir);
  write_text(dir + "/metrics.jsonl", metrics);
  if (!config.empty()) write_text(dir + "/config.json", config);
  return dir;
}

}  // namespace

// --- scales ---------------------------------------------------------------------------

TEST_CASE("svg plot: linear ticks are 1-2-5 steps widened to cover the data") {
  const Scale s = linear_scale(0, 0.93);
  check_values(tick_values(s), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  CHECK(tick_labels(s) == std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});
  CHECK(s.min == 0);
  CHECK(s.max == doctest::Approx(1.0));
  CHECK_FALSE(s.log);

  const Scale epochs = linear_scale(1, 30);
  check_values(tick_values(epochs), {0, 5, 10, 15, 20, 25, 30});
  CHECK(tick_labels(epochs).back() == "30");

  const Scale negative = linear_scale(-3.2, 7.9);
  check_values(tick_values(negative), {-4, -2, 0, 2, 4, 6, 8});
  CHECK(tick_labels(negative)[2] == "0");  // never "-0"

  const Scale big = linear_scale(0, 4.2e6);
  CHECK(tick_labels(big) == std::vector<std::string>{"0", "1e6", "2e6", "3e6", "4e6", "5e6"});
  const Scale small = linear_scale(1e-6, 4e-6);
  CHECK(tick_labels(small)[0] == "1.0e-6");
  CHECK(tick_labels(small)[1] == "1.5e-6");
}

TEST_CASE("svg plot: integer axes, and a single value, get sensible ranges") {
  check_values(tick_values(linear_scale(1, 3, 6, true)), {1, 2, 3});
  const Scale one_epoch = linear_scale(1, 1, 6, true);
  CHECK(one_epoch.min < 1);
  CHECK(one_epoch.max > 1);
  for (const Tick& t : one_epoch.major) CHECK(t.value == std::round(t.value));

  const Scale constant = linear_scale(5, 5);
  CHECK(constant.min < 5);
  CHECK(constant.max > 5);
  const Scale zero = linear_scale(0, 0);
  CHECK(zero.min < 0);
  CHECK(zero.max > 0);
  CHECK_THROWS_AS(linear_scale(kNaN, 1), Error);
  CHECK_THROWS_AS(linear_scale(2, 1), Error);
}

TEST_CASE("svg plot: log axes tick whole decades, labelled as powers of ten") {
  const Scale s = log_scale(3e-4, 2);
  CHECK(s.log);
  check_values(tick_values(s), {1e-4, 1e-3, 1e-2, 1e-1, 1, 10});
  REQUIRE(s.major.size() == 6);
  CHECK(s.major[0].label == "1e-4");
  CHECK(s.major[0].power == -4);
  CHECK(s.major[5].power == 1);
  CHECK(s.min == doctest::Approx(1e-4).scale(0));
  CHECK(s.max == doctest::Approx(10));
  CHECK(s.minor.size() == 5 * 8);  // 2..9 in each of the 5 decades
  CHECK(s.minor.front() == doctest::Approx(2e-4).scale(0));

  const Scale exact = log_scale(1, 1);  // one power of ten: a decade each side
  check_values(tick_values(exact), {0.1, 1, 10});

  const Scale wide = log_scale(1e-12, 1e12);  // 24 decades: every 3rd labelled
  CHECK(wide.major.size() <= 9);
  for (const Tick& t : wide.major) CHECK(*t.power % 3 == 0);
  CHECK(wide.min <= 1e-12);
  CHECK(wide.max >= 1e12);
  CHECK_THROWS_AS(log_scale(0, 1), Error);
  CHECK_THROWS_AS(log_scale(-1, 1), Error);
}

TEST_CASE("svg plot: fixed axis ends are kept exactly and bad ones are rejected") {
  const Scale s = axis_scale(Axis{.label = "e", .min = 0.0, .max = 100.0}, 3, 40);
  CHECK(s.min == 0);
  CHECK(s.max == 100);
  check_values(tick_values(s), {0, 20, 40, 60, 80, 100});

  const Scale clipped = axis_scale(Axis{.label = "e", .min = 0.15, .max = 0.85}, 0, 1);
  for (const Tick& t : clipped.major) {
    CHECK(t.value >= 0.15);
    CHECK(t.value <= 0.85);
  }
  const Scale lower_only = axis_scale(Axis{.label = "e", .min = 0.0}, 3, 40);
  CHECK(lower_only.min == 0);
  CHECK(lower_only.max >= 40);
  const Scale no_data = axis_scale(Axis{.label = "e"}, kNaN, kNaN);
  CHECK(no_data.min < no_data.max);

  CHECK_THROWS_WITH_AS(axis_scale(Axis{.label = "lr", .min = 2.0, .max = 1.0}, 0, 1), doctest::Contains("lr"), Error);
  CHECK_THROWS_AS(axis_scale(Axis{.label = "lr", .log = true, .min = 0.0}, 1, 2), Error);
  CHECK_THROWS_AS(axis_scale(Axis{.label = "lr", .max = kInf}, 1, 2), Error);
}

// --- text -----------------------------------------------------------------------------

TEST_CASE("svg plot: labels are XML-escaped, control characters and bad UTF-8 cannot break the document") {
  CHECK(xml_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  CHECK(xml_escape("plain run_3 (sgd, resnet20)") == "plain run_3 (sgd, resnet20)");
  CHECK(xml_escape("caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x93\x88") == "caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x93\x88");
  CHECK(xml_escape(std::string("a\x01" "b\x1F" "c\td", 7)) == "abc\td");
  CHECK(xml_escape(std::string("nul\0x", 5)) == "nulx");
  CHECK(xml_escape("latin1 \xE9t\xE9") == "latin1 \xEF\xBF\xBDt\xEF\xBF\xBD");
  CHECK(xml_escape("cut \xE2\x86") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(xml_escape("overlong \xC0\xAF") == "overlong \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(xml_escape("surrogate \xED\xA0\x80") == "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");

  Panel p = two_line_panel();
  p.title = "<b>&co</b>";
  p.series[0].label = "run \"<1>\" & 'x'";
  const std::string svg = render_svg({p}, {.title = "A & B"});
  CHECK(xml_problem(svg) == "");
  CHECK(has_text(svg, "run &quot;&lt;1&gt;&quot; &amp; &apos;x&apos;"));
  CHECK(has_text(svg, "&lt;b&gt;&amp;co&lt;/b&gt;"));
  CHECK(has_text(svg, "A &amp; B"));
  CHECK(svg.find("<b>") == std::string::npos);
}

// --- documents ------------------------------------------------------------------------

TEST_CASE("svg plot: a document with one path per line series, the legend, and well-formed XML") {
  Panel loss{.title = "Training loss", .x = {.label = "epoch"}, .y = {.label = "loss", .log = true}};
  loss.series.push_back({.label = "sgd", .x = {1, 2, 3}, .y = {2.3, 0.5, 0.01}});
  loss.series.push_back({.label = "adam", .x = {1, 2, 3}, .y = {2.0, 0.3, 0.02}});
  loss.series.push_back({.label = "", .x = {1, 3}, .y = {1, 0.1}, .dashed = true});  // not in the legend
  const std::string svg = render_svg({two_line_panel(), loss}, {.title = "CIFAR-10"});

  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(xml_problem(svg) == "");
  CHECK(count(svg, "<path class=\"series line\"") == 5);
  CHECK(count(svg, "stroke-dasharray") == 1);
  CHECK(count(svg, "<g class=\"panel\">") == 2);
  CHECK(count(svg, "<g class=\"legend\">") == 2);
  CHECK(count(svg, "<text x=") > 10);  // tick labels and legend entries
  for (const char* label : {"sgd", "adam", "Test error", "Training loss", "epoch", "loss", "error (%)", "CIFAR-10"}) {
    CHECK_MESSAGE(has_text(svg, label), label);
  }
  CHECK(svg.find("10<tspan") != std::string::npos);  // log decades as 10^k
  // Series i has colour i of the cycle in every panel.
  CHECK(count(svg, "stroke=\"" + color_cycle(0) + "\"") == 4);  // 2 paths + 2 legend swatches
  CHECK(count(svg, "stroke=\"" + color_cycle(1) + "\"") == 4);
  CHECK(color_cycle(10) == color_cycle(0));
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
}

TEST_CASE("svg plot: points series draw one circle per drawable point, with fixed colours") {
  Panel fig{.title = "learning rates", .x = {.label = "<g^2>", .log = true}, .y = {.label = "lr", .log = true}};
  fig.series.push_back({.label = "AdaBayes", .x = {1e-6, 1e-4, 1e-2, 0, -1, kNaN}, .y = {1e-2, 1e-3, 1e-4, 1, 1, 1},
                        .style = Series::points});
  fig.series.push_back({.label = "Adam", .x = {1e-6, 1e-2}, .y = {1e-1, 1e-3}, .color = "black", .dashed = true});
  const std::string svg = render_svg({fig});
  CHECK(xml_problem(svg) == "");
  CHECK(count(svg, "<g class=\"series points\"") == 1);
  CHECK(count(svg, "<circle") == 3 + 1);  // three drawable points, one legend marker
  CHECK(count(svg, "<path class=\"series line\"") == 1);
  CHECK(svg.find("stroke=\"black\"") != std::string::npos);
  CHECK(has_text(svg, "&lt;g^2&gt;"));
}

TEST_CASE("svg plot: non-finite points are skipped and stay out of the axis ranges") {
  Panel p{.title = "t", .x = {.label = "x"}, .y = {.label = "y"}};
  p.series.push_back({.label = "", .x = {1, 2, 3, 4, 5, 6, 7}, .y = {1, 2, kNaN, 3, kInf, 4, 4.5}});
  const std::string svg = render_svg({p});
  CHECK(xml_problem(svg) == "");
  REQUIRE(count(svg, "<path class=\"series line\"") == 1);
  // The line breaks at each skipped point: three pieces, the middle one a single point.
  const auto d_at = svg.find(" d=\"", svg.find("<path class=\"series line\""));
  const std::string d = svg.substr(d_at + 4, svg.find('"', d_at + 4) - d_at - 4);
  CHECK(count(d, "M") == 3);
  CHECK(count(d, "l0 0") == 1);
  CHECK(count(svg, "<g class=\"lone-points\"") == 1);  // the dot gets a visible marker
  CHECK(count(svg, "<circle") == 1);
  // The y range comes from the finite values 1..4.5 alone.
  CHECK(has_text(svg, "4.5"));
  CHECK_FALSE(has_text(svg, "5.0"));

  // A series with nothing drawable changes nothing but its legend entry.
  Panel q = p;
  q.series.push_back({.label = "", .x = {1, 2}, .y = {kNaN, kInf}});
  q.series.push_back({.label = "", .x = {kNaN, 100}, .y = {1000, -kInf}});
  CHECK(render_svg({q}) == svg);
  q.series.push_back({.label = "diverged", .x = {1}, .y = {kNaN}});
  const std::string with_legend = render_svg({q});
  CHECK(has_text(with_legend, "diverged"));
  CHECK(count(with_legend, "<path class=\"series line\"") == 1);

  Panel empty{.title = "nothing", .x = {.label = "x"}, .y = {.label = "y", .log = true}};
  empty.series.push_back({.label = "none", .x = {1, 2}, .y = {0, -1}});  // nothing positive for a log axis
  CHECK(xml_problem(render_svg({empty})) == "");
}

TEST_CASE("svg plot: render_svg rejects what it cannot draw") {
  Panel p = two_line_panel();
  p.series[1].y.pop_back();
  CHECK_THROWS_WITH_AS(render_svg({p}), doctest::Contains("adam"), Error);
  CHECK_THROWS_AS(render_svg({}), Error);
  CHECK_THROWS_AS(render_svg({two_line_panel()}, {.panel_width = 0}), Error);
}

TEST_CASE("svg plot: write_svg_file replaces the file whole and names the path when it fails") {
  TempDir tmp;
  const std::string path = tmp.file("plot.svg");
  write_svg_file(path, "<svg>first</svg>");
  write_svg_file(path, "<svg>second</svg>");
  CHECK(read_text(path) == "<svg>second</svg>");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(tmp.path)) ++files;
  CHECK(files == 1);  // no temporary left behind

  const std::string missing = tmp.file("no/such/dir/plot.svg");
  CHECK_THROWS_WITH_AS(write_svg_file(missing, "<svg/>"), doctest::Contains(missing.c_str()), InputError);
  CHECK_THROWS_AS(write_svg_file(tmp.path.string(), "<svg/>"), InputError);  // a directory
  files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(tmp.path)) ++files;
  CHECK(files == 1);  // the failed rename left no temporary either
}

// --- run directories ------------------------------------------------------------------

TEST_CASE("run metrics: a good metrics.jsonl is read line by line") {
  TempDir tmp;
  const std::string dir = make_run(tmp, "run1", metrics_line(1, "0.5") + "\n" + metrics_line(2, "0.25", ", \"new_key\": [1]"));
  std::vector<std::string> warnings;
  const std::vector<EpochMetrics> m = read_metrics(dir, &warnings);
  CHECK(warnings.empty());
  REQUIRE(m.size() == 2);
  CHECK(m[0].epoch == 1);
  CHECK(m[0].test_error == 0.5);
  CHECK(m[1].epoch == 2);
  CHECK(m[1].test_error == 0.25);
  CHECK(m[1].train_loss == 1.5);
  CHECK(m[1].train_error == 0.4);
  CHECK(m[1].test_loss == 1.75);
  CHECK(m[1].lr == 0.1);
  CHECK(m[1].images_per_s == 900.5);
  CHECK(m[1].seconds == 12);
}

TEST_CASE("run metrics: bad files are rejected with the file, the line and what is wrong") {
  TempDir tmp;
  const auto error_of = [&](const std::string& metrics) -> std::string {
    const std::string dir = make_run(tmp, "bad", metrics);
    try {
      read_metrics(dir);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string file = tmp.file("bad") + "/metrics.jsonl";

  std::string e = error_of(metrics_line(1) + "{\"epoch\": 2, \"train_loss\": \n" + metrics_line(3));
  CHECK_MESSAGE(e.find(file + ":2:") != std::string::npos, e);
  CHECK_MESSAGE(e.find("malformed") != std::string::npos, e);

  e = error_of(metrics_line(1) + metrics_line(2, "NaN"));
  CHECK_MESSAGE(e.find(file + ":2:") != std::string::npos, e);
  CHECK_MESSAGE(e.find("write null") != std::string::npos, e);

  e = error_of("{\"epoch\": 1, \"train_loss\": 1, \"train_error\": 0.5, \"test_loss\": 1, \"lr\": 0.1, "
               "\"images_per_s\": 1, \"seconds\": 1}\n");
  CHECK_MESSAGE(e.find(file + ":1:") != std::string::npos, e);
  CHECK_MESSAGE(e.find("missing key 'test_error'") != std::string::npos, e);

  e = error_of(metrics_line(1) + metrics_line(2, "1e999"));
  CHECK_MESSAGE(e.find(":2: malformed line") != std::string::npos, e);
  CHECK_MESSAGE(e.find("overflow") != std::string::npos, e);
  e = error_of(metrics_line(1) + metrics_line(2, "\"0.3\""));
  CHECK_MESSAGE(e.find(":2: 'test_error' must be a number") != std::string::npos, e);
  e = error_of(metrics_line(1, "45"));
  CHECK_MESSAGE(e.find(":1: 'test_error' must be a fraction in [0, 1]") != std::string::npos, e);
  e = error_of(metrics_line(2) + metrics_line(2));
  CHECK_MESSAGE(e.find(":2: epoch 2 comes after epoch 2") != std::string::npos, e);
  e = error_of(metrics_line(0));
  CHECK_MESSAGE(e.find(":1: 'epoch' must be between 1") != std::string::npos, e);
  e = error_of("[1, 2]\n");
  CHECK_MESSAGE(e.find(":1: expected a JSON object") != std::string::npos, e);
  e = error_of("");
  CHECK_MESSAGE(e.find("holds no epochs (the file is empty)") != std::string::npos, e);
  e = error_of("\n  \n");
  CHECK_MESSAGE(e.find("holds no epochs") != std::string::npos, e);

  const std::string no_metrics = tmp.file("no_metrics");
  fs::create_directories(no_metrics);
  CHECK_THROWS_WITH_AS(read_metrics(no_metrics), doctest::Contains((no_metrics + "/metrics.jsonl' not found").c_str()),
                       InputError);
  CHECK_THROWS_WITH_AS(read_metrics(tmp.file("absent")), doctest::Contains("does not exist"), InputError);
  CHECK_THROWS_WITH_AS(read_metrics(file), doctest::Contains("is not a directory"), InputError);
}

TEST_CASE("run metrics: null (a diverged run) reads as NaN with a warning, a half-written last line is skipped") {
  TempDir tmp;
  std::string lines = metrics_line(1);
  for (int epoch = 2; epoch <= 4; ++epoch) {
    lines += "{\"epoch\": " + std::to_string(epoch) +
             ", \"train_loss\": null, \"train_error\": 0.9, \"test_loss\": null, \"test_error\": 0.9, \"lr\": 0.1, "
             "\"images_per_s\": 900, \"seconds\": 12}\n";
  }
  const std::string dir = make_run(tmp, "diverged", lines + "{\"epoch\": 5, \"train_lo");
  std::vector<std::string> warnings;
  const std::vector<EpochMetrics> m = read_metrics(dir, &warnings);
  REQUIRE(m.size() == 4);
  CHECK(m[0].train_loss == 1.5);
  CHECK(std::isnan(m[1].train_loss));
  CHECK(std::isnan(m[3].test_loss));
  CHECK(m[3].test_error == 0.9);
  REQUIRE(warnings.size() == 3);  // the incomplete line, then one per key
  CHECK(warnings[0].find("metrics.jsonl:5: the last line is incomplete") != std::string::npos);
  CHECK(warnings[1].find("metrics.jsonl:2: 'test_loss' is null or not finite") != std::string::npos);
  CHECK(warnings[1].find("2 later lines") != std::string::npos);
  CHECK(warnings[2].find("'train_loss'") != std::string::npos);
  CHECK(read_metrics(dir).size() == 4);  // warnings are optional
}

TEST_CASE("run metrics: the label is the folder name, with optimizer and model from config.json") {
  TempDir tmp;
  const std::string plain = make_run(tmp, "plain", metrics_line(1));
  CHECK(run_label(plain) == "plain");
  CHECK(run_label(plain + "/") == "plain");
  const std::string full = make_run(tmp, "run3", metrics_line(1),
                                    R"({"model": "resnet20", "optimizer": "adabayes", "dataset": "cifar10"})");
  CHECK(run_label(full) == "run3 (adabayes, resnet20)");
  const std::string nested = make_run(tmp, "run4", metrics_line(1),
                                      R"({"model": {"name": "densenet"}, "optimizer": {"name": "sgd", "lr": 0.1}})");
  CHECK(run_label(nested) == "run4 (sgd, densenet)");
  const std::string model_only = make_run(tmp, "run5", metrics_line(1), R"({"model": "small_cnn"})");
  CHECK(run_label(model_only) == "run5 (small_cnn)");
  const std::string broken = make_run(tmp, "run6", metrics_line(1), "{\"model\": ");
  CHECK_THROWS_WITH_AS(run_label(broken), doctest::Contains("config.json"), InputError);
  const std::string not_object = make_run(tmp, "run7", metrics_line(1), "[]");
  CHECK_THROWS_WITH_AS(run_label(not_object), doctest::Contains("expected a JSON object"), InputError);
}
