// The async model's per-connection handler and acceptor: coroutines written as straight-line
// code. Lay ServeConnection beside common/connection.cc's: the steps and the decisions
// (common/exchange.h) are the same; where the blocking loop waits, the coroutine co_awaits.
#pragma once

#include "async_server/event_loop.h"
#include "async_server/task.h"
#include "common/cli.h"
#include "common/file_responder.h"
#include "common/socket.h"

namespace hs::async {

// Serves `client` until it closes, times out, misbehaves, or shutdown closes it while idle.
Task<> ServeConnection(EventLoop& loop, Fd client, const ServerOptions& options,
                       const DocumentRoot& root);

// Accepts clients on `listener` and spawns a ServeConnection for each until shutdown is
// requested; then drains the kernel's accept queue (clients whose handshake completed before the
// signal are served, not reset) and returns. Out of descriptors, it pauses instead of spinning.
Task<> AcceptClients(EventLoop& loop, const Fd& listener, const ServerOptions& options,
                     const DocumentRoot& root);

}  // namespace hs::async
