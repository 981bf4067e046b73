// The sync half of thread_pool_server (half-sync/half-async): what a worker does with a
// connection the poller (pool_server/poller.h) handed it. It runs the connection's conversation
// with ordinary blocking calls -- the -d sleep, sending the response -- until the conversation
// would have to wait for the client -- Step kRead and recv() says nothing has arrived, or kSend
// and the send buffer is full -- and then gives the connection back: waiting is the poller's job,
// so an idle client, a slow sender or a slow reader costs a place in its epoll, not a worker.
// Read ServeTurn beside common/connection.cc's ServeConnection: the same steps; kRead and kSend
// differ (look once, never wait).
#pragma once

#include <memory>
#include <optional>

#include "common/conversation.h"
#include "common/document_root.h"
#include "common/send_response.h"
#include "common/socket.h"
#include "common/timer_queue.h"

namespace hs {

// One client connection between its turns: the socket and its conversation. It is always held by
// exactly one owner, through a unique_ptr: the poller while it waits for its client, the queue,
// or the worker serving it -- so the conversation, which has no lock, is only ever touched by
// one thread at a time (the WorkQueue's mutex and the poller's hand-back lock order the moves).
struct PooledConnection : TimerEntry {  // deadline: when the wait it is parked for ends
  PooledConnection(Fd client, const DocumentRoot& root, ConversationPolicy policy, absl::Time now)
      : socket(std::move(client)), conversation(root, std::move(policy), now, socket.get()) {}

  Fd socket;  // non-blocking
  Conversation conversation;
  // Of the wait it is parked for: shutdown ends it early (a connection with nothing begun must
  // hear that shutdown began: an answered one closes, a fresh one gets the grace).
  bool wake_on_shutdown = false;
  // Parked while an answer is half sent: it waits for room in the send buffer (EPOLLOUT), not
  // for bytes. A client slow to read costs a place in the poller, not a worker.
  std::optional<PartialSend> sending;
  bool in_epoll = false;  // the poller's: registered with its epoll before
};
using ConnectionPtr = std::unique_ptr<PooledConnection>;

// Runs `connection`'s conversation until it must wait for the client, and returns it with
// `deadline`, `wake_on_shutdown` and `sending` set for that wait; or until the conversation is
// over, and then closes it (gracefully when the conversation says so) and returns nullptr. A
// connection whose wait has ended without bytes (its deadline passed) learns it here: TimedOut.
ConnectionPtr ServeTurn(ConnectionPtr connection);

}  // namespace hs
