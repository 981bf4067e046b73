// The conversation driven byte by byte with a fake clock: every timeout, keep-alive, pipelining,
// Expect and shutdown rule, with no socket and no sleep. A test plays the driver: it asks Next(),
// and answers with the event a real socket would have produced.
#include "common/conversation.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/shutdown.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hs {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;
using Kind = Step::Kind;

namespace fs = std::filesystem;

constexpr std::string_view kGet = "GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n";
const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

class ConversationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/conversation_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ / "page.html") << "<p>page</p>";
    std::ofstream(dir_ / "empty.txt");
    absl::StatusOr<DocumentRoot> root = DocumentRoot::Open(dir_.string());
    ASSERT_TRUE(root.ok());
    root_.emplace(*std::move(root));
  }
  void TearDown() override { fs::remove_all(dir_); }

  Conversation Make(ConversationPolicy policy = {}) {
    return Conversation(*root_, std::move(policy), kStart);
  }

  // Plays the driver's part after a kSend: the response went out at `at`.
  static std::string SendNext(Conversation& c, absl::Time at) {
    const Step step = c.Next(at);
    EXPECT_EQ(step.kind, Kind::kSend);
    if (step.kind != Kind::kSend) return "";
    std::string head = step.response->head;
    c.Sent(at);
    return head;
  }

  fs::path dir_;
  std::optional<DocumentRoot> root_;
};

TEST_F(ConversationTest, FreshConnectionReadsUntilTheIdleTimeout) {
  Conversation c = Make();
  const Step step = c.Next(kStart);
  EXPECT_EQ(step.kind, Kind::kRead);
  EXPECT_EQ(step.until, kStart + kIdleTimeout);
  EXPECT_TRUE(step.wake_on_shutdown);
  c.TimedOut();
  const Step close = c.Next(kStart + kIdleTimeout);
  EXPECT_EQ(close.kind, Kind::kClose);
  EXPECT_EQ(close.linger, Step::Linger::kNo);
}

TEST_F(ConversationTest, RequestFedByteByByteIsAnsweredOnceWhole) {
  Conversation c = Make();
  for (size_t i = 0; i + 1 < kGet.size(); ++i) {
    c.Received(kGet.substr(i, 1), kStart + absl::Milliseconds(i));
    const Step step = c.Next(kStart + absl::Milliseconds(i));
    ASSERT_EQ(step.kind, Kind::kRead) << "after byte " << i;
    // The request timeout counts from the first byte, not the last.
    EXPECT_EQ(step.until, kStart + kRequestTimeout);
    EXPECT_FALSE(step.wake_on_shutdown);
  }
  c.Received(kGet.substr(kGet.size() - 1), kStart + absl::Seconds(1));
  const Step send = c.Next(kStart + absl::Seconds(1));
  ASSERT_EQ(send.kind, Kind::kSend);
  EXPECT_THAT(send.response->head, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(send.response->head, HasSubstr("Connection: keep-alive"));
  EXPECT_EQ(send.response->file_size, 11u);
  c.Sent(kStart + absl::Seconds(2));
  EXPECT_EQ(c.answered(), 1);
  EXPECT_EQ(c.buffered(), 0u);
  // Idle again: the idle timeout counts from the answer.
  const Step idle = c.Next(kStart + absl::Seconds(2));
  EXPECT_EQ(idle.kind, Kind::kRead);
  EXPECT_EQ(idle.until, kStart + absl::Seconds(2) + kIdleTimeout);
}

TEST_F(ConversationTest, PartialRequestTimesOutWith408AndLingers) {
  Conversation c = Make();
  c.Received("GET /page.html HT", kStart + absl::Seconds(1));
  EXPECT_EQ(c.Next(kStart + absl::Seconds(1)).until, kStart + absl::Seconds(1) + kRequestTimeout);
  c.TimedOut();
  const std::string head = SendNext(c, kStart + absl::Seconds(11));
  EXPECT_THAT(head, StartsWith("HTTP/1.1 408 "));
  EXPECT_THAT(head, HasSubstr("Connection: close"));
  const Step close = c.Next(kStart + absl::Seconds(11));
  EXPECT_EQ(close.kind, Kind::kClose);
  EXPECT_EQ(close.linger, Step::Linger::kYes);
}

TEST_F(ConversationTest, PipelinedRequestsAreAnsweredInOrderWithoutReading) {
  Conversation c = Make();
  const std::string two = std::string(kGet) + "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n";
  c.Received(two, kStart);
  EXPECT_THAT(SendNext(c, kStart), StartsWith("HTTP/1.1 200 OK"));
  EXPECT_EQ(c.buffered(), two.size() - kGet.size());
  EXPECT_THAT(SendNext(c, kStart), StartsWith("HTTP/1.1 404 "));
  EXPECT_EQ(c.answered(), 2);
  EXPECT_EQ(c.Next(kStart).kind, Kind::kRead);
}

TEST_F(ConversationTest, MalformedRequestGets400AndCloses) {
  Conversation c = Make();
  c.Received("GARBAGE\r\n\r\n", kStart);
  EXPECT_THAT(SendNext(c, kStart), StartsWith("HTTP/1.1 400 "));
  EXPECT_EQ(c.Next(kStart).kind, Kind::kClose);
}

// RFC 9112 3.2: an HTTP/1.1 request without Host is refused, with a page that says why; an
// HTTP/1.0 one is fine.
TEST_F(ConversationTest, Http11RequestWithoutHostGets400ThatSaysWhy) {
  for (const std::string request :
       {"GET /page.html HTTP/1.1\r\n\r\n", "GET /page.html HTTP/1.1\r\nAccept: */*\r\n\r\n",
        "GET /page.html HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"}) {
    SCOPED_TRACE(request);
    Conversation c = Make();
    c.Received(request, kStart);
    const Step step = c.Next(kStart);
    ASSERT_EQ(step.kind, Kind::kSend);
    EXPECT_EQ(step.response->status, 400);
    EXPECT_TRUE(step.response->close);
    EXPECT_THAT(step.response->head, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
    EXPECT_EQ(step.response->body,
              "<!DOCTYPE html><html><head><title>400 Bad Request</title></head><body>"
              "<h1>400 Bad Request</h1><p>HTTP/1.1 requests need a Host header, e.g. "
              "\"Host: localhost\" after the request line.</p></body></html>\n");
    c.Sent(kStart);
    const Step close = c.Next(kStart);
    EXPECT_EQ(close.kind, Kind::kClose);
    EXPECT_EQ(close.linger, Step::Linger::kYes);
  }
  Conversation old = Make();
  old.Received("GET /page.html HTTP/1.0\r\n\r\n", kStart);
  EXPECT_THAT(SendNext(old, kStart), StartsWith("HTTP/1.0 200 OK\r\n"));
}

TEST_F(ConversationTest, PeerClosingEndsTheConversation) {
  Conversation c = Make();
  c.Received("GET /", kStart);
  c.PeerClosed();
  const Step step = c.Next(kStart);
  EXPECT_EQ(step.kind, Kind::kClose);
  EXPECT_EQ(step.linger, Step::Linger::kNo);
}

TEST_F(ConversationTest, FailedSendCloses) {
  Conversation c = Make();
  c.Received(kGet, kStart);
  ASSERT_EQ(c.Next(kStart).kind, Kind::kSend);
  c.SendFailed();
  EXPECT_EQ(c.Next(kStart).kind, Kind::kClose);
}

TEST_F(ConversationTest, DelayComesBeforeTheAnswerNotBeforeErrors) {
  Conversation c = Make({.delay = absl::Seconds(2)});
  c.Received(kGet, kStart);
  Step step = c.Next(kStart);
  ASSERT_EQ(step.kind, Kind::kSleep);
  EXPECT_EQ(step.until, kStart + absl::Seconds(2));
  // Woken early (EINTR): still sleeping, same deadline.
  step = c.Next(kStart + absl::Seconds(1));
  EXPECT_EQ(step.kind, Kind::kSleep);
  EXPECT_EQ(step.until, kStart + absl::Seconds(2));
  EXPECT_THAT(SendNext(c, kStart + absl::Seconds(2)), StartsWith("HTTP/1.1 200 "));

  Conversation bad = Make({.delay = absl::Seconds(2)});
  bad.Received("BAD REQUEST LINE\r\n\r\n", kStart);
  EXPECT_EQ(bad.Next(kStart).kind, Kind::kSend);  // protocol errors are not delayed
}

TEST_F(ConversationTest, NoKeepAlivePolicyClosesAfterOneAnswer) {
  Conversation c = Make({.keep_alive = false});
  c.Received(kGet, kStart);
  EXPECT_THAT(SendNext(c, kStart), HasSubstr("Connection: close"));
  const Step step = c.Next(kStart);
  EXPECT_EQ(step.kind, Kind::kClose);
  // A clean 200 closes gracefully only if the client has sent more meanwhile.
  EXPECT_EQ(step.linger, Step::Linger::kIfUnreadInput);
}

// RFC 9112 9.6: a client that sends "Connection: close" sends no further request, so nothing
// can be left unread (no FIONREAD look before the close); nor can an HTTP/1.0 one without
// keep-alive. A keep-alive client that the server closes on is still looked at.
TEST_F(ConversationTest, ClientThatAskedToCloseIsClosedWithoutALookForMoreInput) {
  for (std::string_view request :
       {"GET /page.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /page.html HTTP/1.0\r\n\r\n"}) {
    Conversation c = Make();
    c.Received(request, kStart);
    EXPECT_THAT(SendNext(c, kStart), HasSubstr("Connection: close"));
    const Step step = c.Next(kStart);
    EXPECT_EQ(step.kind, Kind::kClose);
    EXPECT_EQ(step.linger, Step::Linger::kNo) << request;
  }
  Conversation wanted_more = Make({.keep_alive = false});
  wanted_more.Received(kGet, kStart);
  SendNext(wanted_more, kStart);
  EXPECT_EQ(wanted_more.Next(kStart).linger, Step::Linger::kIfUnreadInput);
}

TEST_F(ConversationTest, OthersWaitingTurnsKeepAliveOffOnceTheTurnIsOver) {
  bool waiting = false;
  Conversation c = Make({.turn = [&] { return waiting ? kFairTurn : absl::InfiniteDuration(); }});
  c.Received(kGet, kStart);
  EXPECT_THAT(SendNext(c, kStart), HasSubstr("Connection: keep-alive"));
  waiting = true;
  // Within its turn the connection keeps the worker although others wait...
  const absl::Time within = kStart + kFairTurn - absl::Milliseconds(1);
  c.Received(kGet, within);
  EXPECT_THAT(SendNext(c, within), HasSubstr("Connection: keep-alive"));
  // ... and after it, the next answer closes so that the worker moves on.
  const absl::Time after = kStart + kFairTurn;
  c.Received(kGet, after);
  EXPECT_THAT(SendNext(c, after), HasSubstr("Connection: close"));
  EXPECT_EQ(c.Next(after).kind, Kind::kClose);
}

TEST_F(ConversationTest, AZeroTurnClosesWithTheFirstAnswer) {
  // A pool still growing: each answer given while clients wait closes its connection.
  Conversation c = Make({.turn = [] { return absl::ZeroDuration(); }});
  c.Received(kGet, kStart);
  EXPECT_THAT(SendNext(c, kStart), HasSubstr("Connection: close"));
  EXPECT_EQ(c.Next(kStart).kind, Kind::kClose);
}

TEST_F(ConversationTest, AfterItsTurnAConnectionKeepsTheWorkerWhileNobodyWaits) {
  Conversation c = Make({.turn = [] { return absl::InfiniteDuration(); }});
  const absl::Time later = kStart + 3 * kFairTurn;
  c.Received(kGet, later);
  EXPECT_THAT(SendNext(c, later), HasSubstr("Connection: keep-alive"));
}

// --served-by: each answer names its process and thread, and when it began (before the delay);
// without the flag, no answer carries the header.
TEST_F(ConversationTest, ServedByStampsEveryAnswerOnlyWhenAsked) {
  Conversation plain = Make({.delay = absl::Seconds(1)});
  plain.Received(kGet, kStart);
  ASSERT_EQ(plain.Next(kStart).kind, Kind::kSleep);
  EXPECT_THAT(SendNext(plain, kStart + absl::Seconds(1)), Not(HasSubstr("X-Served-By")));

  Conversation c = Make({.delay = absl::Seconds(1), .served_by = true});
  c.Received(kGet, kStart);
  ASSERT_EQ(c.Next(kStart).kind, Kind::kSleep);
  const std::string head = SendNext(c, kStart + absl::Seconds(1));
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(head, MatchesRegex(absl::StrCat("(.|\r|\n)*\r\nX-Served-By: pid=", ::getpid(),
                                              " tid=[0-9]+ n=[0-9]+ began=", 1'700'000'000,
                                              "\\.000000\r\n\r\n")));
  c.Received("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n", kStart);  // errors too
  ASSERT_EQ(c.Next(kStart + absl::Seconds(2)).kind, Kind::kSleep);
  EXPECT_THAT(SendNext(c, kStart + absl::Seconds(3)),
              AllOf(StartsWith("HTTP/1.1 404 "), HasSubstr("began=1700000002.000000\r\n\r\n")));
}

// The async model drops an idle conversation and keeps only Idle(); the one rebuilt from it
// must go on exactly as the original: the same deadline, the same count, the same shutdown rule.
TEST_F(ConversationTest, IdleStateRebuildsAConversationThatGoesOnTheSame) {
  Conversation fresh = Make({.served_by = true});
  ASSERT_TRUE(fresh.Idle().has_value()) << "a fresh connection waits with nothing received";
  fresh.Received(kGet, kStart);
  EXPECT_FALSE(fresh.Idle().has_value()) << "an answer is due";
  const absl::Time answered = kStart + absl::Seconds(2);
  SendNext(fresh, answered);
  const std::optional<IdleConversation> idle = fresh.Idle();
  ASSERT_TRUE(idle.has_value());
  EXPECT_EQ(idle->answered, 1);
  EXPECT_EQ(idle->idle_since, answered);

  Conversation rebuilt(*root_, {.served_by = true}, *idle);
  const Step step = rebuilt.Next(answered + absl::Seconds(1));
  EXPECT_EQ(step.kind, Kind::kRead);
  EXPECT_EQ(step.until, answered + kIdleTimeout);  // counts from the answer, not the rebuild
  EXPECT_TRUE(step.wake_on_shutdown);
  EXPECT_EQ(rebuilt.answered(), 1);
  rebuilt.Received(kGet, answered + absl::Seconds(1));
  EXPECT_THAT(SendNext(rebuilt, answered + absl::Seconds(1)), HasSubstr("X-Served-By: "));
  EXPECT_EQ(rebuilt.answered(), 2);
  // An answered connection rebuilt after the signal closes at once, as the original would.
  Conversation late(*root_, {}, *idle);
  late.ShutdownBegan(answered + absl::Seconds(1));
  EXPECT_EQ(late.Next(answered + absl::Seconds(1)).kind, Kind::kClose);
}

TEST_F(ConversationTest, IdleStateKeepsTheShutdownGraceOfAFreshConnection) {
  Conversation c = Make();
  const absl::Time signal = kStart + absl::Seconds(1);
  c.ShutdownBegan(signal);
  const std::optional<IdleConversation> idle = c.Idle();
  ASSERT_TRUE(idle.has_value());
  Conversation rebuilt(*root_, {}, *idle);
  const Step step = rebuilt.Next(signal + absl::Milliseconds(10));
  ASSERT_EQ(step.kind, Kind::kRead);
  EXPECT_EQ(step.until, signal + kShutdownGrace);
  EXPECT_FALSE(step.wake_on_shutdown);
}

TEST_F(ConversationTest, PipelinedOrHalfReceivedRequestsAreNotIdle) {
  Conversation c = Make({.delay = absl::Seconds(1)});
  c.Received("GET /page.html HT", kStart);
  EXPECT_FALSE(c.Idle().has_value()) << "a request has begun";
  c.Received("TP/1.1\r\nHost: x\r\n\r\n", kStart);
  ASSERT_EQ(c.Next(kStart).kind, Kind::kSleep);
  EXPECT_FALSE(c.Idle().has_value()) << "sleeping out the delay";
}

TEST_F(ConversationTest, ShutdownClosesAnAnsweredIdleConnectionAtOnce) {
  Conversation c = Make();
  c.Received(kGet, kStart);
  SendNext(c, kStart);
  c.ShutdownBegan(kStart + absl::Seconds(1));
  EXPECT_EQ(c.Next(kStart + absl::Seconds(1)).kind, Kind::kClose);
}

TEST_F(ConversationTest, ShutdownDuringTheDelayAnswersThenCloses) {
  Conversation c = Make({.delay = absl::Seconds(1)});
  c.Received(kGet, kStart);
  ASSERT_EQ(c.Next(kStart).kind, Kind::kSleep);
  c.ShutdownBegan(kStart + absl::Milliseconds(500));
  // Planned before the signal, so it still says keep-alive; but nothing more is read.
  EXPECT_THAT(SendNext(c, kStart + absl::Seconds(1)), StartsWith("HTTP/1.1 200 "));
  EXPECT_EQ(c.Next(kStart + absl::Seconds(1)).kind, Kind::kClose);
}

TEST_F(ConversationTest, ShutdownGivesAFreshConnectionOneGraceFromTheSignal) {
  Conversation c = Make();
  const absl::Time signal = kStart + absl::Seconds(3);
  c.ShutdownBegan(signal);
  c.ShutdownBegan(signal + absl::Seconds(5));  // repeated: the first time counts
  Step step = c.Next(signal + absl::Milliseconds(100));
  ASSERT_EQ(step.kind, Kind::kRead);
  EXPECT_EQ(step.until, signal + kShutdownGrace);
  EXPECT_FALSE(step.wake_on_shutdown);
  c.TimedOut();
  EXPECT_EQ(c.Next(signal + kShutdownGrace).kind, Kind::kClose);
}

TEST_F(ConversationTest, ShutdownGraceIsSharedNotPerConnection) {
  // A connection a worker takes up long after the signal has no grace left: one look, then close.
  Conversation late = Make();
  const absl::Time signal = kStart - absl::Seconds(10);
  late.ShutdownBegan(signal);
  const Step step = late.Next(kStart);
  ASSERT_EQ(step.kind, Kind::kRead);
  EXPECT_LE(step.until, kStart);
}

TEST_F(ConversationTest, ShutdownStillAnswersARequestThatHasBegun) {
  Conversation c = Make();
  c.Received("GET /page.html HTTP/1.1\r\n", kStart);
  c.ShutdownBegan(kStart + absl::Milliseconds(10));
  Step step = c.Next(kStart + absl::Seconds(2));
  ASSERT_EQ(step.kind, Kind::kRead);
  EXPECT_EQ(step.until, kStart + kRequestTimeout);  // not the grace: it has begun
  c.Received("Host: x\r\n\r\n", kStart + absl::Seconds(2));
  const std::string head = SendNext(c, kStart + absl::Seconds(2));
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(head, HasSubstr("Connection: close"));  // no keep-alive during shutdown
  EXPECT_EQ(c.Next(kStart + absl::Seconds(2)).kind, Kind::kClose);
}

TEST_F(ConversationTest, ExpectContinueGets100BeforeTheBodyAndBeforeTheDelay) {
  Conversation c = Make({.delay = absl::Seconds(1)});
  c.Received(
      "GET /page.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
      kStart);
  EXPECT_EQ(SendNext(c, kStart), "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(c.answered(), 0);
  EXPECT_EQ(c.Next(kStart).kind, Kind::kRead);  // now the body
  c.Received("hello", kStart);
  ASSERT_EQ(c.Next(kStart).kind, Kind::kSleep);
  EXPECT_THAT(SendNext(c, kStart + absl::Seconds(1)), StartsWith("HTTP/1.1 200 "));
  EXPECT_EQ(c.buffered(), 0u);
}

TEST_F(ConversationTest, ExpectContinueOnARefusedRequestGetsTheFinalAnswerAtOnce) {
  Conversation c = Make({.delay = absl::Seconds(1)});
  c.Received(
      "POST /page.html HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\nExpect: "
      "100-continue\r\n\r\n",
      kStart);
  const std::string head = SendNext(c, kStart);  // no 100, no delay
  EXPECT_THAT(head, StartsWith("HTTP/1.1 405 "));
  EXPECT_THAT(head, HasSubstr("Connection: close"));
  EXPECT_EQ(c.Next(kStart).kind, Kind::kClose);

  Conversation missing = Make();
  missing.Received(
      "GET /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n", kStart);
  EXPECT_THAT(SendNext(missing, kStart), StartsWith("HTTP/1.1 404 "));
}

TEST_F(ConversationTest, UnknownExpectationGets417) {
  Conversation c = Make();
  c.Received("GET /page.html HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n", kStart);
  EXPECT_THAT(SendNext(c, kStart), StartsWith("HTTP/1.1 417 "));
  EXPECT_EQ(c.Next(kStart).kind, Kind::kClose);
}

TEST_F(ConversationTest, Http10IgnoresExpect) {
  Conversation c = Make();
  c.Received("GET /page.html HTTP/1.0\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n", kStart);
  EXPECT_EQ(c.Next(kStart).kind, Kind::kRead);  // waits for the body; no 100, no 417
  c.Received("ok", kStart);
  EXPECT_THAT(SendNext(c, kStart), StartsWith("HTTP/1.0 200 "));
}

TEST_F(ConversationTest, EmptyFileHasNothingToSendfile) {
  Conversation c = Make();
  c.Received("GET /empty.txt HTTP/1.1\r\nHost: x\r\n\r\n", kStart);
  const Step step = c.Next(kStart);
  ASSERT_EQ(step.kind, Kind::kSend);
  EXPECT_THAT(step.response->head, HasSubstr("Content-Length: 0\r\n"));
  EXPECT_EQ(step.response->file_size, 0u);
  EXPECT_TRUE(step.response->body.empty());
}

}  // namespace
}  // namespace hs
