// The connection coroutine. Read it beside common/connection.cc: same steps, same decisions;
// `co_await conn.Read(...)` where the blocking loop calls ReadMore(), `co_await loop.Sleep(...)`
// where it calls absl::SleepFor(), `co_await SendResponse(...)` where it blocks in send().
#include "async_server/connection.h"

#include <sys/socket.h>

#include <optional>
#include <string>

#include "async_server/async_socket.h"
#include "common/exchange.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace hs::async {
namespace {

// An idle connection whose buffer grew past this (a request with large headers) gives it back.
constexpr size_t kIdleBufferBytes = 1024;
// How long accepting pauses when the process is out of descriptors.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);

Task<absl::Status> SendResponse(AsyncSocket& conn, const ResponsePlan& plan) {
  const bool has_body = plan.file.valid() || !plan.body.empty();
  // MSG_MORE: the head waits in the kernel for the body, so a small response is one segment.
  const absl::Status status = co_await conn.Send(plan.head, /*more=*/has_body);
  if (!status.ok()) co_return status;
  if (plan.file.valid()) co_return co_await conn.SendFile(plan.file.get(), plan.file_size);
  co_return co_await conn.Send(plan.body);
}

}  // namespace

Task<> ServeConnection(EventLoop& loop, Fd client, const ServerOptions& options,
                       const DocumentRoot& root) {
  AsyncSocket conn(loop, std::move(client));
  const int fd = conn.fd();
  if (!conn.watched()) {
    HS_VLOG(fd, "epoll refused the connection; closing it");
    co_return;
  }
  HS_VLOG(fd, "connection opened");
  std::string buffer;
  int answered = 0;
  absl::Time idle_since = loop.Now();
  absl::Time first_byte_at;
  for (;;) {
    // 1. Wait until the buffer holds a whole request (or a protocol error).
    std::optional<Exchange> exchange;
    while (!(exchange = NextExchange(buffer, root, !ShutdownRequested()))) {
      if (CloseIdleConnection(ShutdownRequested(), answered, buffer.size())) {
        HS_VLOG(fd, "shutdown: closing idle connection");
        co_return;
      }
      const bool started = !buffer.empty();
      const bool idle_keep_alive = !started && answered > 0;
      const ReadResult read = co_await conn.Read(
          buffer, ReadDeadline(started, idle_since, first_byte_at), /*stop_aware=*/idle_keep_alive);
      switch (read) {
        case ReadResult::kData:
          if (!started) first_byte_at = loop.Now();
          continue;
        case ReadResult::kStop:
          continue;  // CloseIdleConnection() above decides
        case ReadResult::kClosed:
          HS_VLOG(fd, "client closed the connection");
          co_return;
        case ReadResult::kTimeout:
          if (!started) {
            HS_VLOG(fd, "idle timeout");
            co_return;
          }
          HS_VLOG(fd, "request timeout: 408");
          const ResponsePlan timeout = ErrorResponse(408);
          (void)co_await SendResponse(conn, timeout);
          co_await conn.LingeringClose();
          co_return;
      }
    }

    // 2. Answer it, after the -d delay. co_await suspends this coroutine only: the loop goes on
    // serving every other client meanwhile. A blocking sleep here (absl::SleepFor, as the
    // blocking models do) would stop the one thread that serves everyone: six delayed requests
    // would take six delays instead of one.
    if (exchange->apply_delay && options.delay > absl::ZeroDuration()) {
      HS_VLOG(fd, "delaying %s", absl::FormatDuration(options.delay));
      co_await loop.Sleep(options.delay);
    }
    const ResponsePlan& response = exchange->response;
    HS_VLOG(fd, "%s %s -> %d", exchange->method, exchange->target, response.status);
    const absl::Status sent = co_await SendResponse(conn, response);
    if (!sent.ok()) {
      HS_VLOG(fd, "send failed: %s", sent.message());
      co_return;
    }
    ++answered;
    buffer.erase(0, exchange->consumed);
    idle_since = loop.Now();

    // 3. Keep the connection for the next request, or close it.
    if (response.close) {
      HS_VLOG(fd, "closing after response");
      if (LingerBeforeClose(response.status, buffer.size(), HasUnreadInput(fd))) {
        co_await conn.LingeringClose();
      }
      co_return;
    }
    if (!buffer.empty()) {
      first_byte_at = idle_since;  // a pipelined request is already here
    } else if (buffer.capacity() > kIdleBufferBytes) {
      std::string().swap(buffer);  // idle connections stay small
    }
  }
}

Task<> AcceptClients(EventLoop& loop, const Fd& listener, const ServerOptions& options,
                     const DocumentRoot& root) {
  loop.WatchListener(listener.get());
  while (!ShutdownRequested()) {
    absl::StatusOr<Fd> client = AcceptClient(listener.get(), SOCK_NONBLOCK);
    if (client.ok()) {
      // Runs at once, up to its first wait (usually a recv() that says EAGAIN), then we go on
      // accepting until the queue is empty.
      loop.Spawn(ServeConnection(loop, *std::move(client), options, root));
    } else if (absl::IsUnavailable(client.status())) {
      // EAGAIN: the queue is empty. Wait for the next connection, or for shutdown.
      co_await loop.Readable(listener.get(), absl::InfiniteFuture(), /*stop_aware=*/true);
    } else {
      // Out of descriptors (EMFILE/ENFILE): the connection stays queued, and no new edge will
      // announce it. Retrying at once would spin at 100% CPU; pause, then try again.
      HS_VLOG(-1, "%s; pausing accepts", client.status().message());
      co_await loop.Sleep(kAcceptPause);
    }
  }
  HS_VLOG(-1, "shutdown: draining the accept queue");
  // Non-blocking accepts until EAGAIN: clients whose handshake completed before the signal are
  // served (each gets its first answer, with Connection: close), not reset.
  for (;;) {
    absl::StatusOr<Fd> client = AcceptClient(listener.get(), SOCK_NONBLOCK);
    if (!client.ok()) break;
    loop.Spawn(ServeConnection(loop, *std::move(client), options, root));
  }
  loop.Forget(listener.get());
}

}  // namespace hs::async
