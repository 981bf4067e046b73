// Clients that misbehave, against every model: slowloris headers, clients that vanish mid-request
// or mid-response, clients that never read, malformed and oversized requests, random bytes, a
// storm of empty connections, and a server started with too few descriptors. Whatever they do,
// the server must keep serving everyone else (or, where a model's design cannot, recover at once
// when they leave), release every descriptor and process they cost, and still shut down cleanly.
// Plus one process-pool test: a worker killed under load, and how long the pool is short of it.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
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

constexpr size_t kBigSize = 5 * 1024 * 1024;    // read partly, then abandoned
constexpr size_t kHugeSize = 20 * 1024 * 1024;  // far more than the socket buffers hold

// Every registered model (common/models.h), with what these tests need to know of it.
struct Model {
  std::string binary;
  // A few slow clients can hold every worker (one connection at a time, or a fixed pool): the
  // documented weakness of single_server. (The thread pool's poller waits on them instead of a
  // worker; the process pool forks a worker for each, up to --max-workers.)
  bool starves;
  // Options for a pool small enough that 64 slow clients surely hold it all (a self-sizing pool
  // starts that small, and must grow)...
  std::vector<std::string> small_pool;
  // ...and for one with room beside two stuck clients.
  std::vector<std::string> roomy_pool;
};

std::vector<Model> AllModels() {
  std::vector<Model> models;
  for (const ModelInfo& m : Models()) {
    const bool pool = m.kind == ModelInfo::Kind::kPool;
    models.push_back(
        {m.binary, m.slow_clients_hold_workers,
         pool ? std::vector<std::string>{"--workers", "2"} : std::vector<std::string>{},
         pool ? std::vector<std::string>{"--workers", "4"} : std::vector<std::string>{}});
  }
  return models;
}

std::string ModelName(const ::testing::TestParamInfo<Model>& info) { return info.param.binary; }

// ---------------------------------------------------------------------------------------------
// Helpers

// What each descriptor of the server (and its children) is, for failure messages.
std::string DescribeFds(pid_t server) {
  std::string out;
  std::vector<pid_t> pids = ChildPids(server);
  pids.insert(pids.begin(), server);
  for (pid_t pid : pids) {
    out += "\n  pid " + std::to_string(pid) + ":";
    std::error_code ec;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); ++it) {
      out += " " + it->path().filename().string() + "->" +
             std::filesystem::read_symlink(it->path(), ec).string();
    }
  }
  return out;
}

// Descriptors held by the server and its child processes together.
int TreeFds(pid_t pid) {
  int count = OpenFds(pid);
  for (pid_t child : ChildPids(pid)) count += OpenFds(child);
  return count;
}

// CPU time (user + system, in clock ticks) used by the server and its children, including
// children that have exited and been reaped meanwhile.
int64_t TreeCpuTicks(pid_t pid) {
  auto ticks = [](pid_t p, bool with_reaped) {
    std::vector<std::string> f = StatFields(p);  // f[11] = utime: field 14 of the whole line
    int64_t sum = 0;
    for (size_t i = 11; i < (with_reaped ? 15u : 13u) && i < f.size(); ++i) {
      int64_t v = 0;
      if (absl::SimpleAtoi(f[i], &v)) sum += v;
    }
    return sum;
  };
  int64_t total = ticks(pid, /*with_reaped=*/true);
  for (pid_t child : ChildPids(pid)) total += ticks(child, false);
  return total;
}

// Share of one core the server used over `window`.
double CpuShare(pid_t pid, absl::Duration window) {
  const int64_t before = TreeCpuTicks(pid);
  const absl::Time start = absl::Now();
  absl::SleepFor(window);
  const int64_t used = TreeCpuTicks(pid) - before;
  return static_cast<double>(used) / static_cast<double>(::sysconf(_SC_CLK_TCK)) /
         absl::ToDoubleSeconds(absl::Now() - start);
}

// A document root with known bytes; the big files only where a test asks for them.
// PageSite plus the big files some tests ask for.
class Site : public PageSite {
 public:
  // big.bin: kBigSize pseudo-random bytes (so a misplaced chunk cannot go unnoticed).
  std::string AddBig() {
    std::string big = PseudoRandomBytes(kBigSize);
    Write("big.bin", big);
    return big;
  }
  void AddHuge() { Write("huge.bin", std::string(kHugeSize, 'h')); }
};

class BadClientTest : public ::testing::TestWithParam<Model> {
 protected:
  ServerProcess Start(const std::vector<std::string>& extra = {},
                      std::optional<rlimit> nofile = std::nullopt) {
    std::vector<std::string> args = {"-f", site_.root()};
    // A self-sizing pool grows with a test's clients; with --max-spare 2 it shrinks back to its
    // start size (--workers) once they are gone, so "back where it started" holds for it too.
    if (FindModel(GetParam().binary)->accepts_pool_sizing) {
      args.insert(args.end(), {"--max-spare", "2"});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return ServerProcess(GetParam().binary, args, nofile);
  }

  // The server's descriptors (children included) once it is up, has answered a request and is
  // idle again. The first request comes first because some models create things lazily (the
  // async loop's epoll exists only after "listening on port N"); `workers` is how many children
  // an idle server keeps (a process pool's workers).
  int IdleFds(ServerProcess& server, size_t workers) {
    Fd fd = ConnectQuietly(server.port());
    EXPECT_TRUE(fd.valid() && SendAll(fd.get(), Get("/page.html")).ok());
    auto r = ReadResponse(fd.get());
    EXPECT_TRUE(r.has_value() && r->status == 200) << "the server did not answer at all";
    // The EOF proves the server has closed the connection (and, before it, the file).
    EXPECT_TRUE(PeerClosed(fd.get()));
    EXPECT_TRUE(
        Eventually([&] { return LiveChildren(server.pid()).size() == workers; }, absl::Seconds(3)))
        << LiveChildren(server.pid()).size() << " children, want " << workers;
    // A forked child that has closed the connection still exits a moment later: wait until the
    // count has held for 100 ms.
    int fds = TreeFds(server.pid());
    int unchanged = 0;
    Eventually(
        [&] {
          const int now = TreeFds(server.pid());
          unchanged = now == fds ? unchanged + 1 : 0;
          fds = now;
          return unchanged >= 10;
        },
        absl::Seconds(2));
    return fds;
  }

  size_t WorkersOf(const std::vector<std::string>& args) const {
    if (GetParam().binary != "process_pool_server") return 0;
    auto it = std::find(args.begin(), args.end(), "--workers");
    size_t n = 0;
    if (it != args.end() && it + 1 != args.end() && absl::SimpleAtoi(*(it + 1), &n)) return n;
    return std::max(1u, std::thread::hardware_concurrency());
  }

  // The server is back where it started: the same descriptors, no zombie child.
  void ExpectResourcesReleased(ServerProcess& server, int idle_fds, absl::Duration within) {
    EXPECT_TRUE(Eventually(
        [&] { return TreeFds(server.pid()) == idle_fds && ZombieChildren(server.pid()) == 0; },
        within))
        << TreeFds(server.pid()) << " descriptors (" << idle_fds << " when idle), "
        << ZombieChildren(server.pid()) << " zombies" << DescribeFds(server.pid());
  }

  void ExpectPageServed(int port) {
    auto r = TryFetch(port, Get("/page.html"));
    ASSERT_TRUE(r.has_value()) << "no answer";
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body == kPage) << "wrong body, " << r->body.size() << " bytes";
  }

  Site site_;
};

// ---------------------------------------------------------------------------------------------
// Slowloris: 64 connections that send half their headers and then nothing.

TEST_P(BadClientTest, SlowlorisHoldsOnlyWhatTheModelCannotShare) {
  const Model& model = GetParam();
  ServerProcess server = Start(model.small_pool);
  ASSERT_GT(server.port(), 0);
  const int idle_fds = IdleFds(server, WorkersOf(model.small_pool));
  std::vector<Fd> slow;
  for (int i = 0; i < 64; ++i) {
    slow.push_back(ConnectQuietly(server.port()));
    ASSERT_TRUE(slow.back().valid());
    SendRaw(slow.back().get(), "GET / HTTP/1.1\r\nHost: x\r\n");
  }
  if (!model.starves) {
    // Every slow client has its thread, process or coroutine (a descriptor each, at least)...
    ASSERT_TRUE(
        Eventually([&] { return TreeFds(server.pid()) >= idle_fds + 64; }, absl::Seconds(5)))
        << "the server took only " << TreeFds(server.pid()) - idle_fds << " of 64";
    // ...and a new client is answered at once all the same.
    const absl::Time asked = absl::Now();
    ExpectPageServed(server.port());
    EXPECT_LT(absl::Now() - asked, absl::Seconds(1));
  } else {
    // The new client queues behind the slow ones (the accept queue is FIFO)...
    Fd waiting = ConnectQuietly(server.port());
    ASSERT_TRUE(waiting.valid());
    SendRaw(waiting.get(), Get("/page.html"));
    EXPECT_FALSE(Readable(waiting.get(), absl::Milliseconds(300)))
        << "answered while 64 slow clients should hold every worker: the test proves nothing";
    // ...and is answered at once when they go away.
    slow.clear();
    const absl::Time left = absl::Now();
    auto r = ReadResponse(waiting.get());
    ASSERT_TRUE(r.has_value()) << "the waiting client was dropped";
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body == kPage);
    EXPECT_LT(absl::Now() - left, absl::Seconds(1)) << "slow to recover";
  }
  slow.clear();
  const absl::Time asked = absl::Now();
  ExpectPageServed(server.port());
  EXPECT_LT(absl::Now() - asked, absl::Seconds(1));
  ExpectResourcesReleased(server, idle_fds, absl::Seconds(3));
}

// ---------------------------------------------------------------------------------------------
// Clients that vanish in the middle of a request or of a 5 MB response.

TEST_P(BadClientTest, ClientsVanishingMidRequestOrMidResponseLeaveNothingBehind) {
  const std::string big = site_.AddBig();
  ServerProcess server = Start();
  ASSERT_GT(server.port(), 0);
  const int idle_fds = IdleFds(server, WorkersOf({}));
  // Many more of the first kind: their request and their FIN arrive close together, and a
  // server that takes a short read for "nothing more to come" misses the EOF now and then.
  for (int i = 0; i < 40; ++i) {
    Fd fd = ConnectQuietly(server.port(), /*receive_buffer=*/4096);
    ASSERT_TRUE(fd.valid());
    if (i % 5 != 0) {
      SendRaw(fd.get(), "GET /big.bin HTTP/1.1\r\nHo");  // gone in the middle of the request
    } else {
      SendRaw(fd.get(), Get("/big.bin", /*close=*/false));
      std::string some(8 * 1024, '\0');  // a few KB of the 5 MB, then gone (unread data: RST)
      ASSERT_GT(::recv(fd.get(), some.data(), some.size(), 0), 0);
    }
  }
  auto r = TryFetch(server.port(), Get("/big.bin"));
  ASSERT_TRUE(r.has_value()) << "the server stopped serving";
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(r->body.size(), kBigSize);
  EXPECT_TRUE(r->body == big) << "the 5 MB body differs";
  ExpectResourcesReleased(server, idle_fds, absl::Seconds(3));
}

// ---------------------------------------------------------------------------------------------
// Clients that ask for 20 MB and never read: dropped after the send timeout (10 s).

TEST_P(BadClientTest, ClientsThatNeverReadAreDroppedAfterTheSendTimeout) {
  const Model& model = GetParam();
  site_.AddHuge();
  ServerProcess server = Start(model.roomy_pool);
  ASSERT_GT(server.port(), 0);
  const int idle_fds = IdleFds(server, WorkersOf(model.roomy_pool));
  // single_server has no spare worker: a second stuck client would wait for the first.
  const bool serial = FindModel(model.binary)->kind == ModelInfo::Kind::kIterative;
  std::vector<Fd> stuck;
  for (int i = 0; i < (serial ? 1 : 2); ++i) {
    stuck.push_back(ConnectQuietly(server.port(), /*receive_buffer=*/4096));
    ASSERT_TRUE(stuck.back().valid());
    SendRaw(stuck.back().get(), Get("/huge.bin"));
  }
  const absl::Time start = absl::Now();
  for (Fd& fd : stuck) {  // the response has begun: the server is sending it, and is stuck
    ASSERT_TRUE(Eventually([&] { return Unread(fd.get()) > 0; }, absl::Seconds(3)));
  }
  if (!serial) {
    for (int i = 0; i < 3; ++i) {
      const absl::Time asked = absl::Now();
      ExpectPageServed(server.port());
      EXPECT_LT(absl::Now() - asked, absl::Seconds(1));
    }
  }
  // Waiting on a stuck client is waiting, not work.
  EXPECT_LT(CpuShare(server.pid(), absl::Seconds(1)), 0.5) << "the server spins";
  // Dropped after kSendTimeout without progress: the server lets go of its descriptors (and a
  // per-connection process exits)... Slack for scheduling: four shards at once on 2 cores, more
  // of it in a sanitizer build (where the drop was seen 12.6 s after the start).
  std::vector<int> stuck_fds;
  for (Fd& fd : stuck) stuck_fds.push_back(fd.get());
  const StallDrop drop = WaitForStallDrop(stuck_fds, start, absl::Seconds(kSanitized ? 5 : 3),
                                          [&] { return TreeFds(server.pid()) == idle_fds; });
  const absl::Duration dropped_after = absl::Now() - start;
  EXPECT_TRUE(drop.dropped) << "still holding the stuck clients " << dropped_after
                            << " after the start, " << absl::Now() - drop.last_progress
                            << " after their last progress: " << TreeFds(server.pid())
                            << " descriptors (" << idle_fds << " when idle)"
                            << DescribeFds(server.pid());
  EXPECT_GE(dropped_after, absl::Seconds(9));
  // ...and the client, reading at last, finds the response cut short.
  for (Fd& fd : stuck) EXPECT_LT(ReadToEnd(fd.get(), absl::Seconds(3)), kHugeSize);
  ExpectPageServed(server.port());
  server.Signal(SIGINT);
  ExpectExitZero(server, absl::Seconds(3));
}

// ---------------------------------------------------------------------------------------------
// Malformed and oversized requests: the exact status, then the server goes on.

struct BadRequest {
  std::string what;
  std::string bytes;
  int status;
  // The parser rejects the request, and the connection closes (nothing after it can be framed).
  // A well-formed request the file responder refuses is an ordinary answer: keep-alive applies.
  bool parser_error = true;
};

std::vector<BadRequest> BadRequests() {
  std::string hundred_and_one_headers = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 101; ++i) hundred_and_one_headers += "X-H" + std::to_string(i) + ": v\r\n";
  const std::string nul(1, '\0');
  return {
      {"double space in the request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"request line without a version", "GET /\r\nHost: x\r\n\r\n", 400},
      {"lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400},
      {"header without a colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", 400},
      {"space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
      {"bare CR", "GET / HTTP/1.1\rHost: x\r\n\r\n", 400},
      {"9 KB header", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n",
       431},
      {"101 headers", hundred_and_one_headers + "\r\n", 431},
      {"9 KB target", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"Content-Length not a number", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n",
       400},
      {"negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
      {"conflicting Content-Lengths",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400},
      {"Content-Length beyond 64 bits",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"Content-Length 10^12",
       "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n", 413},
      {"chunked body",
       "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       501},
      {"NUL in the target", "GET /page" + nul + ".html HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"NUL in a header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a" + nul + "b\r\n\r\n", 400},
      {"NUL before the method", nul + "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"%00 in the target", "GET /page.html%00.png HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
      // RFC 9112 3.2 (the page says why; http_semantics_test.cc checks it).
      {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400},
      {"HTTP/3.0", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505},
      {"HTTP/1.9", "GET / HTTP/1.9\r\nHost: x\r\n\r\n", 505},
      {"absolute-form traversal",
       "GET http://localhost/../../../../etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n", 403,
       false},
      {"absolute-form encoded traversal",
       "GET http://localhost/%2e%2e/%2E%2E/etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n", 403,
       false},
  };
}

TEST_P(BadClientTest, MalformedAndOversizedRequestsGetTheirExactStatus) {
  ServerProcess server = Start();
  ASSERT_GT(server.port(), 0);
  for (const BadRequest& bad : BadRequests()) {
    Fd fd = ConnectQuietly(server.port());
    ASSERT_TRUE(fd.valid()) << bad.what;
    SendRaw(fd.get(), bad.bytes);
    auto r = ReadResponse(fd.get());
    ASSERT_TRUE(r.has_value()) << bad.what << ": no response";
    EXPECT_EQ(r->status, bad.status) << bad.what << ": " << r->status_line;
    EXPECT_EQ(r->status_line.substr(0, 9), "HTTP/1.1 ") << bad.what;
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << bad.what;
    if (bad.parser_error) {
      EXPECT_EQ(r->Header("connection"), "close") << bad.what;
      EXPECT_TRUE(PeerClosed(fd.get())) << bad.what << ": the connection stayed open";
    }
  }
  ExpectPageServed(server.port());
}

// ---------------------------------------------------------------------------------------------
// Random bytes: 200 connections, 1-4 KB each, from a fixed seed.

TEST_P(BadClientTest, RandomBytesGetAnErrorStatusOrNothingAndNeverACrash) {
  constexpr int kConnections = 200;
  constexpr int kThreads = 8;
  ServerProcess server = Start();
  ASSERT_GT(server.port(), 0);
  std::mutex mu;
  std::vector<std::string> wrong;  // responses that are not a 4xx/5xx status line
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kConnections; i += kThreads) {
        std::mt19937 rng(20240601u + static_cast<uint32_t>(i));
        std::string bytes(1024 + rng() % 3073, '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        Fd fd = ConnectQuietly(server.port());
        if (!fd) continue;
        (void)SendAll(fd.get(), bytes);  // the server may already have answered and closed
        ::shutdown(fd.get(), SHUT_WR);
        std::string received;
        char chunk[4096];
        ssize_t n;
        while ((n = ::recv(fd.get(), chunk, sizeof chunk, 0)) > 0) {
          received.append(chunk, static_cast<size_t>(n));
        }
        if (received.empty()) continue;
        const bool error_status =
            received.size() >= 12 &&
            (received.starts_with("HTTP/1.1 ") || received.starts_with("HTTP/1.0 ")) &&
            (received[9] == '4' || received[9] == '5');
        ++answered;
        if (!error_status) {
          std::lock_guard<std::mutex> lock(mu);
          wrong.push_back("connection " + std::to_string(i) + ": " + received.substr(0, 40));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& w : wrong) ADD_FAILURE() << w;
  EXPECT_GE(answered, kConnections / 2) << "most garbage should at least get its 400";
  ASSERT_TRUE(StillRunning(server)) << "the server died";
  ExpectPageServed(server.port());
  EXPECT_TRUE(Eventually([&] { return ZombieChildren(server.pid()) == 0; }, absl::Seconds(3)));
}

// ---------------------------------------------------------------------------------------------
// 10,000 connections (2,000 under the sanitizers) opened and closed without a byte. It loads the
// whole machine and overflows the listen queue on purpose (a SYN retransmission costs a client
// 1 s), so its suite's name ends in "AloneTest": tests/run_sharded.sh runs it after the shards,
// by itself, where it cannot slow another test's timed check.

class FloodAloneTest : public BadClientTest {};

TEST_P(FloodAloneTest, TenThousandEmptyConnectionsLeaveNothingBehind) {
  // Fewer under the sanitizers, where a fork-per-connection server is several times slower.
  constexpr int kCycles = kSanitized ? 2000 : 10000;
  constexpr int kThreads = 4;  // on 2 cores, enough to keep the fork-per-connection model busy
  const Model& model = GetParam();
  ServerProcess server = Start();
  ASSERT_GT(server.port(), 0);
  const int idle_fds = IdleFds(server, WorkersOf({}));
  std::atomic<int> refused{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCycles / kThreads; ++i) {
        if (!ConnectQuietly(server.port())) ++refused;  // closed again at once
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const absl::Duration took = absl::Now() - start;
  std::cout << "[          ] " << model.binary << ": " << kCycles << " connect/close cycles in "
            << took << "\n";
  EXPECT_EQ(refused, 0);
  ASSERT_TRUE(StillRunning(server)) << "the server died";
  ExpectPageServed(server.port());
  ExpectResourcesReleased(server, idle_fds, absl::Seconds(5));
}

// ---------------------------------------------------------------------------------------------
// Started with 64 descriptors (`ulimit -n 64`), then 100 idle connections.

TEST_P(BadClientTest, RunningOutOfDescriptorsNeitherSpinsNorStopsTheServer) {
  const Model& model = GetParam();
  // The hard limit too: async_server raises its soft limit to the hard one. A thread pool gets
  // enough workers (and queue) to run out; every other model tries to take all 100 anyway.
  std::vector<std::string> args;
  if (model.binary == "thread_pool_server") args = {"--workers", "128"};
  ServerProcess server = Start(args, rlimit{64, 64});
  ASSERT_GT(server.port(), 0);
  const int idle_fds = IdleFds(server, WorkersOf(args));
  std::vector<Fd> idle;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(ConnectQuietly(server.port()));
    ASSERT_TRUE(idle.back().valid()) << "connection " << i;
  }
  // Wait until the server has taken all it can: its descriptor count stops changing.
  int fds = TreeFds(server.pid());
  int stable_polls = 0;
  Eventually(
      [&] {
        const int now = TreeFds(server.pid());
        stable_polls = now == fds ? stable_polls + 1 : 0;
        fds = now;
        return stable_polls >= 20;  // 200 ms
      },
      absl::Seconds(5));
  ASSERT_TRUE(StillRunning(server)) << "the server died";
  // A server spinning on EMFILE keeps a core busy in every second; one still finishing its last
  // forks (slow under TSan on 2 busy cores: CI once measured 0.74 in the first second) settles.
  double lowest = 1e9;
  for (int second = 0; second < 4 && lowest >= 0.5; ++second) {
    lowest = std::min(lowest, CpuShare(server.pid(), absl::Seconds(1)));
  }
  EXPECT_LT(lowest, 0.5) << "the server spins on EMFILE (lowest share of a core in 4 seconds)";
  ASSERT_TRUE(StillRunning(server)) << "the server died";
  idle.clear();
  const absl::Time left = absl::Now();
  ExpectPageServed(server.port());
  EXPECT_LT(absl::Now() - left, absl::Seconds(2)) << "slow to recover";
  ExpectResourcesReleased(server, idle_fds, absl::Seconds(3));
}

INSTANTIATE_TEST_SUITE_P(AllModels, BadClientTest, ::testing::ValuesIn(AllModels()), ModelName);
INSTANTIATE_TEST_SUITE_P(AllModels, FloodAloneTest, ::testing::ValuesIn(AllModels()), ModelName);

// ---------------------------------------------------------------------------------------------
// Process pool: a worker killed (-9) under load. How long until the pool is whole again, and how
// many requests fail meanwhile (at most the one the killed worker was serving).

TEST(BadClientProcessPoolTest, KilledWorkerIsReplacedWithinASecondLosingOneRequestAtMost) {
  Site site;
  ServerProcess server("process_pool_server", {"-f", site.root(), "--workers", "2"});
  ASSERT_GT(server.port(), 0);
  std::vector<pid_t> workers;
  ASSERT_TRUE(Eventually(
      [&] {
        workers = LiveChildren(server.pid());
        return workers.size() == 2;
      },
      absl::Seconds(3)));

  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  std::thread client([&] {
    while (!stop) {
      auto r = TryFetch(server.port(), Get("/page.html"));
      ++(r.has_value() && r->status == 200 && r->body == kPage ? answered : failed);
    }
  });
  ASSERT_TRUE(Eventually([&] { return answered >= 50; }, absl::Seconds(5)));

  // The pool may have grown a little for the load (--min-spare idle beside the busy one): whole
  // again means as many workers as just before the kill, the victim not among them.
  workers = LiveChildren(server.pid());
  const pid_t victim = workers[0];
  const int failed_before = failed;
  const absl::Time killed = absl::Now();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  absl::Time restored = absl::InfiniteFuture();
  while (absl::Now() - killed < absl::Seconds(3)) {
    std::vector<pid_t> now = LiveChildren(server.pid());
    if (now.size() >= workers.size() && std::find(now.begin(), now.end(), victim) == now.end()) {
      restored = absl::Now();
      break;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  const int answered_at_restore = answered;
  const bool served_on =
      Eventually([&] { return answered >= answered_at_restore + 50; }, absl::Seconds(5));
  stop = true;
  client.join();
  const absl::Duration gap = restored - killed;
  const int lost = failed - failed_before;
  std::cout << "[          ] process_pool_server: killed worker replaced after " << gap << "; "
            << lost << " failed request(s) around the kill; " << answered << " answered\n";
  EXPECT_LT(gap, absl::Seconds(1)) << "the pool was not whole again within a second";
  EXPECT_TRUE(served_on) << "service did not continue after the kill";
  EXPECT_LE(lost, 1) << "only the request the killed worker was serving may fail";
}

}  // namespace
}  // namespace hs::testing
