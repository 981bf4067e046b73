// single_server -- the iterative model: one client at a time.
//
// The main thread accepts a connection, serves it to the end, then accepts the next. Nothing
// runs concurrently, so nothing is shared and nothing needs a lock -- the simplest server there
// is, and the baseline the other five models are measured against.
// Cost: none per connection. What breaks it: one slow client (or -d) makes everyone else wait
// in the kernel's accept queue. For the same reason it answers ONE request per connection and
// closes (Connection: close): honouring keep-alive would let a single idle client hold the only
// server thread for the whole idle timeout and starve every other client.
// Use it to learn the protocol; never in front of more than one user.
#include "common/connection.h"
#include "common/server.h"

int main(int argc, char** argv) {
  hs::Server server = hs::StartServer(
      argc, argv, {.program = "single_server", .description = "Iterative HTTP server"});

  hs::RunAcceptLoop(server.listener, [&](hs::Fd client) {
    hs::ServeConnection(std::move(client), server.options, server.root, {.keep_alive = false});
  });
  return 0;
}
