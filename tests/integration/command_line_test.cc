// The command line as a user meets it: exit codes and messages of the real binaries, and the
// http_server wrapper reaching the model it names.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/models.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace hs::testing {
namespace {

using ::testing::HasSubstr;

CommandResult RunBinary(const std::string& binary, std::vector<std::string> args) {
  args.insert(args.begin(), BinDir() + "/" + binary);
  return RunCommand(args, absl::Seconds(5));
}

int LineCount(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

TEST(CommandLineExit, BadInputIsOneLineAndExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-p", "http"},
                                             {"-p", "70000"},
                                             {"-f", "/no/such/dir"},
                                             {"--frobnicate"},
                                             {"-c", "thread"}}) {
    CommandResult r = RunBinary("single_server", args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.output;
    EXPECT_EQ(LineCount(r.output), 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr("single_server: error:"));
    EXPECT_THAT(r.output, HasSubstr("--help"));
  }
}

TEST(CommandLineExit, HelpExitsZeroWithUsage) {
  CommandResult r = RunBinary("http_server", {"-h"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(absl::StartsWith(r.output,
                               "Usage: http_server [-h] [-p PORT] [-v] [-d] [-f FOLDER] "
                               "[-c {thread,thread-pool,process,process-pool,async,single}] "
                               "[--workers N] [--min-spare N] [--max-spare N] [--max-workers N] "
                               "[--served-by] [--list-models]\n"))
      << r.output;
  EXPECT_THAT(r.output, HasSubstr("\noptional arguments:\n  -h, --help            show this help"));
}

// Issue 11.1 and 11.2: what a user mistyped, in their words; exit 2.
TEST(CommandLineExit, MistypedOptionsAreNamedAsTyped) {
  struct Case {
    std::string binary;
    std::vector<std::string> args;
    std::string line;
  };
  for (const Case& c : std::vector<Case>{
           {"single_server",
            {"-d", "-3"},
            "single_server: error: '-d -3': -d takes no value; use --delay=SECONDS (0 to 3600) "
            "(see --help)\n"},
           {"http_server",
            {"-d5"},
            "http_server: error: '-d5': -d takes no value; use --delay=5 (see --help)\n"},
           {"http_server",
            {"-c", "-p", "22075"},
            "http_server: error: '-c -p': -c needs a MODEL, one of "
            "{thread,thread-pool,process,process-pool,async,single} (see --help)\n"},
           {"async_server",
            {"--delay=0x10"},
            "async_server: error: invalid delay '0x10': expected decimal seconds from 0 to 3600, "
            "e.g. 1 or 0.25 (see --help)\n"},
       }) {
    CommandResult r = RunBinary(c.binary, c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0];
    EXPECT_EQ(r.output, c.line);
  }
}

TEST(CommandLineExit, PortInUseIsExitOneNamingThePort) {
  TempDir root;
  ServerProcess first("single_server", {"-f", root.path()});
  ASSERT_GT(first.port(), 0);
  CommandResult r =
      RunBinary("single_server", {"-p", std::to_string(first.port()), "-f", root.path()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(std::to_string(first.port())));
  EXPECT_THAT(r.output, HasSubstr("in use"));
}

// Issue 11.4: -f defaults to the current folder, so a server started from the repository answered
// / with 404 and served the Makefile, with nothing at start-up to say so.
TEST(Startup, NamesTheAbsoluteFolderItServes) {
  PageSite site;
  const std::string relative = std::filesystem::relative(site.root()).string();
  ASSERT_FALSE(relative.starts_with("/")) << relative;
  ServerProcess server("single_server", {"-f", relative});
  ASSERT_GT(server.port(), 0);
  EXPECT_EQ(server.Stderr(), "listening on port " + std::to_string(server.port()) + ", serving " +
                                 std::filesystem::canonical(site.root()).string() + "\n");
}

TEST(Startup, WarnsWhenTheFolderHasNoIndex) {
  TempDir root;
  root.Write("page.html", "page\n");
  const std::string folder = std::filesystem::canonical(root.path()).string();
  ServerProcess server("http_server", {"-c", "thread", "-f", root.path()});
  ASSERT_GT(server.port(), 0);
  const std::string expected = "listening on port " + std::to_string(server.port()) + ", serving " +
                               folder + "\nhttp_server: warning: " + folder +
                               " has no index.html; / will answer 403\n";
  Eventually([&] { return server.Stderr().size() >= expected.size(); }, absl::Seconds(5));
  EXPECT_EQ(server.Stderr(), expected);
  auto r = Fetch(server.port(), Get("/"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 403);  // a folder without index.html, as nginx answers
}

// Issue 14.4: types come from /etc/mime.types when it can be read (the built-in table
// otherwise), and -v says which.
TEST(Startup, VerboseSaysWhereTheMimeTypesCameFrom) {
  PageSite site;
  site.Write("style.css", "p {}\n");
  ServerProcess server("thread_server", {"-v", "-f", site.root()});
  ASSERT_GT(server.port(), 0);
  const bool readable = access("/etc/mime.types", R_OK) == 0;
  const std::string said =
      readable ? " extensions from /etc/mime.types\n" : "MIME types: the built-in table (";
  EXPECT_TRUE(
      Eventually([&] { return absl::StrContains(server.Stderr(), said); }, absl::Seconds(5)))
      << server.Stderr();
  auto css = Fetch(server.port(), Get("/style.css"));
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(css->Header("content-type"), "text/css");
}

// Issue 11.7: a worker or loop thread that could not be created (here: no address space left
// for its stack) threw std::system_error out of main: "terminate called ...", exit 134.
TEST(Startup, ThreadsThatCannotStartAreAnErrorNotAnAbort) {
  if (kSanitized) GTEST_SKIP() << "the sanitizers reserve far more address space than ulimit -v";
  PageSite site;
  struct Case {
    std::vector<std::string> command;
    std::string error;  // a regular expression for the line after the port line
  };
  for (const Case& c : std::vector<Case>{
           {{"thread_pool_server"},
            "thread_pool_server: error: cannot start worker thread [0-9]+ of 1000: "
            "Resource temporarily unavailable"},
           {{"async_server"},
            "async_server: error: cannot start event loop thread [0-9]+ of 1000: "
            "Resource temporarily unavailable"},
           {{"http_server", "-c", "thread-pool"},
            "http_server: error: cannot start worker thread [0-9]+ of 1000: "
            "Resource temporarily unavailable"},
       }) {
    std::string command = "ulimit -v 600000 && exec " + BinDir() + "/";
    for (const std::string& word : c.command) command += word + " ";
    command += "--workers 1000 -p 0 -f " + site.root();
    CommandResult r = RunCommand({"/bin/sh", "-c", command}, absl::Seconds(10));
    EXPECT_EQ(r.exit_code, 1) << command << "\n" << r.output;
    std::vector<std::string> lines = absl::StrSplit(r.output, '\n');
    ASSERT_EQ(lines.size(), 3u) << r.output;  // the port line, the error, ""
    EXPECT_TRUE(absl::StartsWith(lines[0], "listening on port ")) << r.output;
    EXPECT_THAT(lines[1], ::testing::MatchesRegex(c.error));
  }
}

TEST(Wrapper, UnknownModelIsExitTwo) {
  CommandResult r = RunBinary("http_server", {"-c", "coroutines"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("invalid concurrency 'coroutines'"));
}

// Issue 11.3: the wrapper used to pass --workers on, and single_server refused it.
TEST(Wrapper, RejectsAFlagTheModelDoesNotTake) {
  for (const char* model : {"single", "thread", "process"}) {
    CommandResult r = RunBinary("http_server", {"-c", model, "--workers", "4", "-p", "0"});
    EXPECT_EQ(r.exit_code, 2) << model;
    EXPECT_EQ(r.output,
              "http_server: error: unknown option '--workers': only the thread-pool, process-pool "
              "and async models take it (see --help)\n");
  }
}

// Issue 13: the process pool's sizing flags pass through the wrapper; other models refuse them.
TEST(Wrapper, PassesThePoolSizingOnToTheProcessPoolOnly) {
  TempDir root;
  root.Write("index.html", "hello\n");
  ServerProcess server("http_server", {"-c", "process-pool", "--workers", "3", "--max-workers", "3",
                                       "--min-spare", "1", "--max-spare", "1", "-f", root.path()});
  ASSERT_GT(server.port(), 0);
  EXPECT_TRUE(Eventually([&] { return LiveChildren(server.pid()).size() == 3; }, absl::Seconds(3)));
  auto r = Fetch(server.port(), Get("/"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "hello\n");
  for (const char* model : {"thread-pool", "async", "process"}) {
    CommandResult refused =
        RunBinary("http_server", {"-c", model, "--max-workers", "8", "-p", "0"});
    EXPECT_EQ(refused.exit_code, 2) << model;
    EXPECT_EQ(refused.output,
              "http_server: error: unknown option '--max-workers': only the process-pool model "
              "takes it (see --help)\n");
  }
  CommandResult contradiction =
      RunBinary("http_server", {"-c", "process-pool", "--workers", "8", "--max-workers", "4"});
  EXPECT_EQ(contradiction.exit_code, 2);
  EXPECT_EQ(contradiction.output,
            "http_server: error: invalid max-workers '4': fewer than --workers 8 (see --help)\n");
}

// Issue 11.3: errors the model reports after execv name the program the user ran.
TEST(Wrapper, ModelErrorsNameTheWrapper) {
  TempDir root;
  ServerProcess first("single_server", {"-f", root.path()});
  ASSERT_GT(first.port(), 0);
  const std::string port = std::to_string(first.port());
  for (const char* model : {"single", "async", "thread-pool"}) {
    CommandResult r = RunBinary("http_server", {"-c", model, "-p", port, "-f", root.path()});
    EXPECT_EQ(r.exit_code, 1) << model;
    EXPECT_EQ(r.output,
              "http_server: error: cannot bind port " + port + ": Address already in use\n");
  }
}

TEST(Wrapper, MissingModelBinaryIsExitTwo) {
  TempDir alone;  // the wrapper without its siblings
  std::filesystem::copy_file(BinDir() + "/http_server", alone.path() + "/http_server");
  CommandResult r = RunCommand({alone.path() + "/http_server", "-c", "single"}, absl::Seconds(5));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("cannot run model 'single'"));
}

// The wrapper execs the model: the pid we started is the pid serving, running the model binary.
TEST(Wrapper, ReachesTheModelInTheSameProcess) {
  TempDir root;
  root.Write("index.html", "hello\n");
  ServerProcess server("http_server", {"-c", "single", "-f", root.path()});
  ASSERT_GT(server.port(), 0);
  std::string exe = std::filesystem::read_symlink("/proc/" + std::to_string(server.pid()) + "/exe");
  EXPECT_TRUE(absl::EndsWith(exe, "/single_server")) << exe;
  auto r = Fetch(server.port(), Get("/"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "hello\n");
  server.Signal(SIGINT);
  auto status = server.WaitExit(absl::Seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
}

}  // namespace
}  // namespace hs::testing

namespace hs::testing {
namespace {

// The registry (common/models.h) is the one list of models: every server binary the build made
// is registered, so the suites that instantiate from Models() exercise it, and every registered
// model was built.
TEST(Registry, EveryBuiltServerIsRegisteredAndEveryRegisteredOneIsBuilt) {
  std::set<std::string> built;
  for (const auto& entry : std::filesystem::directory_iterator(BinDir())) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, "_server") && name != "http_server") built.insert(name);
  }
  std::set<std::string> registered;
  for (const ModelInfo& m : Models()) registered.insert(m.binary);
  EXPECT_EQ(built, registered) << "a server binary that is not in Models(), or the reverse";
}

TEST(Registry, TheWrapperListsTheRegistry) {
  CommandResult r = RunBinary("http_server", {"--list-models"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, ModelTable());
  EXPECT_EQ(LineCount(r.output), static_cast<int>(Models().size()) + 1);
  EXPECT_THAT(r.output, HasSubstr("\nsingle\tsingle_server\titerative\tno\tno\tno\tyes\t"));
  // Only the wrapper has it.
  EXPECT_EQ(RunBinary("thread_server", {"--list-models"}).exit_code, 2);
}

}  // namespace
}  // namespace hs::testing
