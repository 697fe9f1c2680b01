#include "cli/app.hpp"

int main(int argc, char** argv) { return autolrs::cli::main_entry(argc, argv); }
