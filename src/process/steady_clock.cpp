#include "process/steady_clock.hpp"

#include <chrono>

namespace autolrs::process {

double SteadyClock::now_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace autolrs::process
