// The blocking connection loop. Read it beside async_server's coroutine: the steps and the
// decisions (common/exchange.h) are the same; only the waiting differs.
#include "common/connection.h"

#include <sys/socket.h>

#include <string>

#include "absl/time/clock.h"
#include "common/exchange.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace hs {
namespace {

absl::Status SendResponse(int fd, const ResponsePlan& plan) {
  const bool has_body = plan.file.valid() || !plan.body.empty();
  // MSG_MORE: the head waits in the kernel for the body, so a small response is one segment.
  absl::Status status = SendAll(fd, plan.head, /*more=*/has_body, kSendTimeout);
  if (!status.ok()) return status;
  if (plan.file.valid()) {
    return SendFileAll(fd, plan.file.get(), 0, plan.file_size, kSendTimeout);
  }
  return SendAll(fd, plan.body, /*more=*/false, kSendTimeout);
}

enum class ReadResult { kData, kClosed, kTimeout, kStop };

// Appends what the client sends to `buffer`, waiting at most until `deadline`. With `stop_aware`
// the wait also ends when shutdown begins.
ReadResult ReadMore(int fd, std::string& buffer, absl::Time deadline, bool stop_aware) {
  for (;;) {
    switch (WaitReadable(fd, deadline, stop_aware ? ShutdownFd() : -1)) {
      case WaitResult::kTimeout:
        return ReadResult::kTimeout;
      case WaitResult::kStop:
        return ReadResult::kStop;
      case WaitResult::kReady:
        break;
    }
    const size_t old_size = buffer.size();
    buffer.resize(old_size + kReadChunk);
    ssize_t n = ::recv(fd, buffer.data() + old_size, kReadChunk, MSG_DONTWAIT);
    buffer.resize(old_size + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) return ReadResult::kData;
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    return ReadResult::kClosed;  // EOF or a reset
  }
}

bool KeepAliveAllowed(const ConnectionPolicy& policy) {
  return policy.keep_alive && !ShutdownRequested() &&
         !(policy.others_waiting && policy.others_waiting());
}

}  // namespace

void ServeConnection(Fd client, const ServerOptions& options, const DocumentRoot& root,
                     const ConnectionPolicy& policy) {
  const int fd = client.get();
  // Non-blocking: reads and writes wait in poll(), where the timeouts apply -- including a
  // client that stops reading (SendAll's stall timeout; SO_SNDTIMEO cannot bound that).
  SetNonBlocking(fd);
  HS_VLOG(fd, "connection opened");
  std::string buffer;
  int answered = 0;
  absl::Time idle_since = absl::Now();
  absl::Time first_byte_at;
  for (;;) {
    // 1. Wait until the buffer holds a whole request (or a protocol error).
    std::optional<Exchange> exchange;
    while (!(exchange = NextExchange(buffer, root, KeepAliveAllowed(policy)))) {
      if (CloseIdleConnection(ShutdownRequested(), answered, buffer.size())) {
        HS_VLOG(fd, "shutdown: closing idle connection");
        return;
      }
      const bool started = !buffer.empty();
      const bool idle_keep_alive = !started && answered > 0;
      switch (ReadMore(fd, buffer, ReadDeadline(started, idle_since, first_byte_at),
                       /*stop_aware=*/idle_keep_alive)) {
        case ReadResult::kData:
          if (!started) first_byte_at = absl::Now();
          continue;
        case ReadResult::kStop:
          continue;  // CloseIdleConnection() above decides
        case ReadResult::kClosed:
          HS_VLOG(fd, "client closed the connection");
          return;
        case ReadResult::kTimeout:
          if (!started) {
            HS_VLOG(fd, "idle timeout");
            return;
          }
          HS_VLOG(fd, "request timeout: 408");
          (void)SendResponse(fd, ErrorResponse(408));
          LingeringClose(std::move(client));
          return;
      }
    }

    // 2. Answer it, after the -d delay: it blocks only this thread or process.
    if (exchange->apply_delay && options.delay > absl::ZeroDuration()) {
      HS_VLOG(fd, "delaying %s", absl::FormatDuration(options.delay));
      absl::SleepFor(options.delay);
    }
    const ResponsePlan& response = exchange->response;
    HS_VLOG(fd, "%s %s -> %d", exchange->method, exchange->target, response.status);
    if (absl::Status sent = SendResponse(fd, response); !sent.ok()) {
      HS_VLOG(fd, "send failed: %s", sent.message());
      return;
    }
    ++answered;
    buffer.erase(0, exchange->consumed);
    idle_since = absl::Now();

    // 3. Keep the connection for the next request, or close it.
    if (response.close) {
      HS_VLOG(fd, "closing after response");
      if (LingerBeforeClose(response.status, buffer.size(), HasUnreadInput(fd))) {
        LingeringClose(std::move(client));
      }
      return;
    }
    if (!buffer.empty()) first_byte_at = idle_since;  // a pipelined request is already here
  }
}

void RunAcceptLoop(const Fd& listener, const std::function<void(Fd)>& serve) {
  while (WaitReadable(listener.get(), absl::InfiniteFuture(), ShutdownFd()) == WaitResult::kReady) {
    absl::StatusOr<Fd> client = AcceptClient(listener.get());
    if (client.ok()) {
      serve(*std::move(client));
    } else if (absl::IsResourceExhausted(client.status())) {
      // Out of descriptors: the pending connection stays queued and the listener stays
      // readable, so retrying at once would spin at 100% CPU. Pause instead.
      HS_VLOG(-1, "%s; pausing accepts", client.status().message());
      absl::SleepFor(absl::Milliseconds(100));
    }
    // kUnavailable: another worker took the connection first (shared listener).
  }
  HS_VLOG(-1, "shutdown: draining the accept queue");
  // The listener is non-blocking, so this ends with EAGAIN once the kernel's queue is empty.
  // Clients whose handshake completed before the signal are served, not reset.
  for (;;) {
    absl::StatusOr<Fd> client = AcceptClient(listener.get());
    if (!client.ok()) break;
    serve(*std::move(client));
  }
}

}  // namespace hs
