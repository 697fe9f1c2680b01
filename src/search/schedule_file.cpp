#include "search/schedule_file.hpp"

#include <charconv>
#include <cmath>
#include <optional>

#include "spec/command_template.hpp"
#include "spec/input_error.hpp"

namespace autolrs::search {

namespace {

constexpr std::string_view header = "stage,start_step,steps,lr,lr_end";

std::vector<std::string_view> split_fields(std::string_view row) {
  std::vector<std::string_view> fields;
  for (std::size_t comma; (comma = row.find(',')) != std::string_view::npos; row.remove_prefix(comma + 1)) {
    fields.push_back(row.substr(0, comma));
  }
  fields.push_back(row);
  return fields;
}

/// The whole of `field` as a number of type T, or nullopt (no blanks, signs or trailing text).
template <typename T>
std::optional<T> whole_number(std::string_view field) {
  T value{};
  const std::from_chars_result result = std::from_chars(field.data(), field.data() + field.size(), value);
  if (result.ec != std::errc() || result.ptr != field.data() + field.size()) return std::nullopt;
  return value;
}

/// One row's fields, each checked, with the row's place in the file for errors.
class RowReader {
 public:
  RowReader(std::string_view row, std::string where) : m_fields(split_fields(row)), m_where(std::move(where)) {
    if (m_fields.size() != header_fields) {
      fail("expected 5 fields (" + std::string(header) + "), got " + std::to_string(m_fields.size()));
    }
  }

  std::string_view stage() const { return m_fields[0]; }

  long integer(std::size_t index, long at_least) const {
    const std::optional<long> value = whole_number<long>(m_fields[index]);
    if (!value) fail(name(index) + " must be an integer, got " + spec::quoted_text(m_fields[index]));
    if (*value < at_least) fail(name(index) + " must be >= " + std::to_string(at_least) + ", got " + std::to_string(*value));
    return *value;
  }

  double lr(std::size_t index, bool zero_allowed) const {
    const std::optional<double> value = whole_number<double>(m_fields[index]);
    if (!value || !std::isfinite(*value)) fail(name(index) + " must be a finite number, got " + spec::quoted_text(m_fields[index]));
    if (zero_allowed ? *value < 0 : *value <= 0) {
      fail(name(index) + (zero_allowed ? " must be >= 0" : " must be > 0") + ", got " + spec::format_number(*value));
    }
    return *value;
  }

  [[noreturn]] void fail(const std::string& reason) const { throw spec::InputError(m_where, reason); }

 private:
  static constexpr std::size_t header_fields = 5;
  static std::string name(std::size_t index) { return std::string(split_fields(header)[index]); }

  std::vector<std::string_view> m_fields;
  std::string m_where;
};

}  // namespace

long ReplayedSchedule::total_steps() const {
  return warmup.steps + (segments.empty() ? 0 : segments.back().start_step + segments.back().steps);
}

ReplayedSchedule parse_schedule_csv(std::string_view text, const std::string& file_name) {
  ReplayedSchedule schedule;
  long next_step = 0;  // on the whole run's step axis, where the next row must start
  int line_number = 0;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view row = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (row.ends_with('\r')) row.remove_suffix(1);
    const std::string where = file_name + ":" + std::to_string(line_number);
    if (line_number == 1) {
      if (row != header) throw spec::InputError(where, "expected the header " + std::string(header) + ", got " + spec::quoted_text(row));
      continue;
    }
    if (row.empty()) throw spec::InputError(where, "empty row");
    const RowReader reader(row, where);
    const long start = reader.integer(1, 0);
    const long steps = reader.integer(2, 1);
    const double lr = reader.lr(3, false);
    const double lr_end = reader.lr(4, true);
    if (start != next_step) {
      reader.fail("starts at step " + std::to_string(start) + ", but the rows before it end at step " + std::to_string(next_step));
    }
    next_step = start + steps;
    if (reader.stage() == "warmup") {
      if (line_number != 2) reader.fail("a warmup row must be the first row");
      if (lr_end != lr) reader.fail("a warmup row must have lr_end = lr");
      schedule.warmup = {steps, lr};
      continue;
    }
    if (!whole_number<int>(reader.stage())) reader.fail("stage must be \"warmup\" or a stage number, got " + spec::quoted_text(reader.stage()));
    ScheduleSegment segment{start - schedule.warmup.steps, steps, lr, std::nullopt};
    if (lr_end != lr) segment.lr_end = lr_end;
    schedule.segments.push_back(segment);
  }
  if (line_number == 0) throw spec::InputError(file_name, "empty file, expected the header " + std::string(header));
  if (schedule.segments.empty()) throw spec::InputError(file_name, "no stage rows: the run it comes from trained no stage");
  return schedule;
}

ReplayedSchedule scaled_to(const ReplayedSchedule& schedule, long total_steps) {
  const long file_steps = schedule.total_steps();
  if (file_steps == total_steps) return schedule;
  // long double: b·T is exact below 2^64 on x86-64, beyond any run's step counts.
  const auto moved = [&](long boundary) {
    return static_cast<long>(std::llround(static_cast<long double>(boundary) * total_steps / file_steps));
  };
  const auto too_short = [&](const std::string& row) {
    return spec::InputError("total_steps", "scaling the schedule file's " + std::to_string(file_steps) + " steps to " +
                                               std::to_string(total_steps) + " leaves its " + row + " without steps");
  };
  ReplayedSchedule scaled;
  scaled.warmup = {moved(schedule.warmup.steps), schedule.warmup.lr};
  if (schedule.warmup.steps > 0 && scaled.warmup.steps == 0) throw too_short("warmup");
  for (std::size_t k = 0; k < schedule.segments.size(); ++k) {
    const ScheduleSegment& segment = schedule.segments[k];
    const long start = moved(schedule.warmup.steps + segment.start_step);
    const long end = moved(schedule.warmup.steps + segment.start_step + segment.steps);
    if (end == start) throw too_short("stage " + std::to_string(k));
    scaled.segments.push_back({start - scaled.warmup.steps, end - start, segment.lr, segment.lr_end});
  }
  return scaled;
}

std::vector<ScheduleSegment> constant_pieces(std::vector<ScheduleSegment> segments) {
  for (ScheduleSegment& segment : segments) {
    if (!segment.lr_end) continue;
    const double n = static_cast<double>(segment.steps);
    segment.lr += (*segment.lr_end - segment.lr) * (n - 1) / (2 * n);
    segment.lr_end.reset();
  }
  return segments;
}

}  // namespace autolrs::search
