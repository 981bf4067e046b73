// One connection's HTTP/1.1 conversation as a state machine with no I/O and no clock -- the idea
// of Python's h11 ("sans-I/O"). It owns the received bytes and the protocol rules; it owns no
// socket and reads no clock. A driver feeds it what happened (bytes arrived, the answer went
// out, the peer closed, a deadline passed, shutdown began) and asks Next(now): read more until
// T, sleep out the -d delay until T, send this response, or close.
//
// Every protocol rule lives here once, so the three drivers -- the blocking loop
// (common/connection.cc), the coroutine (async_server/connection.cc) and the pools -- differ only
// in how they wait, and every timeout is unit-tested with a fake clock (conversation_test.cc):
//   idle keep-alive 5 s; a request must arrive whole within 10 s of its first byte, else 408;
//   pipelined requests are answered in order; keep-alive unless the client, the model or
//   shutdown says otherwise; during shutdown an answered, idle connection closes at once and a
//   fresh one may still begin its request within kShutdownGrace of the signal; a request whose
//   bytes have begun is answered; Expect: 100-continue gets its 100 (or the final refusal) as
//   soon as the head is in; after an answer that closes, the close is graceful (linger) when the
//   client may still be sending.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/document_root.h"
#include "common/http_response.h"

namespace hs {

// An idle keep-alive connection (no byte of a next request) closes after this long.
inline constexpr absl::Duration kIdleTimeout = absl::Seconds(5);
// A request that has not fully arrived this long after its first byte gets 408.
inline constexpr absl::Duration kRequestTimeout = absl::Seconds(10);
// A client that stops reading our response for this long is dropped (see SendStall).
inline constexpr absl::Duration kSendTimeout = absl::Seconds(10);
// A connection holding a worker that other clients wait for keeps it this long before it must
// yield (ConversationPolicy::turn) once the pool is full: a time slice, a scheduler's quantum. Long
// enough that a busy keep-alive client gets thousands of answers per connection -- reconnecting
// costs more than a request, and closing after every answer made the process pool at 1,000
// clients no faster than Connection: close -- and short enough that a waiting client is
// answered well within a second: with W workers and C busy clients, about (C / W - 1) turns.
inline constexpr absl::Duration kFairTurn = absl::Milliseconds(100);
// How many bytes one read asks for.
inline constexpr size_t kReadChunk = 16 * 1024;

// What the driver does next.
struct Step {
  enum class Kind {
    kRead,   // wait for bytes until `until`; also stop waiting when shutdown begins, if asked
    kSleep,  // wait out the -d delay until `until` (it stands for slow work)
    kSend,   // send `*response`: head, then body or file
    kClose,  // close the connection: the conversation is over
  };
  // How to close: at once, or gracefully (LingeringClose) because the client may still be
  // sending and a plain close() with unread input resets the connection before it reads us.
  enum class Linger { kNo, kYes, kIfUnreadInput };

  Kind kind = Kind::kClose;
  absl::Time until;                        // kRead, kSleep
  bool wake_on_shutdown = false;           // kRead
  const ResponsePlan* response = nullptr;  // kSend; valid until the next event
  Linger linger = Linger::kNo;             // kClose
};

// What differs between models; the rules above do not.
struct ConversationPolicy {
  // false: answer one request, then close (single_server: an idle keep-alive client would
  // otherwise block everyone behind it).
  bool keep_alive = true;
  // A pool whose workers each hold a connection (the process pool): how long a connection may
  // keep its worker while other clients wait for one (absl::InfiniteDuration() while nobody
  // waits). Once the connection has had that long, each answer closes it (Connection: close), so
  // the worker moves on instead of serving one keep-alive client forever while the rest starve
  // (Apache's prefork problem). The thread pool needs none: its workers hold no idle connection.
  std::function<absl::Duration()> turn;
  absl::Duration delay = absl::ZeroDuration();  // -d: before each answer to a request
  // --served-by: each answer to a request carries "X-Served-By: pid=P tid=T n=N began=S"
  // (ServedByHeader, common/log.h), so a client can tell which process and thread served it.
  bool served_by = false;
};

// What a conversation waiting for a request, with nothing of it received, needs to be built
// again: a driver may then drop it between requests and keep only this (the async model parks
// idle connections so: see async_server/event_loop.h).
struct IdleConversation {
  int answered = 0;
  absl::Time began;
  absl::Time idle_since;
  std::optional<absl::Time> shutdown_at;
};

class Conversation {
 public:
  // `log_id` only labels -v lines (the driver's socket).
  Conversation(const DocumentRoot& root, ConversationPolicy policy, absl::Time now,
               int log_id = -1);

  // Rebuilds the conversation Idle() described: it goes on exactly as the original would have.
  Conversation(const DocumentRoot& root, ConversationPolicy policy, const IdleConversation& idle,
               int log_id = -1);

  // Its whole state while it waits for a request with nothing received; nullopt otherwise.
  std::optional<IdleConversation> Idle() const;

  // What to do next. Call again after every event; a kRead or kSleep that ends early (EINTR,
  // shutdown) is asked again with the new time.
  Step Next(absl::Time now);

  // Events, as the driver sees them.
  void Received(std::string_view bytes, absl::Time now);  // bytes arrived (kRead)
  void PeerClosed();                                      // EOF or reset while reading
  void TimedOut();                    // a kRead's `until` passed with nothing more received
  void Sent(absl::Time now);          // the kSend step's response went out whole
  void SendFailed();                  // ... it did not: the client reset or stopped reading
  void ShutdownBegan(absl::Time at);  // idempotent; `at` is when the signal came

  size_t buffered() const { return buffer_.size(); }
  int answered() const { return answered_; }

 private:
  enum class Phase { kReading, kSleeping, kSending, kClosed };

  Step ReadStep() const;
  Step Answer(ResponsePlan response, size_t consumed, bool apply_delay, absl::Time now);
  void Close(Step::Linger linger, std::string_view why);
  bool KeepAliveAllowed(absl::Time now) const;

  const DocumentRoot& root_;
  const ConversationPolicy policy_;
  const int log_id_;
  Phase phase_ = Phase::kReading;
  std::string buffer_;  // received and not yet answered
  int answered_ = 0;
  const absl::Time began_;    // the connection's start: its turn (kFairTurn) counts from here
  absl::Time idle_since_;     // the last answer (or the connection's start)
  absl::Time first_byte_at_;  // of the request in buffer_, once it has begun
  std::optional<absl::Time> shutdown_at_;
  ResponsePlan response_;  // the answer in flight (kSleeping, kSending)
  size_t consumed_ = 0;    // request bytes it answers
  absl::Time sleep_until_;
  bool sending_continue_ = false;  // the kSend is the interim "100 Continue"
  bool continue_sent_ = false;     // for the request in buffer_
  bool client_closes_ = false;     // the request answered now did not ask for keep-alive
  Step close_step_;
};

}  // namespace hs
