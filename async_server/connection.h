// The async model's per-connection driver and acceptor: coroutines written as straight-line
// code. Lay ServeConnection beside common/connection.cc's: the same Conversation
// (common/conversation.h) decides everything; where the blocking driver waits in poll() on one
// socket, the coroutine co_awaits the loop, which waits on all of them.
#pragma once

#include <atomic>
#include <optional>

#include "async_server/event_loop.h"
#include "async_server/task.h"
#include "common/cli.h"
#include "common/document_root.h"
#include "common/socket.h"

namespace hs::async {

// A parked connection taken back: its conversation's state, and why its wait ended.
struct Unparked {
  IdleConversation idle;
  EventLoop::Wake why;
};

// Serves `client` until it closes, times out, misbehaves, or shutdown closes it while idle --
// or until it waits for a request with nothing received, when it parks the connection in the
// loop and ends; the loop starts it again with `unparked` when something happens.
Task<> ServeConnection(EventLoop& loop, Fd client, const ServerOptions& options,
                       const DocumentRoot& root, std::optional<Unparked> unparked = std::nullopt);

// The listening socket, shared by every loop (--workers N). At shutdown each loop takes what
// the kernel has queued and lets go; the last one to let go closes it, so that a client arriving
// later is refused at once instead of waiting in a queue nobody reads.
class SharedListener {
 public:
  SharedListener(Fd fd, int loops) : fd_(std::move(fd)), holders_(loops) {}
  int fd() const { return fd_.get(); }
  void LetGo() {
    if (holders_.fetch_sub(1) == 1) fd_.reset();
  }

 private:
  Fd fd_;
  std::atomic<int> holders_;
};

// Accepts clients on `listener` and spawns a ServeConnection for each until shutdown is
// requested; then takes what the kernel had queued (clients whose handshake completed before
// the signal are served, not reset), lets go of the listener, and returns. Out of descriptors,
// it pauses instead of spinning.
Task<> AcceptClients(EventLoop& loop, SharedListener& listener, const ServerOptions& options,
                     const DocumentRoot& root);

}  // namespace hs::async
