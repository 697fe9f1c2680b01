#pragma once

#include <string>

#include "orchestrator/run_observer.hpp"

namespace autolrs::report {

/// report.html for the run as it stands: one self-contained HTML document (inline CSS and SVG, no
/// script, no external reference) with the totals, the LR schedule over model steps (log LR, stage
/// boundaries, probe LRs), train and val loss over model steps (main launches solid, probes faint),
/// the stage table, and per stage with probes the probes' forecasts against their LR (log axis)
/// with the GP posterior mean ± 2σ, the chosen LR and the failed and diverged probes.
/// Non-finite losses are skipped; text from the spec and the trainer is escaped. Works for a run
/// with no launch yet, a running, failed or interrupted run.
std::string render_html_report(const orchestrator::RunState& state);

}  // namespace autolrs::report
