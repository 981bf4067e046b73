// The mistakes a user makes on the command line, named in the words they typed. cxxopts would
// report them in its own terms ("Option '3' does not exist" for `-d -3`) or misread them
// (`-c -p 80` takes "-p" as the model and 80 as a stray argument).
#include "common/cli_mistakes.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/models.h"

namespace hs {
namespace {

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

// ": only the thread-pool, process-pool and async models take it": the models `takes` names.
std::string OnlyTakers(bool ModelInfo::*takes) {
  std::vector<std::string> takers;
  for (const ModelInfo& m : Models()) {
    if (m.*takes) takers.push_back(m.name);
  }
  if (takers.size() == 1) return absl::StrCat(": only the ", takers[0], " model takes it");
  const std::string last = takers.back();
  takers.pop_back();
  return absl::StrCat(": only the ", absl::StrJoin(takers, ", "), " and ", last, " models take it");
}

absl::Status UnknownOption(absl::string_view option, const CommandLineSpec& spec) {
  std::string why;
  if (option == "--workers") {
    why = OnlyTakers(&ModelInfo::accepts_workers);
  } else if (option == "--min-spare" || option == "--max-spare" || option == "--max-workers") {
    why = OnlyTakers(&ModelInfo::accepts_pool_sizing);
  } else if ((option == "-c" || option == "--concurrency") && !spec.accepts_concurrency) {
    why = ": only the http_server wrapper takes it";
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown option '", option, "'", why));
}

}  // namespace

// Seconds from 0 to 3600, written in decimal.
bool ParseDelay(absl::string_view text, absl::Duration& delay) {
  double seconds;
  if (!IsDecimal(text) || !absl::SimpleAtod(text, &seconds) || seconds > 3600) return false;
  delay = absl::Seconds(seconds);
  return true;
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
      const bool sizing =
          option == "--min-spare" || option == "--max-spare" || option == "--max-workers";
      const bool takes_value = option == "--port" || option == "--folder" ||
                               (option == "--concurrency" && spec.accepts_concurrency) ||
                               (option == "--workers" && spec.accepts_workers) ||
                               (sizing && spec.accepts_pool_sizing);
      if (option == "--delay" && !has_value && next != nullptr && LooksLikeNumber(next)) {
        return DelayWithoutEquals(absl::StrCat(arg, " ", next), "--delay", next);
      }
      if (takes_value && !has_value) {
        if (!next_is_value) return MissingValue(arg, option, next);
        ++i;
      } else if (!takes_value && option != "--help" && option != "--verbose" &&
                 option != "--delay" && option != "--served-by" &&
                 !(option == "--list-models" && spec.accepts_concurrency)) {
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

}  // namespace hs
