#include "orchestrator/journal.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

using namespace autolrs;
using nlohmann::json;
using orchestrator::decode_record;
using orchestrator::encode_record;

TEST_CASE("orchestrator::encode_record writes each record kind in the journal's format") {
  orchestrator::LaunchReport report;
  report.request = search::LaunchRequest{search::LaunchKind::probe, 1, 2, 0, 0.25, 20, 100};
  report.request.decay_tail = true;
  report.request.from_probe = 2;
  report.outcome.status = search::OutcomeStatus::diverged;
  report.outcome.reason = "loss diverged (inf)";
  report.outcome.train = {{1, 0.5}, {2, std::nan("")}};
  report.wall_s = 1.5;
  report.checkpoint = "";
  report.stdout_log = "/r/logs/a.stdout.log";
  report.stderr_log = "/r/logs/a.stderr.log";

  const json request = {{"kind", "probe"}, {"stage", 1},       {"probe", 2},          {"attempt", 0},         {"lr", 0.25},
                        {"steps", 20},     {"start_step", 100}, {"from_probe", 2}, {"decay_tail", true}};
  CHECK(encode_record(orchestrator::StartedRecord{json{{"spec", {{"name", "x"}}}}}) ==
        json{{"type", "started"}, {"identity", {{"spec", {{"name", "x"}}}}}});
  CHECK(encode_record(orchestrator::IssuedRecord{3, {report.request}}) ==
        json{{"type", "issued"}, {"free_slots", 3}, {"launches", {request}}});
  CHECK(encode_record(orchestrator::ResultRecord{report, 42.5}) ==
        json{{"type", "result"},
             {"launch", request},
             {"outcome", {{"status", "diverged"}, {"reason", "loss diverged (inf)"}, {"train", {{1, 0.5}, {2, nullptr}}}, {"val", json::array()}}},
             {"wall_s", 1.5},
             {"elapsed_s", 42.5},
             {"checkpoint", ""},
             {"stdout_log", "/r/logs/a.stdout.log"},
             {"stderr_log", "/r/logs/a.stderr.log"}});
  CHECK(encode_record(orchestrator::RetriedRecord{17}) == json{{"type", "retried"}, {"result_record", 17}});
  CHECK(encode_record(orchestrator::FinishedRecord{orchestrator::RunStatus::failed}) ==
        json{{"type", "finished"}, {"status", "failed"}});

  SUBCASE("decode_record reads back what encode_record wrote") {
    for (const orchestrator::JournalRecord& record :
         std::vector<orchestrator::JournalRecord>{orchestrator::StartedRecord{json{{"spec", 1}}}, orchestrator::IssuedRecord{3, {report.request}},
                                                 orchestrator::ResultRecord{report, 42.5}, orchestrator::RetriedRecord{17},
                                                 orchestrator::FinishedRecord{orchestrator::RunStatus::completed}}) {
      const json written = encode_record(record);
      CAPTURE(written.dump());
      const orchestrator::JournalRecord read = decode_record(json::parse(written.dump()));
      CHECK(read.index() == record.index());
      CHECK(encode_record(read) == written);
    }
    const auto result = std::get<orchestrator::ResultRecord>(decode_record(encode_record(orchestrator::ResultRecord{report, 42.5})));
    CHECK(result.report.request == report.request);
    CHECK(std::isnan(result.report.outcome.train[1].loss));
    CHECK(result.elapsed_s == 42.5);
  }
}

TEST_CASE("orchestrator::decode_record refuses what is not a journal record") {
  CHECK_THROWS_AS(decode_record(json{{"type", "paused"}}), std::invalid_argument);
  CHECK_THROWS_AS(decode_record(json{{"type", "finished"}, {"status", "interrupted"}}), std::invalid_argument);
  CHECK_THROWS_AS(decode_record(json{{"type", "issued"}, {"free_slots", 1}}), json::exception);
  CHECK_THROWS_AS(decode_record(json{{"identity", {}}}), json::exception);
}
