// The one command-line definition. Values are read as strings and validated here, so every bad
// input gets the same kind of one-line message naming the option and the value.
#include "common/cli.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cxxopts.hpp>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/cli_mistakes.h"

namespace hs {

namespace {

// The values are read as strings and checked in Validate; the help text is HelpText's.
cxxopts::Options BuildOptions(const CommandLineSpec& spec, const std::string& program) {
  cxxopts::Options options(program, spec.description);
  options.add_options()                                                     //
      ("h,help", "")                                                        //
      ("p,port", "", cxxopts::value<std::string>()->default_value("8085"))  //
      ("v,verbose", "")                                                     //
      ("d,delay", "", cxxopts::value<std::string>()->implicit_value("5"))   //
      ("f,folder", "", cxxopts::value<std::string>()->default_value("."))   //
      ("served-by", "");
  if (spec.accepts_concurrency) {
    options.add_options()("c,concurrency", "",
                          cxxopts::value<std::string>()->default_value("thread"));
  }
  if (spec.accepts_workers) options.add_options()("workers", "", cxxopts::value<std::string>());
  if (spec.accepts_pool_sizing) {
    for (const char* name : {"min-spare", "max-spare", "max-workers"}) {
      options.add_options()(name, "", cxxopts::value<std::string>());
    }
  }
  if (spec.accepts_concurrency) options.add_options()("list-models", "");
  return options;
}

// Laid out as Python's argparse lays out the lab's usage text: flags in the same order, help at
// column 24, or on the next line when the flags are longer.
std::string HelpText(const CommandLineSpec& spec, const std::string& program) {
  std::string usage = "[-h] [-p PORT] [-v] [-d] [-f FOLDER]";
  std::vector<std::pair<std::string, std::string>> rows = {
      {"-h, --help", "show this help message and exit"},
      {"-p PORT, --port PORT", "Port to bind to (default: 8085; 0 picks a free one)."},
      {"-v, --verbose", "Turn on debugging output."},
      {"-d, --delay", "Add a delay for debugging purposes: 5 s, or --delay=SECONDS."},
      {"-f FOLDER, --folder FOLDER", "Folder from where to serve from (default: the current one)."},
  };
  if (spec.accepts_concurrency) {
    absl::StrAppend(&usage, " [-c ", ModelChoices(), "]");
    rows.push_back({absl::StrCat("-c ", ModelChoices(), ", --concurrency ", ModelChoices()),
                    "Concurrency methodology (default: thread)."});
  }
  if (spec.accepts_workers) {
    absl::StrAppend(&usage, " [--workers N]");
    rows.push_back({"--workers N", spec.workers_help});
  }
  if (spec.accepts_pool_sizing) {
    const ServerOptions defaults;
    absl::StrAppend(&usage, " [--min-spare N] [--max-spare N] [--max-workers N]");
    rows.push_back({"--min-spare N", absl::StrCat("process pool: fork workers while fewer are idle "
                                                  "(default: ",
                                                  defaults.min_spare, ")")});
    rows.push_back({"--max-spare N", absl::StrCat("process pool: retire workers while more are "
                                                  "idle (default: ",
                                                  defaults.max_spare, ")")});
    rows.push_back(
        {"--max-workers N", absl::StrCat("process pool: at most this many workers (default: ",
                                         defaults.max_workers, ")")});
  }
  absl::StrAppend(&usage, " [--served-by]");
  rows.push_back({"--served-by", "Every answer names its process and thread (X-Served-By)."});
  if (spec.accepts_concurrency) {
    absl::StrAppend(&usage, " [--list-models]");
    rows.push_back({"--list-models", "Print the models and what each one is, and exit."});
  }
  std::string help = absl::StrCat("Usage: ", program, " ", usage, "\n\n");
  if (!spec.description.empty()) absl::StrAppend(&help, spec.description, "\n\n");
  absl::StrAppend(&help, "optional arguments:\n");
  constexpr size_t kHelpColumn = 24;
  for (const auto& [flags, text] : rows) {
    std::string line = absl::StrCat("  ", flags);
    if (line.size() + 2 <= kHelpColumn) {
      line.resize(kHelpColumn, ' ');
    } else {
      absl::StrAppend(&line, "\n", std::string(kHelpColumn, ' '));
    }
    absl::StrAppend(&help, line, text, "\n");
  }
  return help;
}

absl::Status Invalid(absl::string_view option, absl::string_view value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid ", option, " '", value, "': ", why));
}

// --min-spare, --max-spare, --max-workers: each from 1 to 4096; a maximum the user did not type
// rises to the minimum they did, and two typed values that contradict each other are an error.
absl::Status ValidatePoolSizing(const cxxopts::ParseResult& result, ServerOptions& out) {
  for (auto [name, value] :
       {std::pair{"min-spare", &out.min_spare}, std::pair{"max-spare", &out.max_spare},
        std::pair{"max-workers", &out.max_workers}}) {
    if (!result.count(name)) continue;
    const std::string typed = result[name].as<std::string>();
    if (!absl::SimpleAtoi(typed, value) || *value < 1 || *value > 4096) {
      return Invalid(name, typed, "expected a number from 1 to 4096");
    }
  }
  const bool min_typed = result.count("min-spare") > 0;
  const bool max_typed = result.count("max-spare") > 0;
  if (out.max_spare < out.min_spare) {
    if (min_typed && max_typed) {
      return Invalid("max-spare", std::to_string(out.max_spare),
                     absl::StrCat("less than --min-spare ", out.min_spare));
    }
    if (max_typed) {
      out.min_spare = out.max_spare;
    } else {
      out.max_spare = out.min_spare;
    }
  }
  if (out.max_workers < out.workers) {
    if (result.count("max-workers")) {
      return Invalid("max-workers", std::to_string(out.max_workers),
                     absl::StrCat("fewer than --workers ", out.workers));
    }
    out.max_workers = out.workers;
  }
  return absl::OkStatus();
}

absl::Status Validate(const cxxopts::ParseResult& result, const CommandLineSpec& spec,
                      ServerOptions& out) {
  if (!result.unmatched().empty()) {
    const std::string& stray = result.unmatched().front();
    std::string hint;
    absl::Duration unused;
    if (ParseDelay(stray, unused)) hint = absl::StrCat(" (for a delay write --delay=", stray, ")");
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", stray, "'", hint));
  }
  const std::string port = result["port"].as<std::string>();
  if (!absl::SimpleAtoi(port, &out.port) || out.port < 0 || out.port > 65535) {
    return Invalid("port", port, "expected a number from 0 to 65535");
  }
  out.verbose = result.count("verbose") > 0;
  out.served_by = result.count("served-by") > 0;
  if (result.count("delay")) {
    const std::string delay = result["delay"].as<std::string>();
    if (!ParseDelay(delay, out.delay)) {
      return Invalid("delay", delay, "expected decimal seconds from 0 to 3600, e.g. 1 or 0.25");
    }
  }
  out.folder = result["folder"].as<std::string>();
  struct stat st;
  if (::stat(out.folder.c_str(), &st) != 0) {
    return Invalid("folder", out.folder, "no such directory");
  }
  if (!S_ISDIR(st.st_mode)) return Invalid("folder", out.folder, "not a directory");
  if (spec.accepts_concurrency) {
    out.concurrency = result["concurrency"].as<std::string>();
    bool known = false;
    for (const ModelInfo& m : Models()) known = known || out.concurrency == m.name;
    if (!known)
      return Invalid("concurrency", out.concurrency, absl::StrCat("choose from ", ModelChoices()));
  }
  if (spec.accepts_workers && result.count("workers")) {
    const std::string workers = result["workers"].as<std::string>();
    if (!absl::SimpleAtoi(workers, &out.workers) || out.workers < 1 || out.workers > 4096) {
      return Invalid("workers", workers, "expected a number from 1 to 4096");
    }
  }
  if (spec.accepts_pool_sizing) return ValidatePoolSizing(result, out);
  return absl::OkStatus();
}

}  // namespace

std::string ProgramName(int argc, const char* const* argv, const CommandLineSpec& spec) {
  const absl::string_view argv0 = argc > 0 && argv[0] != nullptr ? argv[0] : "";
  const absl::string_view name = argv0.substr(argv0.rfind('/') + 1);  // npos + 1 == 0
  return name.empty() ? spec.program : std::string(name);
}

absl::StatusOr<ParsedCommandLine> ParseCommandLine(int argc, const char* const* argv,
                                                   const CommandLineSpec& spec) {
  const std::string program = ProgramName(argc, argv, spec);
  if (absl::Status status = CheckSpelling(argc, argv, spec); !status.ok()) return status;
  cxxopts::Options options = BuildOptions(spec, program);
  ParsedCommandLine parsed;
  parsed.options.program = program;
  try {
    cxxopts::ParseResult result = options.parse(argc, argv);
    if (result.count("help")) {
      parsed.help = true;
      parsed.help_text = HelpText(spec, program);
      return parsed;
    }
    if (spec.accepts_concurrency && result.count("list-models")) {
      parsed.help = true;
      parsed.help_text = ModelTable();
      return parsed;
    }
    absl::Status status = Validate(result, spec, parsed.options);
    if (!status.ok()) return status;
  } catch (const cxxopts::exceptions::exception& e) {
    return absl::InvalidArgumentError(e.what());
  }
  return parsed;
}

ServerOptions ParseCommandLineOrExit(int argc, char** argv, const CommandLineSpec& spec) {
  absl::StatusOr<ParsedCommandLine> parsed = ParseCommandLine(argc, argv, spec);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: error: %s (see --help)\n", ProgramName(argc, argv, spec).c_str(),
                 std::string(parsed.status().message()).c_str());
    std::exit(2);
  }
  if (parsed->help) {
    std::fputs(parsed->help_text.c_str(), stdout);
    std::exit(0);
  }
  return parsed->options;
}

std::vector<std::string> WithoutConcurrency(int argc, const char* const* argv) {
  std::vector<std::string> kept;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {  // everything after "--" is an operand: pass it on as is
      for (; i < argc; ++i) kept.emplace_back(argv[i]);
      break;
    }
    if (arg == "--concurrency") {
      ++i;  // drop the value too
      continue;
    }
    if (arg.starts_with("--concurrency=")) continue;
    if (arg.starts_with("--")) {
      kept.emplace_back(arg);
      // Options with a separate value: keep the value with them, whatever it looks like.
      if ((arg == "--port" || arg == "--folder" || arg == "--workers" || arg == "--min-spare" ||
           arg == "--max-spare" || arg == "--max-workers") &&
          i + 1 < argc) {
        kept.emplace_back(argv[++i]);
      }
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      kept.emplace_back(arg);
      continue;
    }
    // A group of short options, e.g. "-v", "-p8080", "-vc", "-vcthread".
    std::string group = "-";
    bool value_follows = false;
    bool dropped_value_follows = false;
    for (size_t j = 1; j < arg.size(); ++j) {
      char c = arg[j];
      if (c == 'c') {  // -c takes the rest of the group, or the next argument
        dropped_value_follows = (j + 1 == arg.size());
        break;
      }
      group += c;
      if (c == 'p' || c == 'f') {  // these take the rest of the group, or the next argument
        if (j + 1 < arg.size()) group += arg.substr(j + 1);
        value_follows = (j + 1 == arg.size());
        break;
      }
    }
    if (group != "-") kept.push_back(group);
    if ((value_follows || dropped_value_follows) && i + 1 < argc) {
      ++i;
      if (value_follows) kept.emplace_back(argv[i]);
    }
  }
  return kept;
}

}  // namespace hs
