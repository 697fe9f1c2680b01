#include "cli/app.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <string>
#include <functional>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/forecast.hpp"
#include "cli/report.hpp"
#include "cli/range_test.hpp"
#include "cli/baseline.hpp"
#include "cli/oracle_schedule.hpp"
#include "cli/run.hpp"
#include "cli/simulate.hpp"
#include "cli/validate.hpp"
#include "spec/did_you_mean.hpp"
#include "spec/input_error.hpp"

namespace autolrs::cli {

int main_entry(int argc, char** argv) {
  CLI::App app{"autolrs: learning-rate schedules found on the fly by AutoLRS (Bayesian optimization)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "autolrs 0.1.0");

  struct Subcommand {
    CLI::App* app;
    std::function<int()> run;
  };
  std::vector<Subcommand> subcommands;

  RunOptions run_options;
  subcommands.push_back({setup_run(app, run_options), [&] { return run_run(run_options); }});
  BaselineOptions baseline_options;
  subcommands.push_back({setup_baseline(app, baseline_options), [&] { return run_baseline(baseline_options); }});
  SimulateOptions simulate_options;
  subcommands.push_back({setup_simulate(app, simulate_options), [&] { return run_simulate(simulate_options); }});
  ForecastOptions forecast_options;
  subcommands.push_back({setup_forecast(app, forecast_options), [&] { return run_forecast(forecast_options); }});
  ReportOptions report_options;
  subcommands.push_back({setup_report(app, report_options), [&] { return run_report(report_options); }});
  RangeTestOptions range_test_options;
  subcommands.push_back({setup_range_test(app, range_test_options), [&] { return run_range_test(range_test_options); }});
  ValidateOptions validate_options;
  subcommands.push_back({setup_validate(app, validate_options), [&] { return run_validate(validate_options); }});
  OracleScheduleOptions oracle_options;
  subcommands.push_back(
      {setup_oracle_schedule(app, oracle_options), [&] { return run_oracle_schedule(oracle_options); }});

  app.footer(
      "Example: autolrs run configs/dry-run.json --dry-run (the built-in simulator as the trainer).\n"
      "autolrs SUBCOMMAND --help shows a subcommand's options; README.md explains the job spec, the trainer\n"
      "protocol and the outputs.\n");
  // A first argument that is no subcommand: `help` asks for this help, anything else is a typo.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string given = argv[1];
    std::vector<std::string> names;
    for (const Subcommand& subcommand : subcommands) names.push_back(subcommand.app->get_name());
    if (given == "help") {
      std::cout << app.help();
      return 0;
    }
    if (std::find(names.begin(), names.end(), given) == names.end()) {
      const std::optional<std::string> nearest = spec::did_you_mean(given, names);
      std::cerr << "autolrs: error: unknown subcommand \"" << given << "\""
                << (nearest ? "; did you mean \"" + *nearest + "\"?" : std::string()) << " (autolrs --help lists them)\n";
      return 2;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  try {
    for (const Subcommand& subcommand : subcommands) {
      if (subcommand.app->parsed()) return subcommand.run();
    }
    return 2;
  } catch (const spec::InputError& e) {
    std::cerr << "autolrs: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "autolrs: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace autolrs::cli
