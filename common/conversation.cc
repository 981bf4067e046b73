#include "common/conversation.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "common/file_responder.h"
#include "common/http_request.h"
#include "common/log.h"
#include "common/shutdown.h"
#include "common/strings.h"

namespace hs {
namespace {

// An idle connection whose buffer grew past this (a request with large headers) gives it back,
// so that thousands of idle keep-alive connections stay small.
constexpr size_t kIdleBufferBytes = 1024;

constexpr std::string_view kHostRequired =
    "HTTP/1.1 requests need a Host header, e.g. \"Host: localhost\" after the request line.";

// The interim answer to "Expect: 100-continue" (RFC 9110 15.2.1): "send the body".
const ResponsePlan& ContinueResponse() {
  static const ResponsePlan* const kContinue = [] {
    auto* plan = new ResponsePlan;
    plan->status = 100;
    plan->head = "HTTP/1.1 100 Continue\r\n\r\n";
    return plan;
  }();
  return *kContinue;
}

}  // namespace

Conversation::Conversation(const DocumentRoot& root, ConversationPolicy policy, absl::Time now,
                           int log_id)
    : root_(root), policy_(std::move(policy)), log_id_(log_id), began_(now), idle_since_(now) {}

Conversation::Conversation(const DocumentRoot& root, ConversationPolicy policy,
                           const IdleConversation& idle, int log_id)
    : root_(root),
      policy_(std::move(policy)),
      log_id_(log_id),
      answered_(idle.answered),
      began_(idle.began),
      idle_since_(idle.idle_since),
      shutdown_at_(idle.shutdown_at) {}

std::optional<IdleConversation> Conversation::Idle() const {
  if (phase_ != Phase::kReading || !buffer_.empty()) return std::nullopt;
  return IdleConversation{.answered = answered_,
                          .began = began_,
                          .idle_since = idle_since_,
                          .shutdown_at = shutdown_at_};
}

bool Conversation::KeepAliveAllowed(absl::Time now) const {
  return policy_.keep_alive && !shutdown_at_ && !(policy_.turn && now - began_ >= policy_.turn());
}

Step Conversation::Next(absl::Time now) {
  switch (phase_) {
    case Phase::kClosed:
      return close_step_;
    case Phase::kSleeping:
      if (now < sleep_until_) return {.kind = Step::Kind::kSleep, .until = sleep_until_};
      phase_ = Phase::kSending;
      [[fallthrough]];
    case Phase::kSending:
      return {.kind = Step::Kind::kSend,
              .response = sending_continue_ ? &ContinueResponse() : &response_};
    case Phase::kReading:
      break;
  }

  // Is a whole request here (or a protocol error)?
  const ParseResult parsed = ParseRequest(buffer_);
  if (parsed.error()) {
    HS_VLOG(log_id_, "malformed request -> %d", parsed.error_status);
    return Answer(ErrorResponse(parsed.error_status), buffer_.size(), /*apply_delay=*/false, now);
  }
  const HttpRequest& request = parsed.request;
  // RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host. Hand-typed
  // requests (nc, telnet) forget it most often, hence the page that says so.
  if (parsed.head_complete() && request.version_minor >= 1 && !request.has_host) {
    HS_VLOG(log_id_, "HTTP/1.1 request without Host -> 400");
    return Answer(ErrorResponse(400, 1, kHostRequired), buffer_.size(), /*apply_delay=*/false, now);
  }
  // RFC 9110 10.1.1: an HTTP/1.0 client cannot know 100 Continue, so its Expect is ignored.
  const std::optional<std::string_view> expect =
      parsed.head_complete() && request.version_minor >= 1 ? request.Header("expect")
                                                           : std::nullopt;
  if (expect && !absl::EqualsIgnoreCase(Sv(*expect), "100-continue")) {
    return Answer(ErrorResponse(417, request.version_minor), buffer_.size(), false, now);
  }
  if (parsed.need_more()) {
    if (expect && !continue_sent_) {
      // The client waits (about a second, for curl) before sending the body. A request that
      // will be refused gets its final answer now, and the connection closes (the body is never
      // read); one that will be served gets "100 Continue" at once -- before any -d delay.
      ResponsePlan refusal = Respond(request, root_, /*keep_alive_allowed=*/false);
      if (refusal.status >= 400) return Answer(std::move(refusal), buffer_.size(), false, now);
      sending_continue_ = true;
      phase_ = Phase::kSending;
      return {.kind = Step::Kind::kSend, .response = &ContinueResponse()};
    }
    if (buffer_.empty() && answered_ > 0 && shutdown_at_) {
      // An answered, idle connection has had its turn: shutdown closes it at once.
      Close(Step::Linger::kNo, "shutdown: closing idle connection");
      return close_step_;
    }
    return ReadStep();
  }
  ResponsePlan response = Respond(request, root_, KeepAliveAllowed(now));
  // RFC 9112 9.6: a client that asked to close (or spoke HTTP/1.0 without keep-alive) sends
  // nothing more, so the close after this answer need not look for unread input.
  client_closes_ = !request.keep_alive;
  HS_VLOG(log_id_, "%s %s -> %d", Sv(request.method), Sv(request.target), response.status);
  return Answer(std::move(response), parsed.consumed, /*apply_delay=*/true, now);
}

Step Conversation::ReadStep() const {
  const bool started = !buffer_.empty();
  if (started) return {.kind = Step::Kind::kRead, .until = first_byte_at_ + kRequestTimeout};
  absl::Time until = idle_since_ + kIdleTimeout;
  if (shutdown_at_) {
    // A fresh connection may still begin its request, within the grace shared by all.
    until = std::min(until, *shutdown_at_ + kShutdownGrace);
  }
  return {.kind = Step::Kind::kRead, .until = until, .wake_on_shutdown = !shutdown_at_};
}

Step Conversation::Answer(ResponsePlan response, size_t consumed, bool apply_delay,
                          absl::Time now) {
  response_ = std::move(response);
  consumed_ = consumed;
  if (policy_.served_by && response_.head.ends_with("\r\n\r\n")) {
    // The one place every model's answers pass: the header goes before the blank line.
    response_.head.insert(response_.head.size() - 2, ServedByHeader(now));
  }
  if (apply_delay && policy_.delay > absl::ZeroDuration()) {
    HS_VLOG(log_id_, "delaying %s", absl::FormatDuration(policy_.delay));
    phase_ = Phase::kSleeping;
    sleep_until_ = now + policy_.delay;
    return {.kind = Step::Kind::kSleep, .until = sleep_until_};
  }
  phase_ = Phase::kSending;
  return {.kind = Step::Kind::kSend, .response = &response_};
}

void Conversation::Received(std::string_view bytes, absl::Time now) {
  if (buffer_.empty()) first_byte_at_ = now;
  buffer_.append(bytes);
}

void Conversation::PeerClosed() { Close(Step::Linger::kNo, "client closed the connection"); }

void Conversation::TimedOut() {
  if (buffer_.empty()) {
    Close(Step::Linger::kNo,
          shutdown_at_ ? "shutdown: no request within the grace" : "idle timeout");
    return;
  }
  HS_VLOG(log_id_, "request timeout: 408");
  response_ = ErrorResponse(408);
  consumed_ = buffer_.size();
  phase_ = Phase::kSending;
}

void Conversation::Sent(absl::Time now) {
  if (sending_continue_) {  // only the interim answer went out: now read the body
    sending_continue_ = false;
    continue_sent_ = true;
    phase_ = Phase::kReading;
    return;
  }
  ++answered_;
  buffer_.erase(0, consumed_);
  idle_since_ = now;
  continue_sent_ = false;
  const bool close = response_.close;
  const int status = response_.status;
  const bool client_closes = std::exchange(client_closes_, false);
  response_ = ResponsePlan();  // closes the file
  if (close) {
    const bool client_may_be_sending = !buffer_.empty() || status >= 400;
    Close(client_may_be_sending ? Step::Linger::kYes
          : client_closes       ? Step::Linger::kNo
                                : Step::Linger::kIfUnreadInput,
          "closing after response");
    return;
  }
  phase_ = Phase::kReading;
  if (!buffer_.empty()) {
    first_byte_at_ = now;  // a pipelined request is already here
  } else if (buffer_.capacity() > kIdleBufferBytes) {
    std::string().swap(buffer_);  // idle connections stay small
  }
}

void Conversation::SendFailed() { Close(Step::Linger::kNo, "send failed"); }

void Conversation::ShutdownBegan(absl::Time at) {
  if (shutdown_at_) return;
  shutdown_at_ = at;
}

void Conversation::Close(Step::Linger linger, std::string_view why) {
  HS_VLOG(log_id_, "%s", Sv(why));
  phase_ = Phase::kClosed;
  close_step_ = {.kind = Step::Kind::kClose, .linger = linger};
}

}  // namespace hs
