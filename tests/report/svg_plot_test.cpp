#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>

#include "report/occurrences.hpp"
#include "report/svg_plot.hpp"

using namespace autolrs::report;

using autolrs::testing::occurrences;

namespace {

void check_ticks(const std::vector<double>& ticks, const std::vector<double>& expected) {
  REQUIRE(ticks.size() == expected.size());
  for (size_t i = 0; i < ticks.size(); ++i) CHECK(ticks[i] == doctest::Approx(expected[i]).epsilon(1e-12));
}

}  // namespace

TEST_CASE("report::escape_html turns markup characters into character references") {
  CHECK(escape_html("<script>alert(\"x\")</script> & 'y'") ==
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
  CHECK(escape_html("plain text, ünïcode") == "plain text, ünïcode");
  CHECK(escape_html("") == "");
}

TEST_CASE("report::format_number writes plain decimals in a middle range and powers of ten outside it") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    double value;
    const char* expected;
  };
  for (const Case& c : {Case{0, "0"}, Case{0.002, "0.002"}, Case{2500, "2500"}, Case{0.25, "0.25"}, Case{0.031623, "0.0316"},
                        Case{-1.5, "-1.5"}, Case{1e-4, "10⁻⁴"}, Case{2.5e6, "2.5×10⁶"}, Case{9.9996e-5, "10⁻⁴"},
                        Case{3e-12, "3×10⁻¹²"}, Case{nan, "NaN"}, Case{inf, "∞"}, Case{-inf, "−∞"}}) {
    CAPTURE(c.value);
    CHECK(format_number(c.value) == c.expected);
  }
  CHECK(format_number(0.0316228, 4) == "0.03162");
}

TEST_CASE("report::tick_labels takes as many digits as neighbouring ticks need to differ") {
  using Labels = std::vector<std::string>;
  CHECK(tick_labels({0.1, 0.2, 0.3}, false) == Labels{"0.1", "0.2", "0.3"});
  // A narrow loss range: with three digits the ticks read 0.0751, 0.0751, 0.0752, 0.0752, ...
  CHECK(tick_labels(linear_ticks(0.07512, 0.07528, 6), false) ==
        Labels{"0.07512", "0.07514", "0.07516", "0.07518", "0.0752", "0.07522", "0.07524", "0.07526", "0.07528"});
  CHECK(tick_labels({0.07512, 0.07513}, false) == Labels{"0.07512", "0.07513"});
  CHECK(tick_labels({0.075121, 0.075122}, false) == Labels{"0.075121", "0.075122"});
  CHECK(tick_labels({1000, 2000}, true) == Labels{"1000", "2000"});
  CHECK(tick_labels({}, false).empty());
}

TEST_CASE("report::format_count abbreviates large step counts") {
  CHECK(format_count(0) == "0");
  CHECK(format_count(950) == "950");
  CHECK(format_count(1500) == "1500");
  CHECK(format_count(12000) == "12k");
  CHECK(format_count(12500) == "12.5k");
  CHECK(format_count(2.5e6) == "2.5M");
}

TEST_CASE("report::linear_ticks steps by 1, 2 or 5 times a power of ten") {
  check_ticks(linear_ticks(0, 6000, 8), {0, 1000, 2000, 3000, 4000, 5000, 6000});
  check_ticks(linear_ticks(0.13, 0.97, 5), {0.2, 0.4, 0.6, 0.8});
  check_ticks(linear_ticks(-1, 1, 4), {-1, -0.5, 0, 0.5, 1});
  check_ticks(linear_ticks(3, 3, 5), {3});
  CHECK(linear_ticks(2, 1, 5).empty());
  CHECK(linear_ticks(std::nan(""), 1, 5).empty());
  CHECK(linear_ticks(0, 1, 5)[2] == 0.4);  // multiples of the step, without accumulated error
}

TEST_CASE("report::log_ticks uses decades, then 1-2-5 multiples, then linear ticks for narrow ranges") {
  check_ticks(log_ticks(1e-4, 1), {1e-4, 1e-3, 1e-2, 0.1, 1});
  SUBCASE("many decades are thinned to at most 8 ticks") { check_ticks(log_ticks(1e-12, 1e4), {1e-12, 1e-9, 1e-6, 1e-3, 1, 1e3}); }
  SUBCASE("two decades get 1, 2, 5 multiples") { check_ticks(log_ticks(0.003, 0.4), {0.005, 0.01, 0.02, 0.05, 0.1, 0.2}); }
  SUBCASE("a range inside one 1-2-5 step gets linear ticks") { check_ticks(log_ticks(0.011, 0.019), {0.012, 0.014, 0.016, 0.018}); }
  SUBCASE("ranges that are not positive have no ticks") {
    CHECK(log_ticks(0, 1).empty());
    CHECK(log_ticks(-1, 1).empty());
    CHECK(log_ticks(1, std::numeric_limits<double>::infinity()).empty());
  }
}

TEST_CASE("report::Scale maps linear and log axes onto pixels") {
  SUBCASE("linear") {
    const Scale scale(Axis{AxisKind::linear, 0, 10, "", false}, 100, 200);
    CHECK(scale.px(0) == 100);
    CHECK(scale.px(5) == 150);
    CHECK(scale.px(10) == 200);
    CHECK(scale.px(1e9) == 300);  // far off: held just outside, for the clip path to hide
    CHECK(scale.representable(-3));
  }
  SUBCASE("log, inverted as a y axis") {
    const Scale scale(Axis{AxisKind::log, 1e-4, 1, "", false}, 400, 0);
    CHECK(scale.px(1e-4) == doctest::Approx(400));
    CHECK(scale.px(1e-2) == doctest::Approx(200));
    CHECK(scale.px(1) == doctest::Approx(0));
    CHECK_FALSE(scale.representable(0));
    CHECK_FALSE(scale.representable(-1));
    CHECK_FALSE(scale.representable(std::numeric_limits<double>::infinity()));
  }
}

TEST_CASE("report::Extent pads what it saw and ignores values its axis cannot show") {
  Extent linear;
  for (double value : {2.0, std::nan(""), 0.0, 10.0, std::numeric_limits<double>::infinity()}) linear.add(value);
  const Axis linear_axis = linear.axis("loss", 0.1, 0, 1);
  CHECK(linear_axis.lo == doctest::Approx(-1));
  CHECK(linear_axis.hi == doctest::Approx(11));
  CHECK(linear_axis.label == "loss");

  Extent log(AxisKind::log);
  for (double value : {1.0, 0.0, -5.0, 100.0}) log.add(value);
  const Axis log_axis = log.axis("lr", 0.5, 0, 1);
  CHECK(log_axis.kind == AxisKind::log);
  CHECK(log_axis.lo == doctest::Approx(0.1));
  CHECK(log_axis.hi == doctest::Approx(1000));

  Extent single;
  single.add(5);
  CHECK(single.axis("", 0.1, 0, 1).lo == doctest::Approx(4.5));
  CHECK(single.axis("", 0.1, 0, 1).hi == doctest::Approx(5.5));
  const Axis fallback = Extent().axis("", 0.1, 3, 4);
  CHECK(fallback.lo == 3);
  CHECK(fallback.hi == 4);
}

TEST_CASE("report::decimate keeps the ends and each run's extremes, in order, within the budget") {
  std::vector<Point> series;
  for (int i = 0; i < 10000; ++i) series.push_back({static_cast<double>(i), std::sin(i * 0.01) + (i == 6543 ? 5.0 : 0.0)});
  const std::vector<Point> kept = decimate(series, 100);
  CHECK(kept.size() <= 100);
  CHECK(kept.size() >= 90);
  CHECK(kept.front().x == 0);
  CHECK(kept.back().x == 9999);
  CHECK(std::is_sorted(kept.begin(), kept.end(), [](const Point& a, const Point& b) { return a.x < b.x; }));
  CHECK(std::any_of(kept.begin(), kept.end(), [](const Point& p) { return p.x == 6543; }));  // the spike survives
  const auto lowest = std::min_element(series.begin(), series.end(), [](const Point& a, const Point& b) { return a.y < b.y; });
  CHECK(std::any_of(kept.begin(), kept.end(), [&](const Point& p) { return p.x == lowest->x; }));

  const std::vector<Point> short_series = {{0, 1}, {1, 2}, {2, 3}};
  CHECK(decimate(short_series, 4).size() == 3);
  CHECK_THROWS_AS(decimate(series, 3), std::invalid_argument);
}

TEST_CASE("report::SvgPlot draws representable points only, clipped, with escaped labels") {
  SvgPlot plot("p1", 400, 300, Axis{AxisKind::linear, 0, 2, "step <i>", true}, Axis{AxisKind::log, 0.1, 10, "loss", false});
  plot.add_line({{0, 1}, {1, std::nan("")}, {1.5, -1}, {2, 3}}, LineStyle{"#123456", 1.5, 1, ""}, 2000, "train & val");
  plot.add_line({{1, 1}}, LineStyle{"#654321", 1.5, 1, ""}, 2000);
  plot.add_note("<b>no data</b>");
  const std::string svg = plot.render("a \"plot\"");

  CHECK(occurrences(svg, "<svg") == 1);
  CHECK(svg.find("aria-label=\"a &quot;plot&quot;\"") != std::string::npos);
  CHECK(svg.find("<clipPath id=\"p1-clip\">") != std::string::npos);
  CHECK(svg.find("clip-path=\"url(#p1-clip)\"") != std::string::npos);
  CHECK(svg.find("step &lt;i&gt;") != std::string::npos);
  CHECK(svg.find("&lt;b&gt;no data&lt;/b&gt;") != std::string::npos);
  CHECK(svg.find("<title>train &amp; val</title>") != std::string::npos);
  // The plot area spans x 72..382 and y 22..252; (0, 1) is at the left edge, halfway up the log axis.
  const std::smatch line = [&] {
    std::smatch match;
    REQUIRE(std::regex_search(svg, match, std::regex("<polyline points=\"([^\"]*)\"")));
    return match;
  }();
  CHECK(line[1].str() == "72.0,137.0 382.0,82.1");
  CHECK(occurrences(svg, "<polyline") == 1);
  CHECK(svg.find("<circle cx=\"227.0\" cy=\"137.0\"") != std::string::npos);  // the single point
}

TEST_CASE("report::trailing_mean averages each point with the ones before it, skipping non-finite values") {
  const std::vector<Point> smoothed = trailing_mean({{1, 2}, {2, 4}, {3, std::nan("")}, {4, 9}, {5, 1}}, 2);
  REQUIRE(smoothed.size() == 5);
  const std::vector<double> expected = {2, 3, 4, 9, 5};
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(smoothed[i].x == static_cast<double>(i + 1));
    CHECK(smoothed[i].y == expected[i]);
  }
  CHECK(trailing_mean({{1, std::nan("")}, {2, 3}}, 1).size() == 1);
}
