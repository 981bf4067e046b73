// thread_server -- a new thread per connection.
//
// The main thread accepts; every connection gets its own std::thread running ServeConnection, so
// a slow client (or -d) blocks only its own thread. Threads share the address space: everything
// they touch together must be immutable (options, root) or locked (the list of threads).
// Cost: a thread creation per connection (tens of us, 8 MiB of stack reserved) and one thread per
// open keep-alive connection, held until the client leaves or the idle (5 s) / request (10 s)
// timeouts from common/ close it. What breaks it: thousands of simultaneous clients exhaust
// memory or the thread limit. Use it for moderate numbers of clients that each block a while.
// Every thread is joined, never detached (thread_server/connection_threads.h): soon after it ends
// and, at shutdown, all that remain -- so no thread outlives the server or piles up while it runs.
#include "common/connection.h"
#include "common/server.h"
#include "thread_server/connection_threads.h"

int main(int argc, char** argv) {
  hs::Server server = hs::StartServer(
      argc, argv,
      {.program = "thread_server", .description = "HTTP server, a thread per connection"});
  hs::ConnectionThreads threads;

  hs::RunAcceptLoop(server.listener, [&](hs::Fd client) {
    threads.Start([&server, client = std::move(client)]() mutable {
      hs::ServeConnection(std::move(client), server.options, server.root);
    });
  });
  threads.JoinAll();
  return 0;
}
