#include <doctest/doctest.h>

#include "spec/did_you_mean.hpp"

using autolrs::spec::did_you_mean;
using autolrs::spec::edit_distance;

TEST_CASE("spec::edit_distance counts insertions, deletions, substitutions and transpositions") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("lr", "") == 2);
  CHECK(edit_distance("lr_min", "lr_min") == 0);
  CHECK(edit_distance("LR_MIN", "lr_min") == 0);
  CHECK(edit_distance("lr_mni", "lr_min") == 1);   // transposition
  CHECK(edit_distance("comand", "command") == 1);  // deletion
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("spec::did_you_mean suggests the closest name only when it is a likely typo") {
  const std::vector<std::string> keys = {"lr_min", "lr_max", "probes_per_stage", "seed", "steps"};
  CHECK(did_you_mean("lr_mni", keys) == "lr_min");
  CHECK(did_you_mean("lr-max", keys) == "lr_max");
  CHECK(did_you_mean("probe_per_stage", keys) == "probes_per_stage");
  CHECK(did_you_mean("sed", keys) == "seed");
  CHECK(did_you_mean("sd", keys) == std::nullopt);         // two edits from a four-letter name
  CHECK(did_you_mean("learning_rate", keys) == std::nullopt);
  CHECK(did_you_mean(std::string(1 << 20, 'x'), keys) == std::nullopt);
  CHECK(did_you_mean("lr_m", keys) == "lr_min");  // two edits from lr_min and from lr_max: the first wins
}
