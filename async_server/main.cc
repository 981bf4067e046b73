// async_server -- the event-loop model, C++'s asyncio: one thread, one epoll loop, and one
// coroutine per connection, written as straight-line code (connection.cc) that suspends at
// every wait instead of blocking: a blocking call's worth of waiting costs no thread.
// Cost: a coroutine frame of a few hundred bytes per connection and no thread or process, so it
// holds tens of thousands of idle keep-alive clients; switching between clients is a function
// call, not a context switch.
// What breaks it: one blocking call (a sleep, a blocking read, a slow disk) or one long
// computation stalls every client at once. And one loop uses one core: --workers N runs N
// independent loops, one thread each, each with its own SO_REUSEPORT listener (the kernel
// spreads new connections across them, as across nginx's worker processes).
#include <sys/resource.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "async_server/connection.h"
#include "async_server/event_loop.h"
#include "common/log.h"
#include "common/server.h"

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

void RunLoop(hs::Fd& listener, const hs::Server& server) {
  hs::async::EventLoop loop;
  loop.Spawn(hs::async::AcceptClients(loop, listener, server.options, server.root));
  loop.Run();  // until shutdown has drained the accept queue and every connection has ended
}

}  // namespace

int main(int argc, char** argv) {
  const hs::CommandLineSpec spec{
      .program = "async_server",
      .description = "Event-loop HTTP server: epoll and C++20 coroutines",
      .accepts_workers = true,
      .workers_help = "independent event loops, one thread each (default 1)"};
  // Several loops need SO_REUSEPORT on every listener, the first one included, so --workers is
  // read before StartServer binds (StartServer reports a bad command line itself).
  absl::StatusOr<hs::ParsedCommandLine> parsed = hs::ParseCommandLine(argc, argv, spec);
  const int workers = parsed.ok() ? std::max(1, parsed->options.workers) : 1;
  hs::Server server = hs::StartServer(argc, argv, spec, /*reuse_port=*/workers > 1);
  RaiseFileLimit();

  std::vector<hs::Fd> listeners;  // the other loops' listeners, on the same port
  for (int i = 1; i < workers; ++i) {
    absl::StatusOr<hs::Fd> listener = hs::ListenTcp(hs::LocalPort(server.listener.get()), true);
    if (!listener.ok()) {
      hs::LogInfo(absl::StrCat("async_server: error: ", listener.status().message()));
      return 1;
    }
    listeners.push_back(*std::move(listener));
  }
  std::vector<std::thread> threads;
  for (hs::Fd& listener : listeners) {
    threads.emplace_back([&server, &listener] { RunLoop(listener, server); });
  }
  RunLoop(server.listener, server);
  for (std::thread& thread : threads) thread.join();
  return 0;
}
