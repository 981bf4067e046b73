#include "common/cli.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const CommandLineSpec kServer = {.program = "single_server"};
const CommandLineSpec kWrapper = {
    .program = "http_server", .accepts_workers = true, .accepts_concurrency = true};

absl::StatusOr<ParsedCommandLine> Parse(std::vector<std::string> args,
                                        const CommandLineSpec& spec = kServer,
                                        const char* argv0 = "prog") {
  std::vector<const char*> argv = {argv0};
  for (const std::string& a : args) argv.push_back(a.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(), spec);
}

std::vector<std::string> Strip(std::vector<std::string> args) {
  std::vector<const char*> argv = {"prog"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  return WithoutConcurrency(static_cast<int>(argv.size()), argv.data());
}

TEST(CommandLine, DefaultsMatchTheLab) {
  auto parsed = Parse({});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options.port, 8085);
  EXPECT_FALSE(parsed->options.verbose);
  EXPECT_EQ(parsed->options.delay, absl::ZeroDuration());
  EXPECT_EQ(parsed->options.folder, ".");
  EXPECT_EQ(parsed->options.workers, 0);
  EXPECT_FALSE(parsed->options.served_by);  // the default path adds no header
}

TEST(CommandLine, ShortAndLongForms) {
  auto parsed = Parse({"-p", "9000", "-v", "-f", "/tmp"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options.port, 9000);
  EXPECT_TRUE(parsed->options.verbose);
  EXPECT_EQ(parsed->options.folder, "/tmp");
  auto long_form = Parse({"--port=0", "--verbose", "--folder", "/"});
  ASSERT_TRUE(long_form.ok()) << long_form.status();
  EXPECT_EQ(long_form->options.port, 0);
  EXPECT_EQ(long_form->options.folder, "/");
  auto served_by = Parse({"--served-by", "-v"});
  ASSERT_TRUE(served_by.ok()) << served_by.status();
  EXPECT_TRUE(served_by->options.served_by);
}

TEST(CommandLine, BareDelayIsFiveSecondsAndValuesMayBeFractions) {
  EXPECT_EQ(Parse({"-d"})->options.delay, absl::Seconds(5));
  EXPECT_EQ(Parse({"--delay"})->options.delay, absl::Seconds(5));
  EXPECT_EQ(Parse({"--delay=0.2"})->options.delay, absl::Milliseconds(200));
  EXPECT_EQ(Parse({"-d", "-p", "1"})->options.delay, absl::Seconds(5));
}

TEST(CommandLine, DelayValueAfterSpaceIsRejectedWithAHint) {
  auto parsed = Parse({"-d", "0.5"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("--delay=0.5"));
}

// The whole message, for input that is expected to fail.
std::string Error(std::vector<std::string> args, const CommandLineSpec& spec = kServer) {
  auto parsed = Parse(args, spec);
  if (parsed.ok()) return "(accepted)";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

// Issue 11.1: cxxopts said "Option '3' does not exist" for `-d -3` and `-d5`.
TEST(CommandLine, DelayGivenAValueLikeOtherOptionsNamesWhatWasTyped) {
  EXPECT_EQ(Error({"-d", "-3"}), "'-d -3': -d takes no value; use --delay=SECONDS (0 to 3600)");
  EXPECT_EQ(Error({"-d5"}), "'-d5': -d takes no value; use --delay=5");
  EXPECT_EQ(Error({"-vd5"}), "'-vd5': -d takes no value; use --delay=5");
  EXPECT_EQ(Error({"-d=0.5"}), "'-d=0.5': -d takes no value; use --delay=0.5");
  EXPECT_EQ(Error({"-d", "2", "-v"}), "'-d 2': -d takes no value; use --delay=2");
  EXPECT_EQ(Error({"--delay", "2"}), "'--delay 2': --delay takes no separate value; use --delay=2");
  EXPECT_EQ(Error({"-d", "0x10"}), "'-d 0x10': -d takes no value; use --delay=SECONDS (0 to 3600)");
  // -d beside other flags is still the 5 s delay.
  EXPECT_EQ(Parse({"-dv"})->options.delay, absl::Seconds(5));
  EXPECT_EQ(Parse({"-vd", "-f", "/"})->options.delay, absl::Seconds(5));
}

// Issue 11.1: `-c -p 22075` took "-p" as the model and reported 22075 as a stray argument.
TEST(CommandLine, OptionFollowedByAnotherOptionInsteadOfItsValue) {
  EXPECT_EQ(Error({"-c", "-p", "22075"}, kWrapper),
            "'-c -p': -c needs a MODEL, one of "
            "{thread,thread-pool,process,process-pool,async,single}");
  EXPECT_EQ(Error({"-p", "0", "-c"}, kWrapper),
            "-c needs a MODEL, one of {thread,thread-pool,process,process-pool,async,single}");
  EXPECT_EQ(Error({"-p", "-f", "/"}), "'-p -f': -p needs a PORT");
  EXPECT_EQ(Error({"-vf", "--port=1"}), "'-vf --port=1': -f needs a FOLDER");
  EXPECT_EQ(Error({"--folder"}), "--folder needs a FOLDER");
  EXPECT_EQ(Error({"--workers", "-v"}, kWrapper), "'--workers -v': --workers needs a number");
  // A negative number is a value (a wrong one), not an option.
  EXPECT_EQ(Error({"-p", "-1"}), "invalid port '-1': expected a number from 0 to 65535");
}

TEST(CommandLine, UnknownOptionsAreNamedAsTyped) {
  EXPECT_EQ(Error({"-x"}), "unknown option '-x'");
  EXPECT_EQ(Error({"-vx"}), "unknown option '-x'");
  EXPECT_EQ(Error({"--bogus=1"}), "unknown option '--bogus'");
  EXPECT_EQ(Error({"-3"}), "unexpected argument '-3'");
  EXPECT_EQ(Error({"-c", "thread"}), "unknown option '-c': only the http_server wrapper takes it");
  EXPECT_EQ(Error({"--workers", "4"}),
            "unknown option '--workers': only the thread-pool, process-pool and async models "
            "take it");
}

// Issue 11.2: absl::SimpleAtod read "0x10" as 16 s.
TEST(CommandLine, DelayIsDecimalSecondsUpToAnHour) {
  for (const char* bad :
       {"0x10", "1e3", "inf", "nan", "+1", " 1", "1 ", "-0", "", ".", "1.2.3", "3600.5", "3601"}) {
    EXPECT_EQ(Error({absl::StrCat("--delay=", bad)}),
              absl::StrCat("invalid delay '", bad,
                           "': expected decimal seconds from 0 to 3600, e.g. 1 or 0.25"));
  }
  EXPECT_EQ(Parse({"--delay=0"})->options.delay, absl::ZeroDuration());
  EXPECT_EQ(Parse({"--delay=0.25"})->options.delay, absl::Milliseconds(250));
  EXPECT_EQ(Parse({"--delay=.5"})->options.delay, absl::Milliseconds(500));
  EXPECT_EQ(Parse({"--delay=3600"})->options.delay, absl::Hours(1));
}

TEST(CommandLine, BadValuesNameTheProblem) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {{"-p", "abc"}, "invalid port 'abc'"},
           {{"-p", "65536"}, "invalid port '65536'"},
           {{"-p", "-1"}, "invalid port '-1'"},
           {{"-f", "/does/not/exist"}, "invalid folder '/does/not/exist'"},
           {{"-f", "/etc/passwd"}, "not a directory"},
           {{"--delay=-1"}, "invalid delay '-1'"},
           {{"--delay=soon"}, "invalid delay 'soon'"},
           {{"--bogus"}, "bogus"},
           {{"-x"}, "x"},
           {{"stray"}, "unexpected argument 'stray'"},
           {{"-p"}, "p"},
       }) {
    auto parsed = Parse(c.args);
    ASSERT_FALSE(parsed.ok()) << c.args[0];
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.expected));
    EXPECT_EQ(std::string(parsed.status().message()).find('\n'), std::string::npos);
  }
}

TEST(CommandLine, ConcurrencyOnlyForTheWrapper) {
  EXPECT_FALSE(Parse({"-c", "thread"}).ok());
  auto parsed = Parse({"-c", "process-pool"}, kWrapper);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options.concurrency, "process-pool");
  EXPECT_EQ(Parse({}, kWrapper)->options.concurrency, "thread");
  auto bad = Parse({"-c", "fibers"}, kWrapper);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("{thread,thread-pool,process,process-pool,async,single}"));
}

// Issue 11.5: the lab's order, single (ours, not the lab's) last.
TEST(Models, InTheLabsOrderWithSingleLast) {
  std::vector<std::string> names;
  std::vector<std::string> with_workers;
  for (const ModelInfo& m : Models()) {
    names.push_back(m.name);
    if (m.accepts_workers) with_workers.push_back(m.name);
  }
  EXPECT_THAT(names,
              ElementsAre("thread", "thread-pool", "process", "process-pool", "async", "single"));
  EXPECT_THAT(with_workers, ElementsAre("thread-pool", "process-pool", "async"));
}

TEST(CommandLine, ProgramIsNamedAfterArgvZero) {
  EXPECT_EQ(Parse({}, kServer, "/usr/local/bin/http_server")->options.program, "http_server");
  EXPECT_EQ(Parse({}, kServer, "single_server")->options.program, "single_server");
  EXPECT_EQ(Parse({}, kServer, "")->options.program, "single_server");  // spec.program
}

TEST(CommandLine, WorkersWhereAccepted) {
  EXPECT_FALSE(Parse({"--workers", "4"}).ok());
  EXPECT_EQ(Parse({"--workers", "4"}, kWrapper)->options.workers, 4);
  EXPECT_FALSE(Parse({"--workers", "0"}, kWrapper).ok());
  EXPECT_FALSE(Parse({"--workers", "many"}, kWrapper).ok());
}

const CommandLineSpec kProcessPool = {
    .program = "process_pool_server", .accepts_workers = true, .accepts_pool_sizing = true};

TEST(CommandLine, PoolSizingDefaultsAndValues) {
  auto defaults = Parse({}, kProcessPool);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->options.min_spare, 2);
  EXPECT_EQ(defaults->options.max_spare, 8);
  EXPECT_EQ(defaults->options.max_workers, 256);
  auto typed = Parse({"--min-spare", "3", "--max-spare=5", "--max-workers", "9", "--workers", "9"},
                     kProcessPool);
  ASSERT_TRUE(typed.ok()) << typed.status();
  EXPECT_EQ(typed->options.min_spare, 3);
  EXPECT_EQ(typed->options.max_spare, 5);
  EXPECT_EQ(typed->options.max_workers, 9);
  EXPECT_EQ(typed->options.workers, 9);
}

// A maximum the user did not type makes room for a minimum they did; two typed values that
// contradict each other are an error.
TEST(CommandLine, PoolSizingUntypedLimitsFollowTypedOnes) {
  EXPECT_EQ(Parse({"--min-spare", "20"}, kProcessPool)->options.max_spare, 20);
  EXPECT_EQ(Parse({"--max-spare", "1"}, kProcessPool)->options.min_spare, 1);
  EXPECT_EQ(Parse({"--workers", "300"}, kProcessPool)->options.max_workers, 300);
  EXPECT_EQ(Error({"--min-spare", "5", "--max-spare", "4"}, kProcessPool),
            "invalid max-spare '4': less than --min-spare 5");
  EXPECT_EQ(Error({"--workers", "8", "--max-workers", "4"}, kProcessPool),
            "invalid max-workers '4': fewer than --workers 8");
}

TEST(CommandLine, PoolSizingBadValuesAndOtherModels) {
  EXPECT_EQ(Error({"--max-workers", "0"}, kProcessPool),
            "invalid max-workers '0': expected a number from 1 to 4096");
  EXPECT_EQ(Error({"--min-spare", "many"}, kProcessPool),
            "invalid min-spare 'many': expected a number from 1 to 4096");
  EXPECT_EQ(Error({"--max-spare"}, kProcessPool), "--max-spare needs a number");
  EXPECT_EQ(Error({"--max-workers", "4"}, kWrapper),
            "unknown option '--max-workers': only the process-pool model takes it");
  EXPECT_EQ(Error({"--min-spare", "4"}),
            "unknown option '--min-spare': only the process-pool "
            "model takes it");
}

TEST(WithoutConcurrency, KeepsThePoolSizingWithItsValues) {
  EXPECT_THAT(Strip({"-c", "process-pool", "--max-workers", "4", "--min-spare", "1"}),
              ElementsAre("--max-workers", "4", "--min-spare", "1"));
}

// Issue 11.5: laid out like the lab's argparse text, same flags in the same order.
TEST(CommandLine, HelpReadsLikeTheLabs) {
  auto parsed = Parse({"-h"},
                      {.program = "x",
                       .description = "Concurrent HTTP server",
                       .accepts_workers = true,
                       .accepts_concurrency = true,
                       .workers_help = "workers (default: per model)"},
                      "bin/http_server");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->help);
  EXPECT_EQ(parsed->help_text,
            "Usage: http_server [-h] [-p PORT] [-v] [-d] [-f FOLDER] "
            "[-c {thread,thread-pool,process,process-pool,async,single}] [--workers N] "
            "[--served-by] [--list-models]\n"
            "\n"
            "Concurrent HTTP server\n"
            "\n"
            "optional arguments:\n"
            "  -h, --help            show this help message and exit\n"
            "  -p PORT, --port PORT  Port to bind to (default: 8085; 0 picks a free one).\n"
            "  -v, --verbose         Turn on debugging output.\n"
            "  -d, --delay           Add a delay for debugging purposes: 5 s, or --delay=SECONDS.\n"
            "  -f FOLDER, --folder FOLDER\n"
            "                        Folder from where to serve from (default: the current one).\n"
            "  -c {thread,thread-pool,process,process-pool,async,single}, --concurrency "
            "{thread,thread-pool,process,process-pool,async,single}\n"
            "                        Concurrency methodology (default: thread).\n"
            "  --workers N           workers (default: per model)\n"
            "  --served-by           Every answer names its process and thread (X-Served-By).\n"
            "  --list-models         Print the models and what each one is, and exit.\n");
  auto server = Parse({"--help"}, {.program = "single_server"}, "single_server");
  ASSERT_TRUE(server.ok());
  EXPECT_THAT(server->help_text,
              HasSubstr("Usage: single_server [-h] [-p PORT] [-v] [-d] [-f FOLDER] [--served-by]\n"
                        "\noptional"));
}

TEST(WithoutConcurrency, RemovesEverySpelling) {
  EXPECT_THAT(Strip({"-c", "thread", "-p", "9000"}), ElementsAre("-p", "9000"));
  EXPECT_THAT(Strip({"-cthread", "-v"}), ElementsAre("-v"));
  EXPECT_THAT(Strip({"--concurrency", "async", "-d"}), ElementsAre("-d"));
  EXPECT_THAT(Strip({"--concurrency=async", "--delay=1"}), ElementsAre("--delay=1"));
  EXPECT_THAT(Strip({"--served-by", "-c", "async"}), ElementsAre("--served-by"));
  EXPECT_THAT(Strip({"-vc", "single", "-f", "www"}), ElementsAre("-v", "-f", "www"));
  EXPECT_THAT(Strip({"-vcsingle"}), ElementsAre("-v"));
}

TEST(WithoutConcurrency, KeepsValuesThatLookLikeOptions) {
  EXPECT_THAT(Strip({"-f", "-c", "-c", "thread"}), ElementsAre("-f", "-c"));
  EXPECT_THAT(Strip({"--folder", "-c", "-p9000"}), ElementsAre("--folder", "-c", "-p9000"));
  EXPECT_THAT(Strip({"-fc", "-c", "x"}), ElementsAre("-fc"));
}

}  // namespace
}  // namespace hs
