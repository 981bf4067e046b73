// thread_pool_server -- a fixed pool of worker threads fed by a hand-written queue.
//
// N worker threads (--workers, default 4 per core, at least 4) start up front; the main thread
// accepts and pushes each connection into a bounded WorkQueue (pool_server/work_queue.h), and an
// idle worker pops it and serves it. Cost: N threads once, no thread creation per connection;
// the queue's lock is the only shared state. What breaks it: a worker is held for as long as
// its connection lasts, so N slow or idle keep-alive clients fill the pool (the idle 5 s and
// request 10 s timeouts from common/ bound how long); then the queue fills, the acceptor waits,
// and new clients wait in the kernel's backlog. (Busy keep-alive clients do yield: while the
// queue is not empty, each answer closes its connection.) Use it for a known, bounded load.
// Shutdown: RunAcceptLoop stops accepting and drains the kernel's queue into ours; Close() then
// lets the workers serve what is queued, see nullopt and return; main joins them all.
#include <algorithm>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/connection.h"
#include "common/log.h"
#include "common/server.h"
#include "common/threads.h"
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

  // One waiting connection per worker: enough that a worker finishing finds its next client
  // without waiting for the acceptor; beyond that, clients wait in the kernel (back-pressure).
  hs::WorkQueue<hs::Fd> queue(workers);
  std::vector<std::thread> pool;
  const absl::Status started = hs::StartThreads(pool, 1, workers, "worker thread", [&] {
    while (std::optional<hs::Fd> client = queue.Pop()) {
      hs::ServeConnection(*std::move(client), server.options, server.root,
                          {.others_waiting = [&] { return queue.HasWaiting(); }});
    }
  });
  if (started.ok()) {
    hs::RunAcceptLoop(server.listener, [&](hs::Fd client) { queue.Push(std::move(client)); });
  } else {
    hs::LogInfo(absl::StrCat(server.options.program, ": error: ", started.message()));
  }
  queue.Close();
  for (std::thread& worker : pool) worker.join();
  return started.ok() ? 0 : 1;
}
