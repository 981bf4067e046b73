// The process pool as a self-sizing prefork (pool_server/prefork.h): it grows as its workers turn
// busy, shrinks back once they are idle, never passes --max-workers, can be held to a fixed size,
// and prints its scoreboard on SIGUSR1. (The suites that run every model cover the rest: slow
// clients, a killed worker, shutdown.)
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace hs::testing {
namespace {

class ProcessPoolTest : public ::testing::Test {
 protected:
  ServerProcess Start(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"-f", site_.root()};
    args.insert(args.end(), extra.begin(), extra.end());
    return ServerProcess("process_pool_server", args);
  }

  static size_t Workers(const ServerProcess& server) { return LiveChildren(server.pid()).size(); }

  // `n` clients that each send half a request and then nothing: each holds a worker (reading)
  // until it leaves, or for the 10 s request timeout.
  static std::vector<Fd> HoldWorkers(int port, int n) {
    std::vector<Fd> clients;
    for (int i = 0; i < n; ++i) {
      clients.push_back(ConnectQuietly(port));
      EXPECT_TRUE(clients.back().valid());
      SendRaw(clients.back().get(), "GET / HTTP/1.1\r\nHost: x\r\n");
    }
    return clients;
  }

  // Asks for a scoreboard (SIGUSR1) and returns that report, header line first, one line per
  // worker after it; empty if none came within 2 s. (The report is one write to stderr.)
  static std::vector<std::string> Scoreboard(ServerProcess& server) {
    const size_t before = Reports(server.Stderr());
    server.Signal(SIGUSR1);
    std::vector<std::string> lines;
    if (!Eventually([&] { return Reports(server.Stderr()) > before; }, absl::Seconds(2))) {
      return lines;
    }
    const std::string err = server.Stderr();
    const size_t header = err.rfind('\n', err.rfind("scoreboard:"));  // npos: the first line
    for (absl::string_view line :
         absl::StrSplit(err.substr(header == std::string::npos ? 0 : header + 1), '\n')) {
      if (lines.empty() || absl::StartsWith(line, "  pid ")) lines.emplace_back(line);
    }
    return lines;
  }

  static size_t Reports(absl::string_view err) {
    size_t n = 0;
    for (size_t at = err.find("scoreboard:"); at != absl::string_view::npos;
         at = err.find("scoreboard:", at + 1)) {
      ++n;
    }
    return n;
  }

  PageSite site_;
};

// Watches how many workers the server has, from another thread, and keeps the largest count.
class PeakWorkers {
 public:
  explicit PeakWorkers(const ServerProcess& server)
      : thread_([this, pid = server.pid()] {
          while (!stop_) {
            peak_ = std::max(peak_.load(), LiveChildren(pid).size());
            absl::SleepFor(absl::Milliseconds(5));
          }
        }) {}
  ~PeakWorkers() {
    stop_ = true;
    thread_.join();
  }
  size_t peak() const { return peak_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<size_t> peak_{0};
  std::thread thread_;
};

// Before: two workers (one per core) and no growth, so six delayed requests took three waves.
TEST_F(ProcessPoolTest, SixDelayedRequestsWithDefaultSettingsTakeAboutOneDelay) {
  ServerProcess server = Start({"--delay=1"});
  ASSERT_GT(server.port(), 0);
  const absl::Duration slowest = FetchAllConcurrently(server.port(), 6);
  EXPECT_GE(slowest, absl::Seconds(1));
  EXPECT_LT(slowest, absl::Milliseconds(1800)) << "the pool did not grow for the waiting clients";
}

// Before: 64 idle slow clients held both workers, and everyone else waited for their timeouts.
TEST_F(ProcessPoolTest, SixtyFourSlowClientsDoNotStarveANewOne) {
  ServerProcess server = Start({});
  ASSERT_GT(server.port(), 0);
  std::vector<Fd> slow = HoldWorkers(server.port(), 64);
  const absl::Time asked = absl::Now();
  auto r = TryFetch(server.port(), Get("/page.html"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(absl::Now() - asked, absl::Seconds(1)) << "behind 64 slow clients";
  // The fetch itself used an idle worker, so the parent may still be forking its replacement.
  EXPECT_TRUE(Eventually([&] { return Workers(server) >= 66u; }, absl::Seconds(2)))
      << Workers(server) << " workers: want a worker each, and --min-spare 2 idle";
}

TEST_F(ProcessPoolTest, GrowsWhenWorkersTurnBusyAndShrinksBackToMaxSpareIdle) {
  ServerProcess server = Start({"--workers", "2", "--min-spare", "2", "--max-spare", "4"});
  ASSERT_GT(server.port(), 0);
  ASSERT_TRUE(Eventually([&] { return Workers(server) == 2; }, absl::Seconds(3)));
  // Two clients take both workers: the parent hears of it at once and forks two spare ones.
  std::vector<Fd> held = HoldWorkers(server.port(), 2);
  const absl::Time busy = absl::Now();
  ASSERT_TRUE(Eventually([&] { return Workers(server) >= 4; }, absl::Seconds(2)));
  EXPECT_LT(absl::Now() - busy, absl::Milliseconds(500)) << "slow to react";
  // Twenty more: it keeps two idle beside however many are busy.
  std::vector<Fd> more = HoldWorkers(server.port(), 20);
  EXPECT_TRUE(Eventually([&] { return Workers(server) >= 24; }, absl::Seconds(3)))
      << Workers(server) << " workers for 22 busy";
  // They leave: the extra idle workers retire, down to --max-spare, and no further.
  held.clear();
  more.clear();
  EXPECT_TRUE(Eventually([&] { return Workers(server) == 4; }, absl::Seconds(5)))
      << Workers(server) << " workers, want --max-spare 4 idle";
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Workers(server), 4u);
  server.Signal(SIGINT);
  ExpectExitZero(server, absl::Seconds(3));
  // Retiring is routine: only a worker that died unasked is worth a line.
  EXPECT_EQ(server.Stderr(), "listening on port " + std::to_string(server.port()) + ", serving " +
                                 std::filesystem::canonical(site_.root()).string() + "\n");
}

// The recipe for a fixed-size pool: --workers N --max-workers N.
TEST_F(ProcessPoolTest, FixedSizePoolServesTwelveDelayedRequestsInThreeWaves) {
  ServerProcess server = Start({"--workers", "4", "--max-workers", "4", "--delay=1"});
  ASSERT_GT(server.port(), 0);
  ASSERT_TRUE(Eventually([&] { return Workers(server) == 4; }, absl::Seconds(3)));
  PeakWorkers peak(server);
  const absl::Time start = absl::Now();
  const absl::Duration slowest = FetchAllConcurrently(server.port(), 12);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(2900)) << "more than four at a time";
  EXPECT_LT(slowest, absl::Milliseconds(4500));
  EXPECT_EQ(peak.peak(), 4u);
  EXPECT_EQ(Workers(server), 4u);
}

TEST_F(ProcessPoolTest, NeverMoreWorkersThanMaxWorkers) {
  ServerProcess server = Start({"--max-workers", "6"});
  ASSERT_GT(server.port(), 0);
  PeakWorkers peak(server);
  std::vector<Fd> held = HoldWorkers(server.port(), 20);
  EXPECT_TRUE(Eventually([&] { return Workers(server) == 6; }, absl::Seconds(3)));
  absl::SleepFor(absl::Milliseconds(500));  // long enough for several looks at the scoreboard
  EXPECT_EQ(peak.peak(), 6u);
  // The rest wait in the kernel's queue, and are served once the held clients leave.
  Fd waiting = Connect(server.port());
  SendRaw(waiting.get(), Get("/page.html"));
  EXPECT_FALSE(Readable(waiting.get(), absl::Milliseconds(300))) << "a seventh worker answered";
  held.clear();
  auto r = ReadResponse(waiting.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(peak.peak(), 6u);
}

TEST_F(ProcessPoolTest, Usr1PrintsTheScoreboardOneLinePerWorker) {
  ServerProcess server = Start({"--workers", "3", "--delay=1"});
  ASSERT_GT(server.port(), 0);
  ASSERT_TRUE(Eventually([&] { return Workers(server) == 3; }, absl::Seconds(3)));
  ASSERT_TRUE(Fetch(server.port(), Get("/index.html")).has_value());  // one request served
  // Its worker turns idle once it has read the client's close; a request arriving before that
  // finds one idle worker fewer than --min-spare 2 and rightly forks a fourth (CI saw it once,
  // under ASan). So wait for the pool to be all idle again, as the scoreboard says.
  ASSERT_TRUE(Eventually(
      [&] {
        const std::vector<std::string> report = Scoreboard(server);
        return !report.empty() && absl::StrContains(report[0], ": 3 workers, 0 busy, 3 idle ");
      },
      absl::Seconds(3)))
      << server.Stderr();
  Fd delayed = Connect(server.port());
  SendRaw(delayed.get(), Get("/page.html"));
  absl::SleepFor(absl::Milliseconds(300));  // inside its 1 s delay
  std::vector<std::string> lines = Scoreboard(server);
  ASSERT_FALSE(lines.empty()) << "no report after SIGUSR1: " << server.Stderr();
  EXPECT_THAT(lines.front(),
              ::testing::HasSubstr("process_pool_server: scoreboard: 3 workers, 1 busy, 2 idle"));
  lines.erase(lines.begin());
  ASSERT_EQ(lines.size(), 3u) << server.Stderr();
  const std::string all = absl::StrJoin(lines, "\n");
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return absl::StrContains(l, " delaying "); }),
            1)
      << all;
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return absl::StrContains(l, " idle "); }),
            2)
      << all;
  std::vector<pid_t> workers = LiveChildren(server.pid());
  for (pid_t pid : workers) {
    EXPECT_THAT(all, ::testing::HasSubstr("pid " + std::to_string(pid) + " ")) << all;
  }
  EXPECT_THAT(all, ::testing::ContainsRegex("requests 1 +connections [12]"));
  // The signal changed nothing else: the delayed client gets its page, the server exits 0.
  auto r = ReadResponse(delayed.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  server.Signal(SIGINT);
  ExpectExitZero(server, absl::Seconds(3));
}

}  // namespace
}  // namespace hs::testing
