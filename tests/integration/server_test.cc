// Integration tests run against every server binary: real processes, real sockets.
// Every model in the registry (common/models.h) runs every test here.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/models.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace hs::testing {
namespace {

// Every registered model (common/models.h): a new model is tested here as soon as it is
// registered.
using Model = ModelInfo;

// kShutdownGrace (common/shutdown.h) plus scheduling slack on a busy 2-core machine.
constexpr absl::Duration kShutdownGraceForTests = absl::Milliseconds(1600);

std::string ModelName(const ::testing::TestParamInfo<Model>& info) { return info.param.binary; }

// A document root with known bytes.
class Site {
 public:
  Site() {
    dir_.Write("index.html", "<!DOCTYPE html><title>home</title><p>index</p>\n");
    dir_.Write("page.html", std::string(1500, 'p'));
    dir_.Write("img/pic.png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, '\0'));
    dir_.Write("sub/index.html", "sub index\n");
    dir_.Write("big.bin", PseudoRandomBytes(5 * 1024 * 1024));
    secret_.Write("secret.txt", "TOP SECRET\n");
  }
  const std::string& root() const { return dir_.path(); }
  std::string secret_dir_name() const { return secret_.path().substr(5); }  // below /tmp/

 private:
  TempDir dir_;
  TempDir secret_;
};

class ServerTest : public ::testing::TestWithParam<Model> {
 protected:
  ServerProcess Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-f", site_.root()};
    args.insert(args.end(), extra.begin(), extra.end());
    return ServerProcess(GetParam().binary, args);
  }
  Site site_;
};

TEST_P(ServerTest, GetIndexReturnsExactBytesAndHeaders) {
  ServerProcess server = Start();
  auto r = Fetch(server.port(), Get("/"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r->body, ReadFile(site_.root() + "/index.html"));
  EXPECT_EQ(r->Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->Header("content-length"), std::to_string(r->body.size()));
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(absl::EndsWith(r->Header("date"), " GMT")) << r->Header("date");
  EXPECT_TRUE(absl::EndsWith(r->Header("last-modified"), " GMT"));
  EXPECT_FALSE(r->Header("server").empty());
}

TEST_P(ServerTest, HeadSendsHeadersWithoutBody) {
  ServerProcess server = Start();
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), "HEAD /page.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto r = ReadResponse(fd.get(), /*head_only=*/true);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), "1500");
  EXPECT_TRUE(PeerClosed(fd.get()));  // and not one body byte before the close
}

TEST_P(ServerTest, ImageHasItsContentType) {
  ServerProcess server = Start();
  auto r = Fetch(server.port(), Get("/img/pic.png"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "image/png");
  EXPECT_EQ(r->body, ReadFile(site_.root() + "/img/pic.png"));
}

TEST_P(ServerTest, MissingFileIs404WithHtmlBody) {
  ServerProcess server = Start();
  auto r = Fetch(server.port(), Get("/nope.html"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(absl::StrContains(r->body, "404")) << r->body;
  EXPECT_EQ(r->Header("content-type"), "text/html; charset=utf-8");
}

TEST_P(ServerTest, OtherMethodsAre405WithAllow) {
  ServerProcess server = Start();
  auto r = Fetch(server.port(), "DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Header("allow"), "GET, HEAD");
}

TEST_P(ServerTest, DirectoryWithoutSlashRedirects) {
  ServerProcess server = Start();
  auto r = Fetch(server.port(), Get("/sub"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(r->Header("location"), "/sub/");
  auto query = Fetch(server.port(), Get("/sub?x=1"));
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->status, 301);
  EXPECT_EQ(query->Header("location"), "/sub/?x=1");
  auto index = Fetch(server.port(), Get("/sub/"));
  ASSERT_TRUE(index.has_value());
  EXPECT_EQ(index->body, "sub index\n");
}

TEST_P(ServerTest, TraversalNeverLeavesTheRoot) {
  ServerProcess server = Start();
  const std::string secret = "/" + site_.secret_dir_name() + "/secret.txt";
  for (const std::string& path : std::vector<std::string>{
           "/.." + secret, "/%2e%2e" + secret, "/..%2f.." + secret, "/a/../../" + secret,
           "/%2E%2E/%2E%2E/etc/passwd", "/../../../../etc/passwd"}) {
    auto r = Fetch(server.port(), Get(path));
    ASSERT_TRUE(r.has_value()) << path;
    EXPECT_TRUE(r->status == 403 || r->status == 404 || r->status == 400)
        << path << " " << r->status;
    EXPECT_FALSE(absl::StrContains(r->body, "TOP SECRET")) << path;
    EXPECT_FALSE(absl::StrContains(r->body, "root:")) << path;
  }
  auto absolute = Fetch(
      server.port(), "GET http://localhost/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_TRUE(absolute.has_value());
  EXPECT_FALSE(absl::StrContains(absolute->body, "root:"));
}

TEST_P(ServerTest, MalformedRequestGets400AndServerKeepsServing) {
  ServerProcess server = Start();
  for (const std::string& bad :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00", 7) + "\r\n\r\n"}) {
    auto r = Fetch(server.port(), bad);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->Header("connection"), "close");
  }
  auto version = Fetch(server.port(), "GET / HTTP/2.0\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(version->status, 505);
  auto ok = Fetch(server.port(), Get("/page.html"));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
}

TEST_P(ServerTest, OversizedHeadersGet431) {
  ServerProcess server = Start();
  auto r = Fetch(server.port(),
                 "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431);
  auto uri =
      Fetch(server.port(), "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(uri.has_value());
  EXPECT_EQ(uri->status, 414);
}

TEST_P(ServerTest, FiveMegabyteFileArrivesByteForByte) {
  ServerProcess server = Start();
  auto r = Fetch(server.port(), Get("/big.bin"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "application/octet-stream");
  ASSERT_EQ(r->body.size(), 5u * 1024 * 1024);
  EXPECT_TRUE(r->body == ReadFile(site_.root() + "/big.bin"));
}

TEST_P(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  ServerProcess server = Start();
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), Get("/page.html", /*close=*/false));
  auto first = ReadResponse(fd.get());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  if (!GetParam().keep_alive) {
    EXPECT_EQ(first->Header("connection"), "close");
    EXPECT_TRUE(PeerClosed(fd.get()));
    return;
  }
  EXPECT_EQ(first->Header("connection"), "keep-alive");
  SendRaw(fd.get(), Get("/index.html", /*close=*/false));
  auto second = ReadResponse(fd.get());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->body, ReadFile(site_.root() + "/index.html"));
}

TEST_P(ServerTest, UnchangedFileIsNotModifiedAndTheConnectionStaysInStep) {
  ServerProcess server = Start();
  auto first = Fetch(server.port(), Get("/page.html"));
  ASSERT_TRUE(first.has_value());
  const std::string last_modified = first->Header("last-modified");
  ASSERT_FALSE(last_modified.empty());

  // A browser revalidating its cached copy echoes Last-Modified back.
  Fd fd = Connect(server.port());
  SendRaw(fd.get(),
          "GET /page.html HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: " + last_modified + "\r\n\r\n");
  auto r = ReadResponse(fd.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status_line, "HTTP/1.1 304 Not Modified");
  EXPECT_EQ(r->Header("last-modified"), last_modified);
  EXPECT_EQ(r->headers.count("content-type"), 0u);
  // No body byte may follow the head: the next thing on the connection is the close (single) or
  // the next answer, whole.
  if (!GetParam().keep_alive) {
    EXPECT_TRUE(PeerClosed(fd.get()));
  } else {
    SendRaw(fd.get(), Get("/page.html"));
    auto next = ReadResponse(fd.get());
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->status, 200);
    EXPECT_EQ(next->body, ReadFile(site_.root() + "/page.html"));
  }

  // A copy older than the file, a date we cannot read, or one in the future: the whole file.
  for (const std::string since :
       {"Thu, 01 Jan 1970 00:00:00 GMT", "last tuesday", "Fri, 01 Jan 2100 00:00:00 GMT"}) {
    auto full = Fetch(server.port(),
                      "GET /page.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      "If-Modified-Since: " +
                          since + "\r\n\r\n");
    ASSERT_TRUE(full.has_value());
    EXPECT_EQ(full->status, 200) << since;
    EXPECT_EQ(full->body, ReadFile(site_.root() + "/page.html")) << since;
  }
}

TEST_P(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  ServerProcess server = Start();
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), Get("/index.html", false) + Get("/sub/", false) + Get("/page.html", true));
  auto a = ReadResponse(fd.get());
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->body, ReadFile(site_.root() + "/index.html"));
  if (!GetParam().keep_alive) {  // one request per connection: the rest is dropped with it
    EXPECT_EQ(a->Header("connection"), "close");
    EXPECT_TRUE(PeerClosed(fd.get()));
    return;
  }
  auto b = ReadResponse(fd.get());
  auto c = ReadResponse(fd.get());
  ASSERT_TRUE(b && c);
  EXPECT_EQ(b->body, "sub index\n");
  EXPECT_EQ(c->body, std::string(1500, 'p'));
  EXPECT_EQ(c->Header("connection"), "close");
  EXPECT_TRUE(PeerClosed(fd.get()));
}

TEST_P(ServerTest, Http10ClosesUnlessKeepAlive) {
  ServerProcess server = Start();
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), "GET /index.html HTTP/1.0\r\n\r\n");
  auto r = ReadResponse(fd.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status_line, "HTTP/1.0 200 OK");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(PeerClosed(fd.get()));
}

TEST_P(ServerTest, SigintLetsTheDelayedRequestFinishAndExitsZero) {
  ServerProcess server = Start({"--delay=0.5"});
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), Get("/page.html"));
  absl::SleepFor(absl::Milliseconds(150));  // the request is now inside its delay
  server.Signal(SIGINT);
  auto r = ReadResponse(fd.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::string(1500, 'p'));
  auto status = server.WaitExit(absl::Seconds(10));
  ASSERT_TRUE(status.has_value()) << "server did not exit";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

TEST_P(ServerTest, SigintServesClientsWaitingInTheAcceptQueue) {
  ServerProcess server = Start({"--delay=0.3"});
  std::vector<Fd> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(Connect(server.port()));
    SendRaw(clients.back().get(), Get("/index.html"));
  }
  absl::SleepFor(absl::Milliseconds(100));
  server.Signal(SIGINT);
  for (Fd& fd : clients) {
    auto r = ReadResponse(fd.get());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }
  auto status = server.WaitExit(absl::Seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

TEST_P(ServerTest, IdleKeepAliveConnectionIsClosedAtShutdown) {
  ServerProcess server = Start();
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), Get("/index.html", false));
  auto r = ReadResponse(fd.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Header("connection"), GetParam().keep_alive ? "keep-alive" : "close");
  const absl::Time start = absl::Now();
  server.Signal(SIGINT);
  EXPECT_TRUE(PeerClosed(fd.get(), absl::Seconds(3)));
  auto status = server.WaitExit(absl::Seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3)) << "waited for the idle timeout instead";
}

TEST_P(ServerTest, SecondSigintExitsAtOnceNonZero) {
  ServerProcess server = Start({"--delay=5"});
  Fd fd = Connect(server.port());
  SendRaw(fd.get(), Get("/index.html"));
  absl::SleepFor(absl::Milliseconds(150));
  server.Signal(SIGINT);
  absl::SleepFor(absl::Milliseconds(100));
  server.Signal(SIGINT);
  auto status = server.WaitExit(absl::Seconds(2));
  ASSERT_TRUE(status.has_value()) << "second SIGINT did not stop the server";
  EXPECT_FALSE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
}

// Issue 11.1: silent clients at shutdown share one grace counted from the signal; they are not
// each given an idle timeout, one after another, by a few workers (19 s with 8 clients and 2
// process-pool workers before).
TEST_P(ServerTest, SilentClientsAtShutdownCostOneGraceNotAnIdleTimeoutEach) {
  const bool pool = GetParam().kind == ModelInfo::Kind::kPool;
  ServerProcess server =
      Start(pool ? std::vector<std::string>{"--workers", "2"} : std::vector<std::string>{});
  std::vector<Fd> silent;
  for (int i = 0; i < 8; ++i) silent.push_back(Connect(server.port()));
  // One client that has sent its request but waits in the accept queue (or for a worker)
  // until long after the grace: its bytes are in the socket, so it is answered.
  Fd asking = Connect(server.port());
  SendRaw(asking.get(), Get("/index.html"));
  absl::SleepFor(absl::Milliseconds(200));
  const absl::Time signalled = absl::Now();
  server.Signal(SIGINT);
  auto answer = ReadResponse(asking.get());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  for (Fd& fd : silent) EXPECT_TRUE(PeerClosed(fd.get(), absl::Seconds(3)));
  ExpectExitZero(server, absl::Seconds(3));
  EXPECT_LT(absl::Now() - signalled, kShutdownGraceForTests + absl::Seconds(1));
}

// Issue 11.3: a client arriving after the signal is refused at once or served at once -- never
// left in a queue nobody reads and then reset. (single_server, busy with its one client, serves
// it when that client's grace is over: one at a time is that model's own property.)
TEST_P(ServerTest, ClientArrivingAfterTheSignalIsRefusedOrServedNotLeftHanging) {
  ServerProcess server = Start();
  Fd silent = Connect(server.port());  // keeps one worker (or the only thread) busy
  absl::SleepFor(absl::Milliseconds(100));
  server.Signal(SIGINT);
  absl::SleepFor(absl::Milliseconds(300));
  const absl::Time asked = absl::Now();
  Fd late = ConnectQuietly(server.port());
  if (late.valid()) {  // the connect may still complete; then it must be answered, not reset
    SendRaw(late.get(), Get("/page.html"));
    auto r = ReadResponse(late.get());
    ASSERT_TRUE(r.has_value()) << "accepted after the signal, then dropped";
    EXPECT_EQ(r->status, 200);
  }
  const absl::Duration waited = absl::Now() - asked;
  const bool one_at_a_time = GetParam().kind == ModelInfo::Kind::kIterative;
  EXPECT_LT(waited, one_at_a_time ? kShutdownGraceForTests : absl::Milliseconds(300))
      << (late.valid() ? "served late" : "refused late");
  ExpectExitZero(server, absl::Seconds(3));
}

// Issue 11.4: an empty body never corks the head (it waited for the kernel's 200 ms timer).
TEST_P(ServerTest, EmptyFileAndEmptyErrorPageAnswerWithoutTheCorkDelay) {
  TempDir dir;
  dir.Write("index.html", "x");
  dir.Write("empty.txt", "");
  dir.Write("404.html", "");
  ServerProcess server(GetParam().binary, {"-f", dir.path()});
  Fd fd = Connect(server.port());
  for (const char* path : {"/empty.txt", "/missing", "/empty.txt"}) {
    const absl::Time asked = absl::Now();
    SendRaw(fd.get(), Get(path, /*close=*/false));
    auto r = ReadResponse(fd.get());
    ASSERT_TRUE(r.has_value()) << path;
    EXPECT_EQ(r->status, std::string(path) == "/missing" ? 404 : 200);
    EXPECT_EQ(r->Header("content-length"), "0");
    EXPECT_EQ(r->body, "");
    EXPECT_LT(absl::Now() - asked, absl::Milliseconds(150)) << path << " waited for the cork";
    if (!GetParam().keep_alive) fd = Connect(server.port());
  }
}

// Issue 11.6: Expect: 100-continue never waits for the client's own timeout (curl: 1 s).
TEST_P(ServerTest, ExpectContinueIsAnsweredAtOnce) {
  ServerProcess server = Start({"--delay=0.3"});
  {  // refused: the final status at once, before the body and without the -d delay
    Fd fd = Connect(server.port());
    const absl::Time asked = absl::Now();
    SendRaw(fd.get(),
            "POST /page.html HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n"
            "Expect: 100-continue\r\n\r\n");
    auto r = ReadResponse(fd.get());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->Header("connection"), "close");
    EXPECT_LT(absl::Now() - asked, absl::Milliseconds(250));
  }
  {  // served: 100 Continue at once (before the delay), then the body, then the answer
    Fd fd = Connect(server.port());
    const absl::Time asked = absl::Now();
    SendRaw(fd.get(),
            "GET /page.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            "Expect: 100-continue\r\nConnection: close\r\n\r\n");
    auto interim = ReadResponse(fd.get());
    ASSERT_TRUE(interim.has_value());
    EXPECT_EQ(interim->status_line, "HTTP/1.1 100 Continue");
    EXPECT_LT(absl::Now() - asked, absl::Milliseconds(250));
    SendRaw(fd.get(), "hello");
    auto r = ReadResponse(fd.get());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, std::string(1500, 'p'));
  }
  {  // an expectation we cannot meet
    auto r = Fetch(server.port(), "GET / HTTP/1.1\r\nHost: x\r\nExpect: gold\r\n\r\n");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 417);
  }
}

// Both timeouts in one test, on two connections at once, to keep the suite short.
TEST_P(ServerTest, IdleConnectionsCloseAfter5sAndPartialRequestsGet408After10s) {
  ServerProcess server = Start();
  const absl::Time start = absl::Now();
  Fd partial = Connect(server.port());
  SendRaw(partial.get(), "GET /index.html HTTP/1.1\r\n");
  Fd idle;
  if (GetParam().keep_alive) {  // single_server serves the partial client first, alone
    idle = Connect(server.port());
    EXPECT_TRUE(PeerClosed(idle.get(), absl::Seconds(8)));
    EXPECT_GE(absl::Now() - start, absl::Seconds(4));
  }
  auto r = ReadResponse(partial.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 408);
  EXPECT_GE(absl::Now() - start, absl::Seconds(9));
  EXPECT_TRUE(PeerClosed(partial.get()));
  if (!GetParam().keep_alive) {  // now the single server is free: an idle client times out
    idle = Connect(server.port());
    const absl::Time idle_start = absl::Now();
    EXPECT_TRUE(PeerClosed(idle.get(), absl::Seconds(8)));
    EXPECT_GE(absl::Now() - idle_start, absl::Seconds(4));
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, ServerTest, ::testing::ValuesIn(Models()), ModelName);

}  // namespace
}  // namespace hs::testing
