#include "common/cli.h"

#include <string>
#include <vector>

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
                                        const CommandLineSpec& spec = kServer) {
  std::vector<const char*> argv = {"prog"};
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
              HasSubstr("{single,thread,thread-pool,process,process-pool,async}"));
}

TEST(CommandLine, WorkersWhereAccepted) {
  EXPECT_FALSE(Parse({"--workers", "4"}).ok());
  EXPECT_EQ(Parse({"--workers", "4"}, kWrapper)->options.workers, 4);
  EXPECT_FALSE(Parse({"--workers", "0"}, kWrapper).ok());
  EXPECT_FALSE(Parse({"--workers", "many"}, kWrapper).ok());
}

TEST(CommandLine, HelpListsEveryOption) {
  auto parsed = Parse({"-h"}, kWrapper);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->help);
  for (const char* flag : {"--help", "--port", "--verbose", "--delay", "--folder", "--concurrency",
                           "[-c {single,thread,thread-pool,process,process-pool,async}]"}) {
    EXPECT_THAT(parsed->help_text, HasSubstr(flag));
  }
}

TEST(WithoutConcurrency, RemovesEverySpelling) {
  EXPECT_THAT(Strip({"-c", "thread", "-p", "9000"}), ElementsAre("-p", "9000"));
  EXPECT_THAT(Strip({"-cthread", "-v"}), ElementsAre("-v"));
  EXPECT_THAT(Strip({"--concurrency", "async", "-d"}), ElementsAre("-d"));
  EXPECT_THAT(Strip({"--concurrency=async", "--delay=1"}), ElementsAre("--delay=1"));
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
