// async_server -- the event-loop model, C++'s asyncio: one thread, one epoll loop, and one
// coroutine per connection, written as straight-line code (connection.cc) that suspends at
// every wait instead of blocking: a blocking call's worth of waiting costs no thread.
// Cost: no thread or process per connection; a coroutine frame (about 1 KiB) while it works, and
// about 130 bytes while it waits for a request (parked in the loop: event_loop.h), so it holds
// tens of thousands of idle keep-alive clients; switching between clients is a function call,
// not a context switch.
// What breaks it: one blocking call (a sleep, a blocking read, a slow disk) or one long
// computation stalls every client at once. And one loop uses one core: --workers N runs N
// independent loops, one thread each, sharing one listening socket that each loop's epoll
// watches with EPOLLEXCLUSIVE (a new connection wakes one idle loop, not all; nginx's workers
// do the same). Not a SO_REUSEPORT listener per loop: a second server started on the same port
// would then bind it too and take a share of the clients.
#include <sys/resource.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "async_server/connection.h"
#include "async_server/event_loop.h"
#include "common/log.h"
#include "common/server.h"
#include "common/shutdown.h"
#include "common/threads.h"

namespace {

// Every connection is a descriptor, and the usual soft limit (1024) would cap the server far
// below what it can hold.
void RaiseFileLimit() {
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void RunLoop(hs::async::SharedListener& listener, const hs::Server& server) {
  hs::async::EventLoop loop;
  loop.Spawn(hs::async::AcceptClients(loop, listener, server.options, server.root));
  loop.Run();  // until shutdown has drained the accept queue and every connection has ended
}

}  // namespace

int main(int argc, char** argv) {
  hs::Server server =
      hs::StartServer(argc, argv,
                      {.program = "async_server",
                       .description = "Event-loop HTTP server: epoll and C++20 coroutines",
                       .accepts_workers = true,
                       .workers_help = "independent event loops, one thread each (default 1)"});
  RaiseFileLimit();

  const int loops = std::max(1, server.options.workers);
  hs::async::SharedListener listener(std::move(server.listener), loops);
  std::vector<std::thread> threads;  // loops 2..N; loop 1 runs on this thread
  const absl::Status started =
      hs::StartThreads(threads, 2, loops, "event loop thread", [&] { RunLoop(listener, server); });
  if (started.ok()) {
    RunLoop(listener, server);
  } else {
    hs::LogInfo(absl::StrCat(server.options.program, ": error: ", started.message()));
    hs::RequestShutdown();  // the loops already running drain and end
    for (size_t i = threads.size(); i < static_cast<size_t>(loops); ++i) listener.LetGo();
  }
  for (std::thread& thread : threads) thread.join();
  return started.ok() ? 0 : 1;
}
