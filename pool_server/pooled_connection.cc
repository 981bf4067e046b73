// The worker's driver. Read it beside common/connection.cc (the blocking driver, which waits in
// poll() on its one socket) and async_server/connection.cc (which co_awaits): the same
// conversation, the same steps; here a kRead never waits -- the connection goes back to the
// poller instead.
#include "pool_server/pooled_connection.h"

#include <sys/socket.h>

#include <cerrno>

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/send_response.h"
#include "common/shutdown.h"

namespace hs {
namespace {

// Reads what has arrived, without waiting, and tells the conversation. False when nothing has
// arrived and the wait is not over: the connection must wait for its client.
bool ReadArrived(int fd, Conversation& conversation, const Step& step) {
  char chunk[kReadChunk];
  const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
  if (n > 0) {
    conversation.Received({chunk, static_cast<size_t>(n)}, absl::Now());
    return true;
  }
  if (n < 0 && errno == EINTR) return true;  // ask again
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    if (absl::Now() < step.until) return false;
    conversation.TimedOut();  // the poller handed it over because its deadline passed
    return true;
  }
  conversation.PeerClosed();  // EOF or a reset
  return true;
}

}  // namespace

ConnectionPtr ServeTurn(ConnectionPtr connection) {
  const int fd = connection->socket.get();
  Conversation& conversation = connection->conversation;
  for (;;) {
    if (ShutdownRequested()) conversation.ShutdownBegan(ShutdownStartedAt());
    const Step step = conversation.Next(absl::Now());
    switch (step.kind) {
      case Step::Kind::kRead:
        if (!ReadArrived(fd, conversation, step)) {
          HS_VLOG(fd, "waiting for the client in the poller");
          connection->deadline = step.until;
          connection->wake_on_shutdown = step.wake_on_shutdown;
          return connection;
        }
        break;
      case Step::Kind::kSleep:
        // Holds this worker, as slow work would: N delayed requests fill a pool of N.
        absl::SleepFor(step.until - absl::Now());
        break;
      case Step::Kind::kSend: {
        if (!connection->sending) connection->sending.emplace(fd);
        const PartialSend::Result sent = connection->sending->Continue(*step.response);
        if (sent == PartialSend::Result::kBlocked) {
          HS_VLOG(fd, "waiting for room to send in the poller");
          connection->deadline = connection->sending->NextLook();
          connection->wake_on_shutdown = false;  // an answer begun is finished
          return connection;
        }
        if (sent == PartialSend::Result::kDone) {
          conversation.Sent(absl::Now());
        } else {
          HS_VLOG(fd, "send failed: %s", connection->sending->error().message());
          conversation.SendFailed();
        }
        connection->sending.reset();
        break;
      }
      case Step::Kind::kClose:
        CloseStep(std::move(connection->socket), step);
        return nullptr;  // closes the socket (if the linger has not)
    }
  }
}

}  // namespace hs
