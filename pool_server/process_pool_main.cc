// process_pool_server -- pre-forked worker processes sharing one listening socket.
//
// The parent listens, forks N workers (--workers, default one per core) and then only
// supervises. Each worker runs the plain accept loop on the shared non-blocking listener; the
// kernel hands a new connection to one of them (the others get EAGAIN) -- Apache prefork, nginx.
// Cost: N processes up front, none per connection. Shared: the listener, and a scoreboard in
// shared memory (pool_server/scoreboard.h) where each worker says whether it is busy.
// What breaks it: a worker serves one connection at a time, so N slow or idle keep-alive clients
// fill the pool (the idle 5 s and request 10 s timeouts bound how long) and the rest wait in the
// kernel's queue (busy keep-alive clients yield: while a connection waits, each answer closes).
// A crashed worker loses only its connection; the parent replaces it. Shutdown: every worker
// serves what is queued, and goes on taking clients while another is busy (RunAcceptLoop).
#include <poll.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/children.h"
#include "common/connection.h"
#include "common/log.h"
#include "common/server.h"
#include "common/shutdown.h"
#include "pool_server/scoreboard.h"

// Forks a worker into scoreboard slot `me`: it serves connections until shutdown.
void StartWorker(hs::Server& server, hs::Children& children, hs::Scoreboard& board,
                 hs::WorkerSlot& me) {
  me.pid = children.Fork("process_pool_server", [&] {
    const int listener = server.listener.get();
    auto serve = [&](hs::Fd client) {
      me.busy = true;
      hs::ServeConnection(std::move(client), server.options, server.root,
                          {.others_waiting = [&] { return hs::HasPendingConnection(listener); }});
      me.busy = false;
    };
    hs::RunAcceptLoop(server.listener, serve, [&] { return board.Busy() > 0; });
  });
  if (me.pid < 0) me.pid = 0;  // fork failed: the slot stays free, to be tried again
  HS_VLOG(-1, "started worker %d", me.pid.load());
}

// A worker that ended before shutdown is a failure worth a line; its slot is free again.
void OnWorkerExit(hs::Scoreboard& board, pid_t pid, int status) {
  board.Release(pid);
  if (hs::ShutdownRequested()) return;  // part of the shutdown
  hs::LogInfo(absl::StrCat("process_pool_server: worker ", pid, " ", hs::DescribeExit(status),
                           "; starting another"));
}

int main(int argc, char** argv) {
  hs::Server server =
      hs::StartServer(argc, argv,
                      {.program = "process_pool_server",
                       .description = "HTTP server with a pool of pre-forked worker processes",
                       .accepts_workers = true,
                       .workers_help = "worker processes (default: one per core)"});
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  hs::Scoreboard board(server.options.workers > 0 ? server.options.workers : std::max(1, cores));
  hs::Children children;
  auto on_exit = [&](pid_t pid, int status) { OnWorkerExit(board, pid, status); };

  // Supervise: keep every slot filled until shutdown begins -- at start, and when a worker dies.
  while (!hs::ShutdownRequested()) {
    for (size_t i = 0; i < board.size(); ++i) {
      if (board[i].pid == 0) StartWorker(server, children, board, board[i]);
    }
    pollfd wake[] = {{hs::ShutdownFd(), POLLIN, 0}, {children.reaped_fd(), POLLIN, 0}};
    ::poll(wake, 2, board.Live() < board.size() ? 1000 : -1);  // a fork failed: retry in 1 s
    children.Collect(on_exit);
  }

  // Shutdown: close our copy of the listener at once -- the workers serve what is queued, and
  // the socket closes with the last worker's copy (RunAcceptLoop explains when) -- then stop and
  // reap every worker (a worker killed while busy must not hold the others back: Release).
  server.listener.reset();
  children.StopAll(on_exit);
  return 0;
}
