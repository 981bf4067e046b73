// The blocking driver of a Conversation, for every blocking model: each worker (thread or
// process) waits on ONE socket -- plus the shutdown eventfd -- with a deadline, and the
// conversation (common/conversation.h) decides everything else. A model's main.cc only decides
// where (which thread or process) this runs. Compare async_server/connection.cc, where the event
// loop waits on ALL the sockets at once.
#pragma once

#include <functional>

#include "common/cli.h"
#include "common/conversation.h"
#include "common/document_root.h"
#include "common/socket.h"

namespace hs {

// Told before each step what the connection does next, and how many requests it has answered
// so far (the process pool's scoreboard shows both).
using StepObserver = std::function<void(Step::Kind next, int answered)>;

// Serves `client` until it closes, times out, misbehaves, or shutdown closes it while idle.
// `policy.delay` and `policy.served_by` are taken from `options`.
void ServeConnection(Fd client, const ServerOptions& options, const DocumentRoot& root,
                     ConversationPolicy policy = {}, const StepObserver& observe = nullptr);

// A listening socket shared with other processes (the process pool's workers): how a worker
// waits for a client, and when it lets go of its copy at shutdown (see RunAcceptLoop).
struct ListenerSharing {
  // Another worker is serving a connection (the pool's scoreboard says so).
  std::function<bool()> others_busy;
  // This worker alone is leaving (the pool retired it): at shutdown it closes its copy at once
  // and leaves the queue to the others. Optional.
  std::function<bool()> retired;
  // Waits until a client may be waiting (kReady) or shutdown has begun (kStop). Optional: by
  // default poll() on the listener and the shutdown eventfd.
  std::function<WaitResult()> wait_for_client;
};

// Accepts clients on `listener` and hands each to `serve` until shutdown is requested. Then it
// takes what the kernel had queued (clients whose handshake completed before the signal), closes
// the listener -- so a client arriving later is refused at once instead of waiting in a queue
// nobody reads -- and only then hands the taken clients to `serve`. EMFILE/ENFILE pause
// accepting briefly instead of spinning.
//
// A listener shared with other processes (`shared.others_busy` set: the process pool) is different:
// every worker holds a copy, and the socket stays open until the last copy closes. So after the
// signal a worker goes on taking clients one at a time -- queued ones, and any that arrive while
// `others_busy()` says another worker still holds its copy while serving -- and closes its copy
// when nobody is busy and nothing waits: a client arriving mid-shutdown is served at once by an
// idle worker, not queued behind a busy one and then reset. A retired worker closes its copy at
// once: the pool goes on without it.
void RunAcceptLoop(Fd& listener, const std::function<void(Fd)>& serve,
                   const ListenerSharing& shared = {});

}  // namespace hs
