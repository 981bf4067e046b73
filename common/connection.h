// The blocking connection loop every blocking model calls: read, parse, delay if asked, respond,
// keep the connection alive or close it, with timeouts. A model's main.cc only decides where
// (which thread or process) this runs.
#pragma once

#include <functional>

#include "common/cli.h"
#include "common/file_responder.h"
#include "common/socket.h"

namespace hs {

struct ConnectionPolicy {
  // false: answer one request, then close (single_server: an idle keep-alive client would
  // otherwise block everyone behind it).
  bool keep_alive = true;
  // The pools: true while other clients wait for a worker. Each answer given meanwhile closes
  // its connection (Connection: close), so the worker moves on to the next client instead of
  // serving one keep-alive client forever while the rest starve (Apache's prefork problem).
  std::function<bool()> others_waiting;
};

// Serves `client` until it closes, times out, misbehaves, or shutdown closes it while idle.
void ServeConnection(Fd client, const ServerOptions& options, const DocumentRoot& root,
                     const ConnectionPolicy& policy = {});

// Accepts clients on `listener` and hands each to `serve` until shutdown is requested; then
// drains the kernel's accept queue with non-blocking accepts (clients that completed their
// handshake before the signal are served, not reset) and returns. EMFILE/ENFILE pause accepting
// briefly instead of spinning.
void RunAcceptLoop(const Fd& listener, const std::function<void(Fd)>& serve);

}  // namespace hs
