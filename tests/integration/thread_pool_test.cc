// thread_pool_server is half-sync/half-async (pool_server/poller.h): a connection waiting for its
// client waits in one poller, and a worker takes it only when it has work. These tests hold a
// small pool to that against many more clients than workers -- slow ones, idle keep-alive ones,
// and a shutdown with hundreds parked -- and check that -d still holds a worker, as slow work
// does (server_test.cc, blocking_models_test.cc and bad_clients_test.cc cover the rest).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace hs::testing {
namespace {

class ThreadPoolTest : public ::testing::Test {
 protected:
  ServerProcess Start(std::vector<std::string> extra) {
    std::vector<std::string> args = {"-f", site_.root()};
    args.insert(args.end(), extra.begin(), extra.end());
    return ServerProcess("thread_pool_server", args);
  }

  // `n` keep-alive connections, each answered once and left open.
  std::vector<Fd> AnsweredKeepAlive(int port, int n) {
    std::vector<Fd> clients;
    for (int i = 0; i < n; ++i) {
      clients.push_back(Connect(port));
      SendRaw(clients.back().get(), Get("/page.html", /*close=*/false));
      auto r = ReadResponse(clients.back().get());
      EXPECT_TRUE(r.has_value() && r->status == 200) << "connection " << i << " not answered";
      EXPECT_TRUE(r.has_value() && r->Header("connection") == "keep-alive") << "connection " << i;
    }
    return clients;
  }

  PageSite site_;
};

// 64 clients sending their heads a byte every half second -- slowly, but never slowly enough
// for a timeout -- against two workers. Each byte is a short turn for a worker; in between, the
// poller waits on all 64. (When a worker held each connection, the new client waited until
// the slow ones gave up: bad_clients_test.cc's slowloris test.)
TEST_F(ThreadPoolTest, SixtyFourDripFeedingClientsLeaveTwoWorkersFree) {
  ServerProcess server = Start({"--workers", "2"});
  ASSERT_GT(server.port(), 0);
  std::vector<Fd> slow;
  for (int i = 0; i < 64; ++i) slow.push_back(Connect(server.port()));
  const std::string head = "GET /page.html HTTP/1.1\r\nHost: x\r\nX-Drip: fed a byte at a time\r\n";
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    for (size_t i = 0; i < head.size() && !stop; ++i) {
      for (Fd& fd : slow) SendRaw(fd.get(), head.substr(i, 1));
      for (int tick = 0; tick < 50 && !stop; ++tick) absl::SleepFor(absl::Milliseconds(10));
    }
  });
  absl::SleepFor(absl::Milliseconds(1200));  // three bytes each have gone through the workers
  for (int i = 0; i < 3; ++i) {
    const absl::Time asked = absl::Now();
    auto r = Fetch(server.port(), Get("/page.html"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, kPage);
    EXPECT_LT(absl::Now() - asked, absl::Seconds(1)) << "the slow clients held the workers";
  }
  // The slow clients are still connected, and still being heard: nothing was closed on them.
  for (Fd& fd : slow) EXPECT_FALSE(Readable(fd.get(), absl::ZeroDuration()));
  stop = true;
  drip.join();
}

// 300 idle keep-alive connections against four workers: every one is answered, stays open (no
// connection is closed to make room), and is answered again at once when it asks again.
TEST_F(ThreadPoolTest, ThreeHundredIdleKeepAliveConnectionsStayOpenAndAreAnsweredAgain) {
  ServerProcess server = Start({"--workers", "4"});
  ASSERT_GT(server.port(), 0);
  std::vector<Fd> clients = AnsweredKeepAlive(server.port(), 300);
  ASSERT_EQ(clients.size(), 300u);
  absl::SleepFor(absl::Milliseconds(200));
  for (Fd& fd : clients) ASSERT_FALSE(Readable(fd.get(), absl::ZeroDuration())) << "closed";
  // One after another: each answered within a second...
  for (size_t i = 0; i < clients.size(); i += 10) {
    const absl::Time asked = absl::Now();
    SendRaw(clients[i].get(), Get("/page.html", /*close=*/false));
    auto r = ReadResponse(clients[i].get());
    ASSERT_TRUE(r.has_value()) << "connection " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(absl::Now() - asked, absl::Seconds(1)) << "connection " << i;
  }
  // ...and all at once: all answered within a second.
  const absl::Time asked = absl::Now();
  for (Fd& fd : clients) SendRaw(fd.get(), Get("/page.html", /*close=*/false));
  for (size_t i = 0; i < clients.size(); ++i) {
    auto r = ReadResponse(clients[i].get());
    ASSERT_TRUE(r.has_value()) << "connection " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("connection"), "keep-alive");
  }
  EXPECT_LT(absl::Now() - asked, absl::Seconds(1));
}

// -d stands for slow work, so it holds its worker: with the default pool (4 per core, at least
// 4) six delayed requests at once take one delay on this machine's cores if six workers or more.
TEST_F(ThreadPoolTest, SixDelayedRequestsWithTheDefaultPoolTakeOneDelayPerRound) {
  ServerProcess server = Start({"--delay=1"});
  ASSERT_GT(server.port(), 0);
  const int workers = std::max(4, 4 * static_cast<int>(std::thread::hardware_concurrency()));
  const int rounds = (6 + workers - 1) / workers;
  std::vector<std::optional<HttpResponse>> responses(6);
  const absl::Time start = absl::Now();
  std::vector<std::thread> clients;
  for (auto& response : responses) {
    clients.emplace_back([&] { response = TryFetch(server.port(), Get("/page.html")); });
  }
  for (std::thread& client : clients) client.join();
  const absl::Duration wall = absl::Now() - start;
  for (const auto& r : responses) {
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_GE(wall, absl::Seconds(rounds) - absl::Milliseconds(50));
  EXPECT_LT(wall, absl::Seconds(rounds) + absl::Milliseconds(800)) << workers << " workers";
}

// Shutdown with many connections parked in the poller and two workers: the requests that came
// just before the signal are answered, the 200 answered idle connections close at once, the
// silent ones get the one shared grace, and the server exits 0 (every thread joined) soon after.
TEST_F(ThreadPoolTest, ShutdownWithHundredsParkedClosesIdleAtOnceAndSilentAfterTheGrace) {
  ServerProcess server = Start({"--workers", "2"});
  ASSERT_GT(server.port(), 0);
  std::vector<Fd> idle = AnsweredKeepAlive(server.port(), 200);
  std::vector<Fd> silent;
  for (int i = 0; i < 10; ++i) silent.push_back(Connect(server.port()));
  std::vector<Fd> asking;  // in the accept queue, parked, or with a worker when the signal comes
  for (int i = 0; i < 5; ++i) {
    asking.push_back(Connect(server.port()));
    SendRaw(asking.back().get(), Get("/page.html"));
  }
  const absl::Time signalled = absl::Now();
  server.Signal(SIGINT);
  for (Fd& fd : idle) EXPECT_TRUE(PeerClosed(fd.get(), absl::Seconds(1)));
  EXPECT_LT(absl::Now() - signalled, absl::Milliseconds(kSanitized ? 900 : 500))
      << "idle connections waited";
  for (Fd& fd : asking) {
    auto r = ReadResponse(fd.get());
    ASSERT_TRUE(r.has_value()) << "a client that had asked lost its answer";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, kPage);
  }
  for (Fd& fd : silent) EXPECT_TRUE(PeerClosed(fd.get(), absl::Seconds(3)));
  const absl::Duration silent_closed = absl::Now() - signalled;
  EXPECT_GE(silent_closed, absl::Milliseconds(900)) << "the silent clients got no grace";
  EXPECT_LT(silent_closed, absl::Milliseconds(1600));
  ExpectExitZero(server, absl::Seconds(2));
}

}  // namespace
}  // namespace hs::testing
