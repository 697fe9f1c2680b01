#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "search/loss_series.hpp"

namespace autolrs::search {
namespace {

std::vector<LossPoint> numbered(std::size_t count) {
  std::vector<LossPoint> series;
  for (std::size_t i = 0; i < count; ++i) series.push_back({static_cast<double>(i + 1), 1.0 / static_cast<double>(i + 1)});
  return series;
}

std::vector<double> steps_of(const std::vector<LossPoint>& series) {
  std::vector<double> steps;
  for (const LossPoint& point : series) steps.push_back(point.step);
  return steps;
}

TEST_CASE("search::thin_series keeps a series within the limit whole") {
  const std::vector<LossPoint> series = numbered(4096);
  CHECK(steps_of(thin_series(series)) == steps_of(series));
  CHECK(thin_series({}).empty());
}

TEST_CASE("search::thin_series keeps the edges and every k-th raw point of the middle") {
  // 20 points, at most 9, edges of 2: the middle (16 points) gets 9 - 4 - 1 = 4 places, stride 4.
  const std::vector<LossPoint> kept = thin_series(numbered(20), 9, 2);
  CHECK(steps_of(kept) == std::vector<double>{1, 2, 3, 7, 11, 15, 19, 20});
  for (const LossPoint& point : kept) CHECK(point.loss == doctest::Approx(1.0 / point.step));  // raw values

  SUBCASE("and the first non-finite point, which says the launch broke") {
    std::vector<LossPoint> series = numbered(20);
    series[8].loss = std::numeric_limits<double>::quiet_NaN();
    series[12].loss = std::numeric_limits<double>::infinity();
    const std::vector<LossPoint> with_nan = thin_series(series, 9, 2);
    CHECK(steps_of(with_nan) == std::vector<double>{1, 2, 3, 7, 9, 11, 15, 19, 20});
    CHECK(std::isnan(with_nan[4].loss));
  }
}

TEST_CASE("search::thin_series bounds two million points to max_kept_points, the ends exact") {
  const std::vector<LossPoint> series = numbered(2'000'000);
  const std::vector<LossPoint> kept = thin_series(series);
  CHECK(kept.size() <= max_kept_points);
  CHECK(kept.size() > max_kept_points - 64);
  CHECK(kept.front().step == 1);
  CHECK(kept[31].step == 32);
  CHECK(kept.back().step == 2'000'000);
  CHECK(kept[kept.size() - 32].step == 2'000'000 - 31);
  CHECK(final_loss_level(kept) == final_loss_level(series));
  CHECK(initial_loss_level(kept) == initial_loss_level(series));
  for (std::size_t i = 1; i < kept.size(); ++i) REQUIRE(kept[i].step > kept[i - 1].step);
}

}  // namespace
}  // namespace autolrs::search
