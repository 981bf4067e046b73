// The async driver. Read it beside common/connection.cc: the same conversation, the same steps;
// `co_await conn.Read(...)` where the blocking driver polls one socket, `co_await loop.Sleep(...)`
// where it calls absl::SleepFor(), `co_await Send(...)` where it blocks in send(). One step the
// blocking driver has no need of: where it would wait for a next request with nothing of it
// received, the coroutine parks the connection in the loop and returns (see event_loop.h).
#include "async_server/connection.h"

#include <sys/socket.h>

#include <optional>
#include <string_view>

#include "async_server/async_socket.h"
#include "common/conversation.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace hs::async {
namespace {

// How long accepting pauses when the process is out of descriptors.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);

// Tells `conversation` what a read brought.
void Tell(Conversation& conversation, ReadResult result, std::string_view bytes, absl::Time now) {
  switch (result) {
    case ReadResult::kData:
      return conversation.Received(bytes, now);
    case ReadResult::kClosed:
      return conversation.PeerClosed();
    case ReadResult::kTimeout:
      return conversation.TimedOut();
    case ReadResult::kStop:        // the driver loop tells the conversation
    case ReadResult::kWouldBlock:  // not passed here
      return;
  }
}

Task<absl::Status> Send(AsyncSocket& conn, const ResponsePlan& plan) {
  if (const int file = plan.SendfileFd(); file >= 0) {
    // MSG_MORE: the head waits in the kernel for the file, so a response starts as one segment.
    const absl::Status status = co_await conn.Send(plan.head, {}, /*more=*/true);
    if (!status.ok()) co_return status;
    co_return co_await conn.SendFile(file, plan.file_offset, plan.file_size);
  }
  // The head and a body from memory in one sendmsg().
  co_return co_await conn.Send(plan.head, plan.InMemoryBody());
}

}  // namespace

Task<> ServeConnection(EventLoop& loop, Fd client, const ServerOptions& options,
                       const DocumentRoot& root, std::optional<Unparked> unparked) {
  AsyncSocket conn(loop, std::move(client), /*already_watched=*/unparked.has_value());
  const int fd = conn.fd();
  const ConversationPolicy policy{.delay = options.delay, .served_by = options.served_by};
  Conversation conversation = unparked ? Conversation(root, policy, unparked->idle, fd)
                                       : Conversation(root, policy, loop.Now(), fd);
  if (!unparked) HS_VLOG(fd, "connection opened");
  if (unparked && unparked->why == EventLoop::Wake::kTimeout) conversation.TimedOut();
  for (;;) {
    if (ShutdownRequested()) conversation.ShutdownBegan(ShutdownStartedAt());
    const Step step = conversation.Next(loop.Now());
    switch (step.kind) {
      case Step::Kind::kRead: {
        std::string_view bytes;
        ReadResult result = conn.TryRead(bytes);
        if (result == ReadResult::kWouldBlock) {
          if (const std::optional<IdleConversation> idle = conversation.Idle()) {
            // Nothing to do until the client speaks: the loop keeps the socket and this
            // little state, and this coroutine ends (see "Parking" in event_loop.h).
            loop.Park(conn.Release(), step.until, step.wake_on_shutdown, *idle);
            co_return;
          }
          result = co_await conn.Read(bytes, step.until, step.wake_on_shutdown);
        }
        Tell(conversation, result, bytes, loop.Now());
        break;
      }
      case Step::Kind::kSleep:
        // Suspends this coroutine only: the loop goes on serving every other client. A blocking
        // sleep here (absl::SleepFor, as the blocking models do) would stop the one thread that
        // serves everyone: six delayed requests would take six delays instead of one.
        co_await loop.Sleep(step.until - loop.Now());
        break;
      case Step::Kind::kSend:
        if (absl::Status sent = co_await Send(conn, *step.response); sent.ok()) {
          conversation.Sent(loop.Now());
        } else {
          HS_VLOG(fd, "send failed: %s", sent.message());
          conversation.SendFailed();
        }
        break;
      case Step::Kind::kClose:
        if (step.linger == Step::Linger::kYes ||
            (step.linger == Step::Linger::kIfUnreadInput && HasUnreadInput(fd))) {
          co_await conn.LingeringClose();
        }
        co_return;
    }
  }
}

Task<> AcceptClients(EventLoop& loop, SharedListener& listener, const ServerOptions& options,
                     const DocumentRoot& root) {
  const int fd = listener.fd();
  loop.OnUnpark([&](Fd client, const IdleConversation& idle, EventLoop::Wake why) {
    return ServeConnection(loop, std::move(client), options, root, Unparked{idle, why});
  });
  loop.WatchListener(fd);
  while (!ShutdownRequested()) {
    absl::StatusOr<Fd> client = AcceptClient(fd, SOCK_NONBLOCK);
    if (client.ok()) {
      // Runs at once, up to its first wait (usually a recv() that says EAGAIN), then we go on
      // accepting until the queue is empty.
      loop.Spawn(ServeConnection(loop, *std::move(client), options, root));
    } else if (absl::IsUnavailable(client.status())) {
      // EAGAIN: the queue is empty (or another loop was quicker). Wait for the next connection,
      // or for shutdown.
      co_await loop.Readable(fd, absl::InfiniteFuture(), /*stop_aware=*/true);
    } else {
      // Out of descriptors (EMFILE/ENFILE): the connection stays queued and the listener stays
      // readable. Retrying at once would spin at 100% CPU; so would leaving the listener in a
      // level-triggered epoll nobody reads. Step out of epoll, pause, then try again.
      HS_VLOG(-1, "%s; pausing accepts", client.status().message());
      loop.Unwatch(fd);
      co_await loop.Sleep(kAcceptPause);
      loop.WatchListener(fd);
    }
  }
  HS_VLOG(-1, "shutdown: taking the accept queue, letting go of the listener");
  for (Fd& client : AcceptQueued(fd, SOCK_NONBLOCK)) {
    loop.Spawn(ServeConnection(loop, std::move(client), options, root));
  }
  loop.Unwatch(fd);
  listener.LetGo();
}

}  // namespace hs::async
