// Named kernel commands with numeric options and a JSON result: the one entry point both bindings
// share, so a new kernel feature needs no binding code (add a row to the table in commands.cpp).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "model/network.hpp"
#include "support/progress.hpp"

namespace hessbound {

class CommandOptions {
 public:
  CommandOptions() = default;
  explicit CommandOptions(std::map<std::string, double> values) : values_(std::move(values)) {}
  void set(const std::string& key, double value) { values_[key] = value; }
  double number(const std::string& key, double fallback) const;
  int integer(const std::string& key, int fallback) const;  // throws BAD_OPTION if not an integer

 private:
  std::map<std::string, double> values_;
};

// Runs command `name` ("analyze", ...); throws KernelError BAD_OPTION for an unknown name.
std::string run_command(const std::string& name, const Problem& problem, const CommandOptions& options,
                        const Progress& progress = {});

// Names of all commands, for error messages and introspection.
std::vector<std::string> command_names();

}  // namespace hessbound
