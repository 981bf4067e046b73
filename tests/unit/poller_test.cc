// thread_pool_server's two halves in this process, over real loopback sockets: a worker's turn
// (ServeTurn: run the conversation until it must wait for the client, then give it back) and the
// poller that waits on every connection between turns (Poller::Run). Timings are coarse: what
// is checked is who waits where, not how fast.
#include "pool_server/poller.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "common/cli.h"
#include "common/document_root.h"
#include "common/shutdown.h"
#include "common/socket.h"
#include "gtest/gtest.h"
#include "pool_server/pooled_connection.h"
#include "pool_server/work_queue.h"

namespace hs {
namespace {

namespace fs = std::filesystem;

const std::string kPage = "<p>page</p>";
const std::string kKeepAliveGet = "GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n";

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A fresh shutdown state (not requested) for every test; the child's handlers, so that no
    // signal can end the test runner. Restored in TearDown.
    ::sigaction(SIGINT, nullptr, &old_int_);
    ::sigaction(SIGTERM, nullptr, &old_term_);
    InstallChildShutdownHandlers();
    char pattern[] = "/tmp/poller_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ / "page.html") << kPage;
    absl::StatusOr<DocumentRoot> root = DocumentRoot::Open(dir_.string());
    ASSERT_TRUE(root.ok());
    root_.emplace(*std::move(root));
    absl::StatusOr<Fd> listener = ListenTcp(0);
    ASSERT_TRUE(listener.ok());
    listener_ = *std::move(listener);
  }
  void TearDown() override {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    fs::remove_all(dir_);
  }

  // A blocking client socket connected to the listener (5 s receive timeout).
  Fd ConnectClient() {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(LocalPort(listener_.get())));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
  }

  // A client and the server's end of its connection, as the poller makes it.
  std::pair<Fd, ConnectionPtr> Connection(absl::Time now = absl::Now()) {
    Fd client = ConnectClient();
    absl::StatusOr<Fd> server = AcceptClient(listener_.get(), SOCK_NONBLOCK);
    EXPECT_TRUE(server.ok());
    return {std::move(client), std::make_unique<PooledConnection>(*std::move(server), *root_,
                                                                  ConversationPolicy{}, now)};
  }

  static void Send(int fd, const std::string& bytes) { ASSERT_TRUE(SendAll(fd, bytes).ok()); }

  // Reads `n` responses to GET /page.html: everything up to and including the last body.
  static std::string ReadPageResponses(int fd, int n = 1) {
    std::string got;
    char chunk[4096];
    auto bodies = [&] {
      int count = 0;
      for (size_t at = got.find(kPage); at != std::string::npos; at = got.find(kPage, at + 1)) {
        ++count;
      }
      return count;
    };
    while (bodies() < n || !got.ends_with(kPage)) {
      const ssize_t received = ::recv(fd, chunk, sizeof chunk, 0);
      if (received <= 0) break;
      got.append(chunk, static_cast<size_t>(received));
    }
    return got;
  }

  // The peer has closed: recv() says EOF (or a reset) rather than timing out.
  static bool SeesEof(int fd) {
    char byte;
    const ssize_t n = ::recv(fd, &byte, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  fs::path dir_;
  std::optional<DocumentRoot> root_;
  Fd listener_;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// ---------------------------------------------------------------------------------------------
// A worker's turn

TEST_F(PoolTest, NothingToReadEndsTheTurnAtOnceWithTheIdleDeadline) {
  const absl::Time before = absl::Now();
  auto [client, connection] = Connection();
  connection = ServeTurn(std::move(connection));
  ASSERT_NE(connection, nullptr) << "closed instead of waiting";
  EXPECT_LT(absl::Now() - before, absl::Milliseconds(500)) << "the worker waited for the client";
  EXPECT_GE(connection->deadline, before + kIdleTimeout);
  EXPECT_LE(connection->deadline, absl::Now() + kIdleTimeout);
  EXPECT_TRUE(connection->wake_on_shutdown);
}

TEST_F(PoolTest, ARequestIsAnsweredAndTheConnectionComesBackForTheNext) {
  auto [client, connection] = Connection();
  Send(client.get(), kKeepAliveGet + kKeepAliveGet);  // two, pipelined: both answered in one turn
  connection = ServeTurn(std::move(connection));
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->conversation.answered(), 2);
  const std::string responses = ReadPageResponses(client.get(), 2);
  EXPECT_TRUE(responses.starts_with("HTTP/1.1 200 OK\r\n")) << responses;
  EXPECT_NE(responses.find(kPage + "HTTP/1.1 200 OK\r\n"), std::string::npos) << responses;
  EXPECT_TRUE(responses.ends_with(kPage)) << responses;
  EXPECT_TRUE(connection->wake_on_shutdown);
}

TEST_F(PoolTest, APartialRequestWaitsForItsRequestDeadlineNotForShutdown) {
  auto [client, connection] = Connection();
  Send(client.get(), "GET /page.html HTTP/1.1\r\n");
  const absl::Time before = absl::Now();
  connection = ServeTurn(std::move(connection));
  ASSERT_NE(connection, nullptr);
  EXPECT_GE(connection->deadline, before + kRequestTimeout);
  EXPECT_LE(connection->deadline, absl::Now() + kRequestTimeout);
  EXPECT_FALSE(connection->wake_on_shutdown) << "a request under way is answered at shutdown";
}

TEST_F(PoolTest, TheClientClosingEndsTheConversation) {
  auto [client, connection] = Connection();
  client.reset();
  EXPECT_EQ(ServeTurn(std::move(connection)), nullptr);
}

TEST_F(PoolTest, AConnectionWhoseDeadlinePassedIsClosedByItsTurn) {
  // Opened (and idle) longer ago than the idle timeout: the poller hands it over at its deadline.
  auto [client, connection] = Connection(absl::Now() - kIdleTimeout - absl::Seconds(1));
  EXPECT_EQ(ServeTurn(std::move(connection)), nullptr);
  EXPECT_TRUE(SeesEof(client.get()));
}

TEST_F(PoolTest, ShutdownClosesAnAnsweredIdleConnectionInItsNextTurn) {
  auto [client, connection] = Connection();
  Send(client.get(), kKeepAliveGet);
  connection = ServeTurn(std::move(connection));
  ASSERT_NE(connection, nullptr);
  EXPECT_TRUE(ReadPageResponses(client.get()).ends_with(kPage));
  RequestShutdown();
  EXPECT_EQ(ServeTurn(std::move(connection)), nullptr);
  EXPECT_TRUE(SeesEof(client.get()));
}

// ---------------------------------------------------------------------------------------------
// The poller and one worker

class PollerTest : public PoolTest {
 protected:
  void StartPool() {
    poller_.emplace(listener_, options_, *root_);
    worker_ = std::thread([this] {
      while (std::optional<ConnectionPtr> ready = queue_.Pop()) {
        poller_->GiveBack(ServeTurn(*std::move(ready)));
      }
    });
    runner_ = std::thread([this] {
      status_ = poller_->Run([this](ConnectionPtr ready) { queue_.Push(std::move(ready)); });
      returned_ = true;
    });
  }
  void StopPool() {
    RequestShutdown();
    if (runner_.joinable()) runner_.join();
    queue_.Close();
    if (worker_.joinable()) worker_.join();
  }
  void TearDown() override {
    StopPool();
    PoolTest::TearDown();
  }

  ServerOptions options_;
  WorkQueue<ConnectionPtr> queue_{1};
  std::optional<Poller> poller_;
  std::thread worker_;
  std::thread runner_;
  absl::Status status_;
  std::atomic<bool> returned_{false};
};

TEST_F(PollerTest, OneWorkerServesTwentyOpenKeepAliveConnectionsInTurn) {
  StartPool();
  std::vector<Fd> clients;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 20; ++i) {
      if (round == 0) clients.push_back(ConnectClient());
      Send(clients[i].get(), kKeepAliveGet);
      const std::string response = ReadPageResponses(clients[i].get());
      ASSERT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << "round " << round << ", " << i;
      EXPECT_NE(response.find("Connection: keep-alive\r\n"), std::string::npos) << response;
    }
  }
  StopPool();  // every connection is idle and answered: shutdown closes them all at once
  EXPECT_TRUE(status_.ok()) << status_;
  for (Fd& client : clients) EXPECT_TRUE(SeesEof(client.get()));
}

TEST_F(PollerTest, RunReturnsAfterShutdownOnlyOnceEveryConnectionHasClosed) {
  StartPool();
  Fd silent = ConnectClient();  // has not begun a request: it gets the shutdown grace
  absl::SleepFor(absl::Milliseconds(100));
  RequestShutdown();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(returned_) << "Run() returned while a connection was still open";
  silent.reset();
  const absl::Time left = absl::Now();
  runner_.join();
  EXPECT_LT(absl::Now() - left, kShutdownGrace / 2) << "Run() waited on after the last close";
  EXPECT_TRUE(status_.ok()) << status_;
  // The listener is closed: a new client is refused.
  EXPECT_FALSE(listener_.valid());
}

}  // namespace
}  // namespace hs
