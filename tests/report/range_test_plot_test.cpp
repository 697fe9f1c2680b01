#include <doctest/doctest.h>

#include <string>

#include "report/range_test_plot.hpp"

namespace {

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("report::range_test_svg draws finished LRs as a line, diverged ones as crosses, and the bounds") {
  autolrs::search::RangeTestAnalysis analysis;
  using autolrs::search::OutcomeStatus;
  analysis.rows = {{1e-4, OutcomeStatus::succeeded, 0.9}, {1e-3, OutcomeStatus::succeeded, 0.5},
                   {1e-2, OutcomeStatus::succeeded, 0.3}, {1e-1, OutcomeStatus::diverged, std::nullopt}};
  analysis.start_loss = 1.0;
  analysis.lr_min = 1e-5 * 10;
  analysis.lr_max = 1e-2;
  const std::string svg = autolrs::report::range_test_svg(analysis);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(count(svg, "<circle") == 3);
  CHECK(count(svg, "&#215;") == 1);
  CHECK(count(svg, "<polyline") == 1);
  CHECK(svg.find(">lr_min 0.0001</text>") != std::string::npos);
  CHECK(svg.find(">lr_max 0.01</text>") != std::string::npos);
  for (const char* decade : {">1e-4<", ">1e-3<", ">1e-2<", ">1e-1<"}) CHECK(svg.find(decade) != std::string::npos);
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);

  SUBCASE("the lowest loss is drawn lowest") {
    // y grows downward: the 0.3 point has the largest cy.
    const size_t best = svg.find("<circle", svg.find("<circle", svg.find("<circle") + 1) + 1);
    const double best_y = std::stod(svg.substr(svg.find("cy=\"", best) + 4));
    const double first_y = std::stod(svg.substr(svg.find("cy=\"") + 4));
    CHECK(best_y > first_y);
  }
  SUBCASE("an empty analysis still gives a valid, finite plot") {
    const std::string empty = autolrs::report::range_test_svg(autolrs::search::RangeTestAnalysis{});
    CHECK(empty.find("nan") == std::string::npos);
    CHECK(empty.find("inf") == std::string::npos);
    CHECK(empty.substr(empty.size() - 7) == "</svg>\n");
  }
}
