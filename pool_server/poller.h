// The async half of thread_pool_server (half-sync/half-async; Apache's event MPM, Java's NIO
// connectors): one thread -- main, which also accepts -- waits in one epoll on every connection
// that waits for its client (an idle keep-alive connection, a request still arriving), and
// hands a connection to the workers only when it has work: bytes (or EOF) arrived, its deadline
// passed, or shutdown concerns it. A worker runs it (ServeTurn, pool_server/pooled_connection.h)
// and gives it back. The poller never reads a byte nor decides anything about HTTP: every rule
// lives in the Conversation; the poller only waits.
//
// Who holds a connection (a ConnectionPtr, moved -- never shared):
//   accept -> [hand over] -> queue -> worker -> [give back] -> parked here -> [hand over] -> ...
//                                          \-> closed (the worker drops it)
// Parked connections are registered with EPOLLONESHOT, so a connection's readiness is reported
// once and it does not fire again while a worker has it; deadlines live in a TimerQueue
// (common/timer_queue.h, shared with async_server's event loop), whose earliest is epoll_wait's
// timeout. Workers give connections back through a short locked list and an eventfd that wakes
// the poller; they never wait for the poller, so the poller may block on a full WorkQueue
// (back-pressure: it stops accepting, and new clients wait in the kernel's backlog).
//
// Shutdown (the shutdown eventfd is in the same epoll): stop accepting, take the kernel's accept
// queue and close the listener; tell every parked connection that shutdown began and hand over
// those whose wait shutdown ends (an answered idle one closes at once, a fresh one waits again
// for the shared grace; a request under way keeps its request timeout). Run() returns when no
// connection is left anywhere.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/cli.h"
#include "common/document_root.h"
#include "common/socket.h"
#include "common/timer_queue.h"
#include "pool_server/pooled_connection.h"

namespace hs {

class Poller {
 public:
  // `listener`: non-blocking; the poller closes it at shutdown.
  Poller(Fd& listener, const ServerOptions& options, const DocumentRoot& root);
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // The poller's thread: accepts, waits, and passes every connection that has work to
  // `hand_over` (a WorkQueue's Push, which may block). Returns after shutdown, once every
  // connection has closed -- none is parked here, queued, or with a worker. An error: the system
  // refused the poller its epoll or eventfd.
  absl::Status Run(const std::function<void(ConnectionPtr)>& hand_over);

  // Any worker, after ServeTurn: `connection` waits for its client again, or is null (it closed).
  // Never blocks for long (a short lock).
  void GiveBack(ConnectionPtr connection);

 private:
  void Accept();
  ConnectionPtr NewConnection(Fd client);
  void BeginShutdown();
  void TakeBack();
  void Park(ConnectionPtr connection);
  void HandOver(ConnectionPtr connection);
  void HandOverParked(int fd);
  void HandOverExpired();
  void Listen(bool on);
  int TimeoutMs() const;
  bool Finished();

  Fd& listener_;
  const ServerOptions& options_;
  const DocumentRoot& root_;
  const std::function<void(ConnectionPtr)>* hand_over_ = nullptr;  // during Run()
  Fd epoll_;
  Fd wake_;  // eventfd: a worker gave a connection back (or the last one closed at shutdown)
  bool listening_ = false;                                 // the listener is in the epoll
  absl::Time accept_paused_until_ = absl::InfinitePast();  // out of descriptors (EMFILE)
  bool shutdown_ = false;
  // Connections waiting for their clients, by descriptor: the poller's alone.
  std::vector<ConnectionPtr> parked_;
  size_t parked_count_ = 0;
  TimerQueue deadlines_;               // of the parked connections
  std::vector<ConnectionPtr> taking_;  // TakeBack's buffer, reused

  std::mutex mu_;  // std::mutex rather than absl::Mutex: see work_queue.h (TSan)
  std::vector<ConnectionPtr> given_back_;  // guarded by mu_
  size_t with_workers_ = 0;                // guarded by mu_: handed over, not yet given back
  bool stopping_ = false;                  // guarded by mu_: shutdown_, for the workers
};

}  // namespace hs
