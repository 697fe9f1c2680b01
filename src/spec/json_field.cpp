#include "spec/json_field.hpp"

#include <cmath>

#include "spec/command_template.hpp"
#include "spec/did_you_mean.hpp"
#include "spec/input_error.hpp"

namespace autolrs::spec {

JsonField::JsonField(const nlohmann::json& value, std::string path) : m_value(&value), m_path(std::move(path)) {}

void JsonField::fail(const std::string& reason) const { throw InputError(m_path, reason); }

std::string JsonField::describe() const {
  switch (m_value->type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return m_value->get<bool>() ? "boolean true" : "boolean false";
    case nlohmann::json::value_t::number_integer: return "number " + std::to_string(m_value->get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return "number " + std::to_string(m_value->get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return "number " + format_number(m_value->get<double>());
    case nlohmann::json::value_t::string: return "string " + quoted_text(m_value->get_ref<const std::string&>());
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    default: return "binary data";
  }
}

void JsonField::require_object(const std::vector<std::string>& known) const {
  if (!m_value->is_object()) fail("must be an object, got " + describe());
  for (const auto& [key, value] : m_value->items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const JsonField unknown(value, (m_path.empty() ? "" : m_path + ".") + printable(key));
    if (const std::optional<std::string> close = did_you_mean(key, known)) {
      unknown.fail("unknown key (did you mean " + *close + "?)");
    }
    std::string list;
    for (const std::string& name : known) list += (list.empty() ? "" : ", ") + name;
    unknown.fail("unknown key (known keys here: " + list + ")");
  }
}

std::optional<JsonField> JsonField::member(const std::string& key) const {
  const auto found = m_value->find(key);
  if (found == m_value->end()) return std::nullopt;
  return JsonField(*found, (m_path.empty() ? "" : m_path + ".") + printable(key));
}

JsonField JsonField::required_member(const std::string& key) const {
  if (std::optional<JsonField> found = member(key)) return *found;
  throw InputError((m_path.empty() ? "" : m_path + ".") + key, "required key missing");
}

std::vector<std::pair<std::string, JsonField>> JsonField::members() const {
  if (!m_value->is_object()) fail("must be an object, got " + describe());
  std::vector<std::pair<std::string, JsonField>> result;
  for (const auto& [key, value] : m_value->items()) {
    result.emplace_back(key, JsonField(value, (m_path.empty() ? "" : m_path + ".") + printable(key)));
  }
  return result;
}

std::vector<JsonField> JsonField::elements() const {
  if (!m_value->is_array()) fail("must be an array, got " + describe());
  std::vector<JsonField> result;
  for (std::size_t index = 0; index < m_value->size(); ++index) {
    result.emplace_back((*m_value)[index], m_path + "[" + std::to_string(index) + "]");
  }
  return result;
}

double JsonField::number() const {
  if (!m_value->is_number()) fail("must be a number, got " + describe());
  const double value = m_value->get<double>();
  if (!std::isfinite(value)) fail("must be a finite number, got " + format_number(value));
  return value;
}

std::int64_t JsonField::integer(std::int64_t min, std::int64_t max) const {
  if (!m_value->is_number()) fail("must be an integer, got " + describe());
  std::int64_t value = 0;
  if (m_value->is_number_unsigned()) {
    const auto unsigned_value = m_value->get<std::uint64_t>();
    if (unsigned_value > static_cast<std::uint64_t>(max)) {
      fail("must be <= " + std::to_string(max) + ", got " + std::to_string(unsigned_value));
    }
    value = static_cast<std::int64_t>(unsigned_value);
  } else if (m_value->is_number_float()) {
    const double real = number();
    if (real != std::floor(real)) fail("must be an integer, got " + format_number(real));
    // Outside ±2^63 the cast is undefined; compare as doubles first.
    if (real < static_cast<double>(min)) fail("must be >= " + std::to_string(min) + ", got " + format_number(real));
    if (real >= 0x1p63 || real > static_cast<double>(max)) {
      fail("must be <= " + std::to_string(max) + ", got " + format_number(real));
    }
    value = static_cast<std::int64_t>(real);
  } else {
    value = m_value->get<std::int64_t>();
  }
  if (value < min) fail("must be >= " + std::to_string(min) + ", got " + std::to_string(value));
  if (value > max) fail("must be <= " + std::to_string(max) + ", got " + std::to_string(value));
  return value;
}

bool JsonField::boolean() const {
  if (!m_value->is_boolean()) fail("must be true or false, got " + describe());
  return m_value->get<bool>();
}

std::string JsonField::string() const {
  if (!m_value->is_string()) fail("must be a string, got " + describe());
  const std::string& text = m_value->get_ref<const std::string&>();
  if (text.find('\0') != std::string::npos) fail("must not contain a NUL character, got " + describe());
  return text;
}

std::vector<std::string> JsonField::string_array() const {
  std::vector<std::string> result;
  for (const JsonField& element : elements()) result.push_back(element.string());
  return result;
}

std::map<std::string, std::string> JsonField::string_map() const {
  std::map<std::string, std::string> result;
  for (const auto& [key, value] : members()) result.emplace(key, value.string());
  return result;
}

}  // namespace autolrs::spec
