#pragma once

#include "simulator/training_run.hpp"

namespace autolrs::session {

/// `autolrs simulate`: runs the simulator's launch (simulator::run_training) as a process: output on
/// stdout and stderr, real sleeps, the checkpoint read from a file and saved atomically
/// (storage::write_file_atomically); SIGTERM ignored first when options.ignore_sigterm. Returns its
/// exit status; throws like run_training, and std::runtime_error when the checkpoint cannot be written.
int simulate(const simulator::TrainingOptions& options);

}  // namespace autolrs::session
