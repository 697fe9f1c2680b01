#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "report/occurrences.hpp"

namespace autolrs::testing {

/// Every polyline's coordinates ("x,y x,y ..."), in document order. (A plain scan: std::regex
/// recurses per character and overflows the stack on a long points list under AddressSanitizer.)
inline std::vector<std::string> polylines(const std::string& html) {
  std::vector<std::string> found;
  const std::string opening = "<polyline points=\"";
  for (std::size_t at = html.find(opening); at != std::string::npos; at = html.find(opening, at)) {
    at += opening.size();
    const std::size_t end = html.find('"', at);
    found.push_back(html.substr(at, end - at));
    at = end;
  }
  return found;
}

/// Checks that a page needs nothing outside itself: no script, no link, no fetched resource.
inline void check_self_contained(const std::string& html) {
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http:") == std::string::npos);
  CHECK(html.find("https:") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("href=") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(occurrences(html, "url(") == occurrences(html, "url(#"));  // only the document's own clip paths
  CHECK(occurrences(html, "<svg") == occurrences(html, "</svg>"));
}

}  // namespace autolrs::testing
