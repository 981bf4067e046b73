// thread_pool_server -- half-sync/half-async: N worker threads behind one poller thread.
//
// The main thread accepts and waits, in one epoll, on every connection that waits for its client
// (pool_server/poller.h). A connection with work -- bytes arrived, a deadline passed, shutdown --
// goes through a bounded WorkQueue (pool_server/work_queue.h) to one of N workers (--workers,
// default 4 per core, at least 4), which runs it with blocking calls until it would wait for the
// client again, then gives it back (ServeTurn, pool_server/pooled_connection.h). Apache's event
// MPM and Java's NIO connectors work so. Cost: N threads once, and a hand-off per request. Idle
// keep-alive and slow clients cost a descriptor each, not a worker. What breaks it: N slow
// requests (-d, slow work): they hold the N workers, the queue fills, and new clients wait in
// the kernel's backlog. Shutdown: the poller takes the accept queue, closes the listener, wakes
// what must act and returns when every connection has closed; Close() ends the workers.
#include <algorithm>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/server.h"
#include "common/threads.h"
#include "pool_server/poller.h"
#include "pool_server/pooled_connection.h"
#include "pool_server/work_queue.h"

int main(int argc, char** argv) {
  hs::Server server =
      hs::StartServer(argc, argv,
                      {.program = "thread_pool_server",
                       .description = "HTTP server with a pool of worker threads",
                       .accepts_workers = true,
                       .workers_help = "worker threads (default: 4 per core, at least 4)"});
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int workers = server.options.workers > 0 ? server.options.workers : std::max(4, 4 * cores);

  // Ready connections only. One waiting per worker: enough that a worker finishing finds its next
  // one without waiting for the poller; beyond that the poller waits, and stops accepting
  // (back-pressure: new clients wait in the kernel's backlog).
  hs::WorkQueue<hs::ConnectionPtr> queue(workers);
  hs::Poller poller(server.listener, server.options, server.root);
  std::vector<std::thread> pool;
  absl::Status status = hs::StartThreads(pool, 1, workers, "worker thread", [&] {
    while (std::optional<hs::ConnectionPtr> ready = queue.Pop()) {
      poller.GiveBack(hs::ServeTurn(*std::move(ready)));  // waiting for its client, or closed
    }
  });
  if (status.ok()) {
    status = poller.Run([&](hs::ConnectionPtr ready) { queue.Push(std::move(ready)); });
  }
  if (!status.ok())
    hs::LogInfo(absl::StrCat(server.options.program, ": error: ", status.message()));
  queue.Close();
  for (std::thread& worker : pool) worker.join();
  return status.ok() ? 0 : 1;
}
