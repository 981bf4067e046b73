// The one command-line definition. Values are read as strings and validated here, so every bad
// input gets the same kind of one-line message naming the option and the value.
#include "common/cli.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cxxopts.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace hs {

const std::vector<ModelInfo>& Models() {
  static const std::vector<ModelInfo> models = {
      {.name = "thread", .binary = "thread_server", .accepts_workers = false},
      {.name = "thread-pool", .binary = "thread_pool_server", .accepts_workers = true},
      {.name = "process", .binary = "process_server", .accepts_workers = false},
      {.name = "process-pool", .binary = "process_pool_server", .accepts_workers = true},
      {.name = "async", .binary = "async_server", .accepts_workers = true},
      {.name = "single", .binary = "single_server", .accepts_workers = false},
  };
  return models;
}

namespace {

std::string ModelChoices() {
  std::vector<std::string> names;
  for (const ModelInfo& m : Models()) names.push_back(m.name);
  return absl::StrCat("{", absl::StrJoin(names, ","), "}");
}

// The values are read as strings and checked in Validate; the help text is HelpText's.
cxxopts::Options BuildOptions(const CommandLineSpec& spec, const std::string& program) {
  cxxopts::Options options(program, spec.description);
  options.add_options()                                                     //
      ("h,help", "")                                                        //
      ("p,port", "", cxxopts::value<std::string>()->default_value("8085"))  //
      ("v,verbose", "")                                                     //
      ("d,delay", "", cxxopts::value<std::string>()->implicit_value("5"))   //
      ("f,folder", "", cxxopts::value<std::string>()->default_value("."));
  if (spec.accepts_concurrency) {
    options.add_options()("c,concurrency", "",
                          cxxopts::value<std::string>()->default_value("thread"));
  }
  if (spec.accepts_workers) options.add_options()("workers", "", cxxopts::value<std::string>());
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

// "5", "0.25", ".5": what a user means by seconds. Not "0x10", "1e3", "inf" or " 1", which
// strtod (under absl::SimpleAtod) would also read.
bool IsDecimal(absl::string_view text) {
  bool digit = false;
  bool point = false;
  for (char c : text) {
    if (c == '.' && !point) {
      point = true;
    } else if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else {
      return false;
    }
  }
  return digit;
}

// Seconds from 0 to 3600, written in decimal.
bool ParseDelay(absl::string_view text, absl::Duration& delay) {
  double seconds;
  if (!IsDecimal(text) || !absl::SimpleAtod(text, &seconds) || seconds > 3600) return false;
  delay = absl::Seconds(seconds);
  return true;
}

// "-3", "5", ".5": a value, never an option (no option's name starts with a digit).
bool LooksLikeNumber(absl::string_view arg) {
  if (!arg.empty() && (arg[0] == '-' || arg[0] == '+')) arg.remove_prefix(1);
  if (!arg.empty() && arg[0] == '.') arg.remove_prefix(1);
  return !arg.empty() && absl::ascii_isdigit(static_cast<unsigned char>(arg[0]));
}

bool LooksLikeOption(absl::string_view arg) {
  return arg.size() > 1 && arg[0] == '-' && !LooksLikeNumber(arg);
}

// `typed` (what the user wrote, e.g. "-d 5" or "-vd5") gave -d or --delay a value the way
// options with a value take theirs.
absl::Status DelayWithoutEquals(absl::string_view typed, absl::string_view option,
                                absl::string_view value) {
  absl::Duration unused;
  const std::string fix =
      ParseDelay(value, unused) ? absl::StrCat("--delay=", value) : "--delay=SECONDS (0 to 3600)";
  const std::string rule = option == "-d" ? "-d takes no value" : "--delay takes no separate value";
  return absl::InvalidArgumentError(absl::StrCat("'", typed, "': ", rule, "; use ", fix));
}

// `typed` ends with an option that needs a value, and `next` (nullptr: the end of the line) is
// another option, not that value.
absl::Status MissingValue(absl::string_view typed, absl::string_view option, const char* next) {
  std::string what = "a number";
  if (option == "-p" || option == "--port") what = "a PORT";
  if (option == "-f" || option == "--folder") what = "a FOLDER";
  if (option == "-c" || option == "--concurrency") {
    what = absl::StrCat("a MODEL, one of ", ModelChoices());
  }
  std::string shown(typed);
  if (next != nullptr) absl::StrAppend(&shown, " ", next);
  const std::string prefix = shown == option ? "" : absl::StrCat("'", shown, "': ");
  return absl::InvalidArgumentError(absl::StrCat(prefix, option, " needs ", what));
}

absl::Status UnknownOption(absl::string_view option, const CommandLineSpec& spec) {
  std::string why;
  if (option == "--workers") {
    std::vector<std::string> takers;
    for (const ModelInfo& m : Models()) {
      if (m.accepts_workers) takers.push_back(m.name);
    }
    const std::string last = takers.back();
    takers.pop_back();
    why =
        absl::StrCat(": only the ", absl::StrJoin(takers, ", "), " and ", last, " models take it");
  } else if ((option == "-c" || option == "--concurrency") && !spec.accepts_concurrency) {
    why = ": only the http_server wrapper takes it";
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown option '", option, "'", why));
}

// The mistakes cxxopts would report in its own terms ("Option '3' does not exist" for `-d -3`) or
// misread (`-c -p 80` takes "-p" as the model and 80 as a stray argument), found by walking argv
// the way cxxopts does, so the message can name what was typed.
absl::Status CheckSpelling(int argc, const char* const* argv, const CommandLineSpec& spec) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
    const bool next_is_value = next != nullptr && !LooksLikeOption(next);
    if (arg == "--") break;  // operands follow; Validate reports them
    if (absl::StartsWith(arg, "--")) {
      const size_t equals = arg.find('=');
      const absl::string_view option = arg.substr(0, equals);
      const bool has_value = equals != absl::string_view::npos;
      const bool takes_value = option == "--port" || option == "--folder" ||
                               (option == "--concurrency" && spec.accepts_concurrency) ||
                               (option == "--workers" && spec.accepts_workers);
      if (option == "--delay" && !has_value && next != nullptr && LooksLikeNumber(next)) {
        return DelayWithoutEquals(absl::StrCat(arg, " ", next), "--delay", next);
      }
      if (takes_value && !has_value) {
        if (!next_is_value) return MissingValue(arg, option, next);
        ++i;
      } else if (!takes_value && option != "--help" && option != "--verbose" &&
                 option != "--delay") {
        return UnknownOption(option, spec);
      }
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') continue;  // an operand; Validate reports it
    if (LooksLikeNumber(arg)) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    // A group of short options, e.g. "-v", "-vd", "-p8080", "-vc thread".
    for (size_t j = 1; j < arg.size(); ++j) {
      const char c = arg[j];
      const bool last = j + 1 == arg.size();
      if (c == 'd') {
        const absl::string_view rest = arg.substr(j + 1);
        if (!rest.empty() && (rest[0] == '=' || LooksLikeNumber(rest))) {
          return DelayWithoutEquals(arg, "-d", absl::StripPrefix(rest, "="));
        }
        if (last && next != nullptr && LooksLikeNumber(next)) {
          return DelayWithoutEquals(absl::StrCat(arg, " ", next), "-d", next);
        }
      } else if (c == 'p' || c == 'f' || (c == 'c' && spec.accepts_concurrency)) {
        if (last) {
          if (!next_is_value) return MissingValue(arg, absl::StrCat("-", std::string(1, c)), next);
          ++i;
        }
        break;  // the rest of the group is the value
      } else if (c != 'h' && c != 'v') {
        return UnknownOption(absl::StrCat("-", std::string(1, c)), spec);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Invalid(absl::string_view option, absl::string_view value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid ", option, " '", value, "': ", why));
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
