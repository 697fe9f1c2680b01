#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace autolrs::spec {

/// A value of a parsed JSON document together with its path, e.g. "trainer.command[2]". Every read
/// checks the type and range and throws InputError on the path with a reason that shows the bad
/// value ("must be a number, got string \"abc\""). Refers to the document: keep it alive.
class JsonField {
 public:
  JsonField(const nlohmann::json& value, std::string path);

  const nlohmann::json& value() const { return *m_value; }
  const std::string& path() const { return m_path; }

  /// Throws InputError(path(), reason).
  [[noreturn]] void fail(const std::string& reason) const;
  /// The value described for a message: `string "abc"`, `number 1.5`, `boolean true`, `null`, `array`.
  std::string describe() const;

  /// Requires an object whose keys are all in `known`; the first unknown key fails on its own path
  /// with a "did you mean" where a known key is close, else the list of known keys.
  void require_object(const std::vector<std::string>& known) const;
  /// Member `key` of this object, nullopt when absent. Call require_object first.
  std::optional<JsonField> member(const std::string& key) const;
  /// Member `key` of this object; fails on its path when absent.
  JsonField required_member(const std::string& key) const;
  /// The members of an object in key order, each on its path.
  std::vector<std::pair<std::string, JsonField>> members() const;
  /// The elements of an array, each on its path ("x[0]", ...).
  std::vector<JsonField> elements() const;

  /// A finite number (JSON integers included).
  double number() const;
  /// An integer in [min, max]; integral floats such as 1e5 are accepted, 1.5 is not.
  std::int64_t integer(std::int64_t min, std::int64_t max) const;
  bool boolean() const;
  /// A string without NUL characters (they cannot be passed to a process).
  std::string string() const;
  /// An array of strings (string() each).
  std::vector<std::string> string_array() const;
  /// An object whose values are strings (string() each), e.g. environment variables.
  std::map<std::string, std::string> string_map() const;

 private:
  const nlohmann::json* m_value;
  std::string m_path;
};

}  // namespace autolrs::spec
