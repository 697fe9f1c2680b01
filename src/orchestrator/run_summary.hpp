#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "orchestrator/run_observer.hpp"

namespace autolrs::orchestrator {

/// summary.json: status, total_steps (model steps trained), probe_steps, compute_steps (both),
/// final_checkpoint, final_loss, final_val_loss (null without val lines), wall_time_s, and stages
/// (start_step, steps, lr, probes with lr, forecast and status).
nlohmann::json run_summary(const RunState& state);

/// schedule.csv: header `stage,start_step,steps,lr,lr_end`, one row per trained stage (the warmup as
/// "warmup"); lr_end equals lr for a stage trained at a constant LR, and is the LR a ramp ends at.
std::string schedule_csv(const RunState& state);

/// Header of losses.csv.
inline constexpr const char* loss_csv_header = "kind,stage,probe,lr,step,loss,split\n";
/// losses.csv rows of one launch: every parsed loss, at its global model step.
std::string loss_csv_rows(const LaunchReport& report);

}  // namespace autolrs::orchestrator
