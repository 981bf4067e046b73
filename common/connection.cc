// The blocking driver. Read it beside async_server/connection.cc: the same conversation, the
// same steps; only the waiting differs (poll() on one socket here, co_await there).
#include "common/connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/send_response.h"
#include "common/shutdown.h"

namespace hs {
namespace {

// During a shared listener's shutdown, how often a worker looks whether the others are done.
constexpr absl::Duration kSharedDrainLook = absl::Milliseconds(10);

// Waits (until `step.until`, or shutdown if the step asks) for bytes, and tells `conversation`
// what happened.
void Read(int fd, Conversation& conversation, const Step& step) {
  switch (WaitReadable(fd, step.until, step.wake_on_shutdown ? ShutdownFd() : -1)) {
    case WaitResult::kTimeout:
      return conversation.TimedOut();
    case WaitResult::kStop:
      return;  // the driver loop tells the conversation
    case WaitResult::kReady:
      break;
  }
  char chunk[kReadChunk];
  const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
  if (n > 0) return conversation.Received({chunk, static_cast<size_t>(n)}, absl::Now());
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  conversation.PeerClosed();  // EOF or a reset
}

}  // namespace

void ServeConnection(Fd client, const ServerOptions& options, const DocumentRoot& root,
                     ConversationPolicy policy, const StepObserver& observe) {
  const int fd = client.get();
  // Non-blocking: reads and writes wait in poll(), where the timeouts apply -- including a
  // client that stops reading (SendAll's stall timeout; SO_SNDTIMEO cannot bound that).
  SetNonBlocking(fd);
  HS_VLOG(fd, "connection opened");
  policy.delay = options.delay;
  policy.served_by = options.served_by;
  Conversation conversation(root, std::move(policy), absl::Now(), fd);
  for (;;) {
    if (ShutdownRequested()) conversation.ShutdownBegan(ShutdownStartedAt());
    const Step step = conversation.Next(absl::Now());
    if (observe) observe(step.kind, conversation.answered());
    switch (step.kind) {
      case Step::Kind::kRead:
        Read(fd, conversation, step);
        break;
      case Step::Kind::kSleep:
        // Blocks only this thread or process: that is the blocking models' lesson.
        absl::SleepFor(step.until - absl::Now());
        break;
      case Step::Kind::kSend:
        SendStep(fd, step, conversation);
        break;
      case Step::Kind::kClose:
        CloseStep(std::move(client), step);
        return;
    }
  }
}

void RunAcceptLoop(Fd& listener, const std::function<void(Fd)>& serve,
                   const ListenerSharing& shared) {
  auto wait_for_client = [&] {
    if (shared.wait_for_client) return shared.wait_for_client();
    return WaitReadable(listener.get(), absl::InfiniteFuture(), ShutdownFd());
  };
  while (wait_for_client() == WaitResult::kReady) {
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
  if (shared.retired && shared.retired()) {
    HS_VLOG(-1, "retired: closing the listener, leaving the accept queue to the others");
    listener.reset();
    return;
  }
  if (shared.others_busy) {  // a listener shared with other processes: see connection.h
    HS_VLOG(-1, "shutdown: serving the accept queue while other workers are busy");
    while (shared.others_busy() || HasPendingConnection(listener.get())) {
      if (WaitReadable(listener.get(), absl::Now() + kSharedDrainLook) != WaitResult::kReady) {
        continue;
      }
      if (absl::StatusOr<Fd> client = AcceptClient(listener.get()); client.ok()) {
        serve(*std::move(client));
      }
    }
    listener.reset();
    return;
  }
  HS_VLOG(-1, "shutdown: taking the accept queue, closing the listener");
  std::vector<Fd> queued = AcceptQueued(listener.get());
  listener.reset();
  for (Fd& client : queued) serve(std::move(client));
}

}  // namespace hs
