// The command line, defined once with cxxopts and used by every server binary and the wrapper:
//   http_server [-h] [-p PORT] [-v] [-d] [-f FOLDER] [-c {thread,...,single}] [--workers N]
//               [--min-spare N] [--max-spare N] [--max-workers N] [--served-by]
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/models.h"

namespace hs {

struct ServerOptions {
  std::string program;  // the name for messages (see ProgramName)
  int port = 8085;
  bool verbose = false;
  absl::Duration delay = absl::ZeroDuration();  // -d: 5 s; --delay=SECONDS for another value
  std::string folder = ".";
  // --served-by: every answer names who served it (X-Served-By, common/log.h); for the timeline.
  bool served_by = false;
  int workers = 0;  // --workers N (pools, async); 0 = the model's default
  // The process pool's sizing (pool_server/prefork.h); the defaults are explained in README.md.
  // An untyped maximum rises to a typed minimum (--min-spare 20 alone: max-spare 20), and
  // max-workers to --workers.
  int min_spare = 2;        // --min-spare N: fork workers while fewer are idle
  int max_spare = 8;        // --max-spare N: retire workers while more are idle
  int max_workers = 256;    // --max-workers N: never more workers than this
  std::string concurrency;  // -c, wrapper only
};

// Which options a binary accepts besides the common ones.
struct CommandLineSpec {
  std::string program;               // the binary's name, when argv[0] gives none
  std::string description;           // one line under the usage
  bool accepts_workers = false;      // --workers N
  bool accepts_pool_sizing = false;  // --min-spare N, --max-spare N, --max-workers N
  bool accepts_concurrency = false;  // -c MODEL (the wrapper)
  std::string workers_help = "number of workers";
};

// Result of parsing: options, or help text to print (exit 0), or an error (exit 2).
struct ParsedCommandLine {
  ServerOptions options;
  bool help = false;  // print help_text and exit 0: -h, or the wrapper's --list-models
  std::string help_text;
};

// The name a binary gives itself in usage and errors: the last component of argv[0], as Unix tools
// do, or spec.program when argv[0] is empty. The http_server wrapper passes its own argv[0] on to
// the model it starts, so through the wrapper every message names http_server.
std::string ProgramName(int argc, const char* const* argv, const CommandLineSpec& spec);

// Parses and validates argv (port 0..65535, folder is an existing directory, known -c, delay
// decimal seconds 0..3600, workers and the pool sizes 1..4096 with min-spare <= max-spare and
// workers <= max-workers, no stray arguments). Errors are kInvalidArgument with
// a one-line message naming the problem in the words the user typed: `-d -3` is "'-d -3': -d takes
// no value; use --delay=SECONDS (0 to 3600)", not a complaint about an option "3".
absl::StatusOr<ParsedCommandLine> ParseCommandLine(int argc, const char* const* argv,
                                                   const CommandLineSpec& spec);

// ParseCommandLine for main(): prints the help and exits 0, or prints
// "program: error: <problem> (see --help)" and exits 2 (program: ProgramName).
ServerOptions ParseCommandLineOrExit(int argc, char** argv, const CommandLineSpec& spec);

// argv without the -c/--concurrency option and its value (every spelling: "-c x", "-cx",
// "--concurrency x", "--concurrency=x", grouped "-vc x"), for the wrapper to pass on untouched.
std::vector<std::string> WithoutConcurrency(int argc, const char* const* argv);

}  // namespace hs
