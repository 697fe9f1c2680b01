#include "orchestrator/resume_changes.hpp"

#include <doctest/doctest.h>

namespace autolrs::orchestrator {
namespace {

using nlohmann::json;
using Names = std::vector<std::string>;

json identity() {
  return {{"spec",
           {{"total_steps", 1000},
            {"search", {{"lr_min", 1e-4}}},
            {"trainer",
             {{"command", {"python3", "train.py", "--lr", "{lr}"}},
              {"env", {{"A", "1"}}},
              {"loss", {{"pattern", "loss=(?P<loss>\\S+)"}}},
              {"max_retries", 2}}}}},
          {"dry_run", false}};
}

TEST_CASE("orchestrator::resume_changes accepts changes to how the trainer runs") {
  json current = identity();
  current["spec"]["trainer"]["command"][1] = "train_fixed.py";
  current["spec"]["trainer"]["command"].push_back("--fast");
  current["spec"]["trainer"]["env"]["B"] = "2";
  current["spec"]["trainer"]["loss"]["pattern"] = "train_loss=(?P<loss>\\S+)";
  current["spec"]["trainer"]["timeout_s"] = 600;
  const ResumeChanges changes = resume_changes(identity(), current);
  CHECK(changes.accepted == Names{"trainer.command", "trainer.env.B", "trainer.loss.pattern", "trainer.timeout_s"});
  CHECK(changes.refused.empty());
  CHECK(resume_changes(identity(), identity()).accepted.empty());
}

TEST_CASE("orchestrator::resume_changes refuses what the search decides by, naming fields as specs spell them") {
  json current = identity();
  current["spec"]["search"]["lr_min"] = 2e-4;
  current["spec"]["total_steps"] = 2000;
  current["spec"]["trainer"]["max_retries"] = 5;
  current["dry_run"] = true;
  ResumeChanges changes = resume_changes(identity(), current);
  CHECK(changes.refused == Names{"dry_run", "search.lr_min", "total_steps", "trainer.max_retries"});
  CHECK(changes.accepted.empty());

  SUBCASE("{lr_end} put into the command changes the launches the search plans") {
    json ramps = identity();
    ramps["spec"]["trainer"]["command"].push_back("--lr-end={lr_end}");
    changes = resume_changes(identity(), ramps);
    CHECK(changes.refused == Names{"trainer.command"});
    CHECK(resume_changes(ramps, identity()).refused == Names{"trainer.command"});
  }
  SUBCASE("switching between exec and serve mode, or lr_ramps, is refused: a run keeps one way of launching") {
    json served = identity();
    served["spec"]["trainer"]["mode"] = "serve";
    served["spec"]["trainer"]["lr_ramps"] = true;
    CHECK(resume_changes(identity(), served).refused == Names{"trainer.lr_ramps", "trainer.mode"});
    CHECK(resume_changes(served, identity()).refused == Names{"trainer.lr_ramps", "trainer.mode"});
  }
  SUBCASE("a val_loss pattern added or removed changes how probes are judged; a changed one does not") {
    json with_val = identity();
    with_val["spec"]["trainer"]["val_loss"] = {{"pattern", "val=(?P<loss>\\S+)"}};
    CHECK(resume_changes(identity(), with_val).refused == Names{"trainer.val_loss"});
    CHECK(resume_changes(with_val, identity()).refused == Names{"trainer.val_loss"});
    json other_val = with_val;
    other_val["spec"]["trainer"]["val_loss"]["pattern"] = "val_loss=(?P<loss>\\S+)";
    CHECK(resume_changes(with_val, other_val).accepted == Names{"trainer.val_loss.pattern"});
  }
}

}  // namespace
}  // namespace autolrs::orchestrator
