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

// Serves `client` until it closes, times out, misbehaves, or shutdown closes it while idle.
// `policy.delay` is taken from `options`.
void ServeConnection(Fd client, const ServerOptions& options, const DocumentRoot& root,
                     ConversationPolicy policy = {});

// Accepts clients on `listener` and hands each to `serve` until shutdown is requested. Then it
// takes what the kernel had queued (clients whose handshake completed before the signal), closes
// the listener -- so a client arriving later is refused at once instead of waiting in a queue
// nobody reads -- and only then hands the taken clients to `serve`. EMFILE/ENFILE pause
// accepting briefly instead of spinning.
//
// A listener shared with other processes (the process pool) is different: every worker holds a
// copy, and the socket stays open until the last copy closes. So after the signal a worker goes
// on taking clients one at a time -- queued ones, and any that arrive while `others_busy()` says
// another worker still holds its copy while serving -- and closes its copy when nobody is busy
// and nothing waits: a client arriving mid-shutdown is served at once by an idle worker, not
// queued behind a busy one and then reset.
void RunAcceptLoop(Fd& listener, const std::function<void(Fd)>& serve,
                   const std::function<bool()>& others_busy = nullptr);

}  // namespace hs
