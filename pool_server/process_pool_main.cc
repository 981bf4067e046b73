// process_pool_server -- a self-sizing pool of pre-forked worker processes (Apache prefork).
//
// The parent listens, forks --workers workers (default one per core) and then only supervises
// (pool_server/prefork.h): it keeps --min-spare of them idle, forking more as clients arrive,
// and retires idle ones beyond --max-spare, up to --max-workers. Each worker takes one client at
// a time off the shared listener -- woken alone, not with every idle worker (EPOLLEXCLUSIVE) --
// and writes what it is doing into the scoreboard, in shared memory (pool_server/scoreboard.h):
// the parent sizes the pool from it, and `kill -USR1 <parent>` prints it. Cost: a process per
// client being served, forked ahead of need, none per connection. What breaks it: memory (a
// process per concurrent client), and the --max-workers cap -- slow or idle clients beyond it
// wait in the kernel's queue (busy keep-alive clients yield: while one waits, a connection that
// has had its turn closes with its next answer). A crashed worker loses only its connection.
// Shutdown: see RunAcceptLoop.
#include <utility>

#include "common/connection.h"
#include "common/server.h"
#include "pool_server/prefork.h"
#include "pool_server/scoreboard.h"

// A worker, in scoreboard slot `me`: serves one client at a time until shutdown or retirement.
void ServeClients(hs::Server& server, hs::Prefork& pool, hs::WorkerSlot& me) {
  const int listener = server.listener.get();
  hs::Scoreboard& board = pool.board();
  // A client waits and no worker is free: a connection's next answer closes it once it has had
  // its turn, so this worker moves on rather than keep one client while others starve. The turn
  // is kFairTurn once the pool has all the workers it may have; while it is still growing it is
  // nothing (each answer closes), so the clients waiting for the workers being forked are let in
  // at once, not one turn per worker there is yet (at 1,000 clients the first second of a 100 ms
  // turn with a few dozen workers left hundreds of clients unanswered).
  auto turn = [&] {
    if (board.Idle() > 0 || !hs::HasPendingConnection(listener)) return absl::InfiniteDuration();
    return board.Live() >= static_cast<int>(board.size()) ? hs::kFairTurn : absl::ZeroDuration();
  };
  auto serve = [&](hs::Fd client) {
    pool.TurnedBusy(me);
    const uint64_t served = me.requests;
    hs::ServeConnection(std::move(client), server.options, server.root, {.turn = turn},
                        [&](hs::Step::Kind next, int answered) {
                          me.Doing(next);
                          me.requests = served + answered;
                        });
    pool.TurnedIdle(me);
  };
  hs::ExclusiveAccept waiter(listener);  // wakes this worker alone for a new client
  hs::RunAcceptLoop(server.listener, serve,
                    {.others_busy = [&] { return board.Busy() > 0; },
                     .retired = [&] { return me.retire.load(); },
                     .wait_for_client = [&] { return waiter.Wait(); }});
}

int main(int argc, char** argv) {
  hs::Server server =
      hs::StartServer(argc, argv,
                      {.program = "process_pool_server",
                       .description = "HTTP server with a self-sizing pool of pre-forked workers",
                       .accepts_workers = true,
                       .accepts_pool_sizing = true,
                       .workers_help = "worker processes to start with, and never fewer "
                                       "(default: one per core)"});
  hs::Prefork pool(server.options);  // the scoreboard: mapped before the first fork
  pool.Supervise([&](hs::WorkerSlot& me) { ServeClients(server, pool, me); });

  // Shutdown: close our copy of the listener at once -- the workers serve what is queued, and
  // the socket closes with the last worker's copy (RunAcceptLoop explains when) -- then stop and
  // reap every worker (one killed while busy does not hold the others back: Release).
  server.listener.reset();
  pool.StopAll();
  return 0;
}
