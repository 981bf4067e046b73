// The command line, defined once with cxxopts and used by every server binary and the wrapper:
//   http_server [-h] [-p PORT] [-v] [-d] [-f FOLDER] [-c {single,thread,...}] [--workers N]
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hs {

// The -c values, in the order the usage line lists them, and the binary each one runs.
struct ModelInfo {
  const char* name;    // "thread-pool"
  const char* binary;  // "thread_pool_server"
};
const std::vector<ModelInfo>& Models();

struct ServerOptions {
  int port = 8085;
  bool verbose = false;
  absl::Duration delay = absl::ZeroDuration();  // -d: 5 s; --delay=SECONDS for another value
  std::string folder = ".";
  int workers = 0;          // --workers N (pools, async); 0 = the model's default
  std::string concurrency;  // -c, wrapper only
};

// Which options a binary accepts besides the common ones.
struct CommandLineSpec {
  std::string program;               // name shown in usage and errors
  std::string description;           // one line under the usage
  bool accepts_workers = false;      // --workers N
  bool accepts_concurrency = false;  // -c MODEL (the wrapper)
  std::string workers_help = "number of workers";
};

// Result of parsing: options, or help text to print (exit 0), or an error (exit 2).
struct ParsedCommandLine {
  ServerOptions options;
  bool help = false;
  std::string help_text;
};

// Parses and validates argv (port 0..65535, folder is an existing directory, known -c, delay
// >= 0, workers >= 1, no stray arguments). Errors are kInvalidArgument with a one-line message
// naming the problem.
absl::StatusOr<ParsedCommandLine> ParseCommandLine(int argc, const char* const* argv,
                                                   const CommandLineSpec& spec);

// ParseCommandLine for main(): prints the help and exits 0, or prints
// "program: error: <problem> (see --help)" and exits 2.
ServerOptions ParseCommandLineOrExit(int argc, char** argv, const CommandLineSpec& spec);

// argv without the -c/--concurrency option and its value (every spelling: "-c x", "-cx",
// "--concurrency x", "--concurrency=x", grouped "-vc x"), for the wrapper to pass on untouched.
std::vector<std::string> WithoutConcurrency(int argc, const char* const* argv);

}  // namespace hs
