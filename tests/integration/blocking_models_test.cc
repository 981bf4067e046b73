// What the blocking concurrency models promise beyond serving HTTP (server_test.cc covers that):
// -d blocks only the thread or process serving that request; graceful shutdown finishes what is
// in flight and leaves no process behind; and each model's own bookkeeping -- threads joined,
// children reaped, pool sizes kept, dead workers replaced.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/models.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace hs::testing {
namespace {

struct Model {
  std::string binary;
  bool pool;    // takes --workers
  bool sizing;  // grows and shrinks (--max-workers N caps it)
  // Each worker holds its connection between requests (common/models.h).
  bool holds_workers;
};

std::string ModelName(const ::testing::TestParamInfo<Model>& info) { return info.param.binary; }

// The registered models (common/models.h) for which `keep` holds.
std::vector<Model> ModelsWhere(const std::function<bool(const ModelInfo&)>& keep) {
  std::vector<Model> models;
  for (const ModelInfo& m : Models()) {
    if (keep(m)) {
      models.push_back({m.binary, m.kind == ModelInfo::Kind::kPool, m.accepts_pool_sizing,
                        m.kind == ModelInfo::Kind::kPool && m.worker_holds_connection});
    }
  }
  return models;
}

// The blocking models that serve clients concurrently: a thread or process per connection, or a
// pool of them.
std::vector<Model> BlockingConcurrentModels() {
  return ModelsWhere([](const ModelInfo& m) {
    return m.kind == ModelInfo::Kind::kPerConnection || m.kind == ModelInfo::Kind::kPool;
  });
}

// Every process in process group `pgid`, zombies included.
std::vector<pid_t> ProcessGroup(pid_t pgid) {
  std::vector<pid_t> members;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    pid_t pid;
    if (!absl::SimpleAtoi(it->path().filename().string(), &pid)) continue;
    std::vector<std::string> fields = StatFields(pid);
    if (fields.size() > 2 && fields[2] == std::to_string(pgid)) members.push_back(pid);
  }
  return members;
}

// The members of process group `pgid` that still run: a zombie holds no socket and serves no one
// (an orphan's zombie may wait long for a reaper that does not reap).
std::vector<pid_t> LiveProcessGroup(pid_t pgid) {
  std::vector<pid_t> live;
  for (pid_t pid : ProcessGroup(pgid)) {
    std::vector<std::string> fields = StatFields(pid);
    if (!fields.empty() && fields[0] != "Z") live.push_back(pid);
  }
  return live;
}

class ModelTest : public ::testing::TestWithParam<Model> {
 protected:
  // Starts the model; pools get `workers` workers, so results do not depend on the core count.
  ServerProcess Start(std::vector<std::string> extra, int workers) {
    std::vector<std::string> args = {"-f", site_.root()};
    if (GetParam().pool) args.insert(args.end(), {"--workers", std::to_string(workers)});
    args.insert(args.end(), extra.begin(), extra.end());
    return ServerProcess(GetParam().binary, args);
  }

  // Connects `n` clients and sends each a request; the server has them all, in its hands or in
  // the kernel's accept queue, once this returns.
  std::vector<Fd> SendRequests(int port, int n) {
    std::vector<Fd> clients;
    for (int i = 0; i < n; ++i) {
      clients.push_back(Connect(port));
      SendRaw(clients.back().get(), Get("/page.html"));
    }
    return clients;
  }

  // Every client gets its whole response; the server exits 0, has written nothing but its port
  // line, and leaves no process behind in its group.
  void ExpectGracefulExit(ServerProcess& server, std::vector<Fd>& clients) {
    for (Fd& fd : clients) {
      auto r = ReadResponse(fd.get());
      ASSERT_TRUE(r.has_value()) << "a client lost its response";
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, kPage);
    }
    auto status = server.WaitExit(absl::Seconds(10));
    ASSERT_TRUE(status.has_value()) << "server did not exit";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
    EXPECT_TRUE(ProcessGroup(server.pid()).empty()) << "a worker or child outlived the server";
    EXPECT_EQ(server.Stderr(), "listening on port " + std::to_string(server.port()) + ", serving " +
                                   std::filesystem::canonical(site_.root()).string() + "\n");
  }

  PageSite site_;
};

using DelayTest = ModelTest;
using BlockingModelTest = ModelTest;

TEST_P(DelayTest, SixDelayedClientsAtOnceTakeOneDelayNotSix) {
  ServerProcess server = Start({"--delay=1"}, /*workers=*/8);
  const absl::Time start = absl::Now();
  // The longest a client waited for its answer, its request sent.
  const absl::Duration slowest = FetchAllConcurrently(server.port(), 6);
  if (GetParam().binary == "single_server") {
    EXPECT_GE(absl::Now() - start, absl::Seconds(5))
        << "the iterative server serves one client at a time";
  } else {
    // Timed from each request, not from the start: a handshake the loaded machine delays (a
    // SYN retransmitted after a second) is not the server serving clients one after another.
    EXPECT_LT(slowest, absl::Seconds(2)) << "-d must block only the thread or process serving it";
  }
}

TEST_P(BlockingModelTest, SigtermFinishesDelayedRequestsAndLeavesNoProcessBehind) {
  // Two workers for the pools: four clients are then two in service and two still queued.
  ServerProcess server = Start({"--delay=0.5"}, /*workers=*/2);
  std::vector<Fd> clients = SendRequests(server.port(), 4);
  // Not synchronisation: a request not yet inside its delay sits in an accept queue, which
  // shutdown must serve as well. The pause only makes "in flight" the likely case.
  absl::SleepFor(absl::Milliseconds(200));
  server.Signal(SIGTERM);
  ExpectGracefulExit(server, clients);
}

TEST_P(BlockingModelTest, CtrlCToTheWholeGroupIsOneQuietGracefulShutdown) {
  ServerProcess server = Start({"--delay=0.5"}, /*workers=*/2);
  std::vector<Fd> clients = SendRequests(server.port(), 4);
  absl::SleepFor(absl::Milliseconds(200));  // as above: in flight or queued, both must finish
  // A terminal's Ctrl-C: SIGINT to every process of the foreground group, children included.
  ASSERT_EQ(::kill(-server.pid(), SIGINT), 0);
  ExpectGracefulExit(server, clients);
}

// Two clients that keep their keep-alive connections busy must not starve a third client of a
// two-worker pool. The process pool's workers each hold a connection, so while someone waits
// each answer closes its connection (Connection: close) and a worker moves on (a self-sizing
// pool would fork a third, so it is held to two: the same rule applies at its cap). The thread
// pool's workers hold none between requests (its poller waits for the next one), so the third
// client is served without closing anyone's connection -- as in the per-connection models, where
// nobody ever waits for a worker.
TEST_P(BlockingModelTest, BusyKeepAliveClientsDoNotStarveAWaitingClient) {
  ServerProcess server = Start(GetParam().sizing ? std::vector<std::string>{"--max-workers", "2"}
                                                 : std::vector<std::string>{},
                               /*workers=*/2);
  std::atomic<bool> stop{false};
  std::atomic<int> closes{0};
  std::vector<std::thread> busy;
  for (int i = 0; i < 2; ++i) {
    busy.emplace_back([&] {
      while (!stop) {  // back-to-back requests, reconnecting whenever the server closes
        Fd fd = Connect(server.port());
        for (;;) {
          if (stop || !SendAll(fd.get(), Get("/page.html", /*close=*/false)).ok()) break;
          auto r = ReadResponse(fd.get());
          if (!r.has_value()) break;
          if (r->Header("connection") == "close") {
            ++closes;
            break;
          }
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));  // both workers are now held by the busy clients
  const absl::Time start = absl::Now();
  auto r = Fetch(server.port(), Get("/index.html"));
  const absl::Duration waited = absl::Now() - start;
  stop = true;
  for (std::thread& t : busy) t.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(waited, absl::Seconds(1)) << "the waiting client was starved";
  if (GetParam().holds_workers) {
    EXPECT_GT(closes.load(), 0) << "no busy connection was closed for it";
  } else {
    EXPECT_EQ(closes.load(), 0) << "a busy connection was closed, yet no worker was held";
  }
}

// The models that fork server children: however the parent goes, its children go with it.
// Left behind, they kept their clients and (the process pool's workers) the listening socket, so
// a restart failed with "Address already in use" while an orphan went on serving.
class ForkingModelTest : public ModelTest {
 protected:
  // Two workers for a fixed pool; one request inside a 3 s delay and six idle connections held
  // open, so that a first SIGINT starts a graceful shutdown that is still waiting when the
  // second arrives. Returns once every connection is in a child's hands or the accept queue,
  // and the children exist: a child per connection, a fixed pool's two, or a self-sizing
  // pool's seven busy workers and at least its two idle ones (--min-spare).
  std::vector<Fd> OccupyChildren(ServerProcess& server) {
    std::vector<Fd> clients;
    clients.push_back(Connect(server.port()));  // first, so a pool worker takes it at once
    SendRaw(clients.back().get(), Get("/page.html"));
    for (int i = 0; i < 6; ++i) clients.push_back(Connect(server.port()));
    const size_t children = GetParam().sizing ? 9 : GetParam().pool ? 2 : 7;
    EXPECT_TRUE(
        Eventually([&] { return LiveChildren(server.pid()).size() >= children; }, absl::Seconds(5)))
        << LiveChildren(server.pid()).size() << " children, expected " << children;
    return clients;
  }

  // Within a second of the parent's end no process of its group runs, and a new server can
  // listen on the same port and answer. (A sanitizer build gets longer: the kernel tears down
  // each killed child's terabytes of shadow mappings, seen past 1 s under TSan on 2 cores.)
  void ExpectNothingOutlivesTheParent(ServerProcess& server) {
    const pid_t group = server.pid();
    const absl::Duration within = kSanitized ? absl::Seconds(5) : absl::Seconds(1);
    EXPECT_TRUE(Eventually([&] { return LiveProcessGroup(group).empty(); }, within))
        << LiveProcessGroup(group).size() << " server processes outlived the parent";
    std::vector<std::string> args = {"-p", std::to_string(server.port()), "-f", site_.root()};
    if (GetParam().pool) args.insert(args.end(), {"--workers", "1"});
    ServerProcess restarted(GetParam().binary, args);
    ASSERT_EQ(restarted.port(), server.port()) << restarted.Stderr();
    auto r = Fetch(restarted.port(), Get("/index.html"));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }
};

TEST_P(ForkingModelTest, SecondSigintTakesEveryChildWithTheParent) {
  ServerProcess server = Start({"--delay=3"}, /*workers=*/2);
  std::vector<Fd> clients = OccupyChildren(server);
  server.Signal(SIGINT);
  // Apart, so the kernel cannot merge the two into one pending signal: the first starts the
  // graceful shutdown, which waits for the delayed request; the second forces the exit.
  absl::SleepFor(absl::Milliseconds(300));
  server.Signal(SIGINT);
  auto status = server.WaitExit(absl::Seconds(2));
  ASSERT_TRUE(status.has_value()) << "the second SIGINT did not end the parent";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 130) << "wait status " << *status;
  ExpectNothingOutlivesTheParent(server);
}

TEST_P(ForkingModelTest, SigkillOfTheParentTakesEveryChildWithIt) {
  ServerProcess server = Start({"--delay=3"}, /*workers=*/2);
  std::vector<Fd> clients = OccupyChildren(server);
  server.Signal(SIGKILL);
  auto status = server.WaitExit(absl::Seconds(2));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << "wait status " << *status;
  ExpectNothingOutlivesTheParent(server);
}

INSTANTIATE_TEST_SUITE_P(Models, BlockingModelTest, ::testing::ValuesIn(BlockingConcurrentModels()),
                         ModelName);
INSTANTIATE_TEST_SUITE_P(
    Models, ForkingModelTest,
    ::testing::ValuesIn(ModelsWhere([](const ModelInfo& m) { return m.forks; })), ModelName);
INSTANTIATE_TEST_SUITE_P(Models, DelayTest, ::testing::ValuesIn(BlockingConcurrentModels()),
                         ModelName);
// The contrast: the iterative server takes the six delays one after another.
INSTANTIATE_TEST_SUITE_P(Contrast, DelayTest,
                         ::testing::ValuesIn(ModelsWhere([](const ModelInfo& m) {
                           return m.kind == ModelInfo::Kind::kIterative;
                         })),
                         ModelName);

class ModelBookkeepingTest : public ::testing::Test {
 protected:
  ServerProcess Start(const std::string& binary, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-f", site_.root()};
    args.insert(args.end(), extra.begin(), extra.end());
    return ServerProcess(binary, args);
  }
  PageSite site_;
};

TEST_F(ModelBookkeepingTest, ProcessServerLeavesNoZombiesAfter200Connections) {
  ServerProcess server = Start("process_server");
  for (int i = 0; i < 200; ++i) {
    auto r = Fetch(server.port(), Get("/index.html"));
    ASSERT_TRUE(r.has_value()) << "request " << i;
    ASSERT_EQ(r->status, 200);
  }
  // Every child has answered and closed; the server is idle now, blocked in poll().
  EXPECT_TRUE(Eventually(
      [&] { return ZombieChildren(server.pid()) == 0 && ChildPids(server.pid()).empty(); },
      absl::Seconds(2)))
      << ZombieChildren(server.pid()) << " zombies, " << ChildPids(server.pid()).size()
      << " children";
}

TEST_F(ModelBookkeepingTest, ThreadServerThreadCountReturnsToBaseline) {
  ServerProcess server = Start("thread_server");
  std::vector<Fd> clients;
  for (int i = 0; i < 20; ++i) {  // 20 keep-alive connections, each answered, left open
    clients.push_back(Connect(server.port()));
    SendRaw(clients.back().get(), Get("/index.html", /*close=*/false));
    ASSERT_TRUE(ReadResponse(clients.back().get()).has_value());
  }
  const int with_clients = ThreadCount(server.pid());
  EXPECT_GT(with_clients, 20) << "a thread per open connection, besides the acceptor";
  const int baseline = with_clients - 20;  // the same server without these connections
  clients.clear();  // the clients leave; their threads end and must not linger
  EXPECT_TRUE(Eventually([&] { return ThreadCount(server.pid()) <= baseline; }, absl::Seconds(2)))
      << ThreadCount(server.pid()) << " threads, baseline " << baseline;
}

// A thread that has ended but was never joined is gone from /proc/PID/task, yet keeps its stack
// mapped (the stack and its guard page). Joined stacks are reused, so with prompt joins the
// number of mappings stays flat however many connections come and go.
TEST_F(ModelBookkeepingTest, ThreadServerJoinsFinishedThreadsAsItRuns) {
  ServerProcess server = Start("thread_server");
  auto mappings = [&] {
    std::string maps = ReadFile("/proc/" + std::to_string(server.pid()) + "/maps");
    return static_cast<int>(std::count(maps.begin(), maps.end(), '\n'));
  };
  // Warm-up: allocator arenas, the C library's stack cache, a sanitizer runtime's thread records.
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(Fetch(server.port(), Get("/index.html")).has_value());
  }
  const int before = mappings();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(Fetch(server.port(), Get("/index.html")).has_value());
  EXPECT_TRUE(Eventually([&] { return mappings() < before + 20; }, absl::Seconds(2)))
      << mappings() - before << " new mappings after 40 connections: are finished threads joined?";
}

TEST_F(ModelBookkeepingTest, ThreadPoolHasWorkersPlusTheAcceptorAndNoMore) {
  ServerProcess server = Start("thread_pool_server", {"--workers", "3"});
  // The workers start before the acceptor (the poller): once a request is answered, all threads
  // exist.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Fetch(server.port(), Get("/index.html")).has_value());
  const int expected = 3 + 1 + RuntimeThreads(server.pid());
  EXPECT_EQ(ThreadCount(server.pid()), expected);
  std::vector<Fd> clients;
  for (int i = 0; i < 10; ++i) {  // more open keep-alive connections than workers
    clients.push_back(Connect(server.port()));
    SendRaw(clients.back().get(), Get("/index.html", /*close=*/false));
    ASSERT_TRUE(ReadResponse(clients.back().get()).has_value());
  }
  EXPECT_EQ(ThreadCount(server.pid()), expected) << "connections must not add threads";
}

TEST_F(ModelBookkeepingTest, ThreadPoolAnswersMoreClientsThanWorkers) {
  ServerProcess server = Start("thread_pool_server", {"--workers", "2", "--delay=0.5"});
  const absl::Time start = absl::Now();
  for (const ConcurrentFetch& fetch : FetchConcurrently(server.port(), 8)) {
    ASSERT_TRUE(fetch.response.has_value()) << "a client beyond the pool's size was dropped";
    EXPECT_EQ(fetch.response->status, 200);
  }
  // Two at a time: four rounds of 0.5 s. Less would mean more than two workers.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(1900));
}

}  // namespace
}  // namespace hs::testing
