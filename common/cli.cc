// The one command-line definition. Values are read as strings and validated here, so every bad
// input gets the same kind of one-line message naming the option and the value.
#include "common/cli.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cxxopts.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hs {

const std::vector<ModelInfo>& Models() {
  static const std::vector<ModelInfo> models = {
      {"single", "single_server"},
      {"thread", "thread_server"},
      {"thread-pool", "thread_pool_server"},
      {"process", "process_server"},
      {"process-pool", "process_pool_server"},
      {"async", "async_server"},
  };
  return models;
}

namespace {

std::string ModelChoices() {
  std::vector<std::string> names;
  for (const ModelInfo& m : Models()) names.push_back(m.name);
  return absl::StrCat("{", absl::StrJoin(names, ","), "}");
}

cxxopts::Options BuildOptions(const CommandLineSpec& spec) {
  cxxopts::Options options(spec.program, spec.description);
  std::string usage = "[-h] [-p PORT] [-v] [-d] [-f FOLDER]";
  if (spec.accepts_concurrency) absl::StrAppend(&usage, " [-c ", ModelChoices(), "]");
  if (spec.accepts_workers) absl::StrAppend(&usage, " [--workers N]");
  options.custom_help(usage);
  options.set_width(100);  // one line per flag, as in the lab's usage text
  options.add_options()    //
      ("h,help", "show this help message and exit")                   //
      ("p,port", "Port to bind to (0 picks a free one)",              //
       cxxopts::value<std::string>()->default_value("8085"), "PORT")  //
      ("v,verbose", "Turn on debugging output.")                      //
      ("d,delay", "Add a delay before each answer: 5 s, or --delay=SECONDS",
       cxxopts::value<std::string>()->implicit_value("5"), "SECONDS")  //
      ("f,folder", "Folder from where to serve from.",
       cxxopts::value<std::string>()->default_value("."), "FOLDER");
  if (spec.accepts_concurrency) {
    // The choices are in the usage line above.
    options.add_options()("c,concurrency", "Concurrency methodology.",
                          cxxopts::value<std::string>()->default_value("thread"), "MODEL");
  }
  if (spec.accepts_workers) {
    options.add_options()("workers", spec.workers_help, cxxopts::value<std::string>(), "N");
  }
  return options;
}

absl::Status Invalid(absl::string_view option, absl::string_view value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid ", option, " '", value, "': ", why));
}

absl::Status Validate(const cxxopts::ParseResult& result, const CommandLineSpec& spec,
                      ServerOptions& out) {
  if (!result.unmatched().empty()) {
    const std::string& stray = result.unmatched().front();
    std::string hint;
    double unused;
    if (absl::SimpleAtod(stray, &unused))
      hint = absl::StrCat(" (for a delay write --delay=", stray, ")");
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", stray, "'", hint));
  }
  const std::string port = result["port"].as<std::string>();
  if (!absl::SimpleAtoi(port, &out.port) || out.port < 0 || out.port > 65535) {
    return Invalid("port", port, "expected a number from 0 to 65535");
  }
  out.verbose = result.count("verbose") > 0;
  if (result.count("delay")) {
    const std::string delay = result["delay"].as<std::string>();
    double seconds;
    if (!absl::SimpleAtod(delay, &seconds) || !std::isfinite(seconds) || seconds < 0 ||
        seconds > 3600) {
      return Invalid("delay", delay, "expected seconds from 0 to 3600");
    }
    out.delay = absl::Seconds(seconds);
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
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedCommandLine> ParseCommandLine(int argc, const char* const* argv,
                                                   const CommandLineSpec& spec) {
  cxxopts::Options options = BuildOptions(spec);
  ParsedCommandLine parsed;
  try {
    cxxopts::ParseResult result = options.parse(argc, argv);
    if (result.count("help")) {
      parsed.help = true;
      parsed.help_text = options.help();
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
    std::fprintf(stderr, "%s: error: %s (see --help)\n", spec.program.c_str(),
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
      if ((arg == "--port" || arg == "--folder" || arg == "--workers") && i + 1 < argc) {
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
