#pragma once

#include <string>

#include "search/range_test.hpp"

namespace autolrs::report {

/// range_test.svg: a self-contained SVG (no scripts, no external resources) of the range test's final
/// loss against LR on a log axis: a line through the LRs that finished, a red × at the top for each
/// that diverged or failed, the start loss as a dotted line, and the suggested lr_min and lr_max as
/// dashed verticals.
std::string range_test_svg(const search::RangeTestAnalysis& analysis);

}  // namespace autolrs::report
