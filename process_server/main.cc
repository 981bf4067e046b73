// process_server -- a new process per connection: fork() after accept().
//
// The parent accepts; a forked child serves the connection and exits. Children share no
// writable memory (copy-on-write), so no locks, and a crash in one connection harms no other.
// Cost: a fork() per connection (page tables copied, ~0.1-1 ms) and one process per open
// keep-alive connection, held until the client leaves or the idle (5 s) / request (10 s)
// timeouts from common/ close it. What breaks it: many simultaneous clients exhaust the process
// limit or memory; unreaped children pile up as zombies (hence common/children.h's reaper).
// Use it when isolation matters more than speed (inetd, early Apache, the classic CGI server).
// Shutdown: RunAcceptLoop stops accepting, takes the kernel's queue (a child each) and closes
// the listener; then the parent tells every child to stop (idle keep-alive children close, busy
// ones finish their request) and waits for them all.
#include "common/children.h"
#include "common/connection.h"
#include "common/server.h"

int main(int argc, char** argv) {
  hs::Server server = hs::StartServer(
      argc, argv,
      {.program = "process_server", .description = "HTTP server, a process per connection"});
  hs::Children children;
  hs::PreferTheAcceptor();  // see children.h: else 1,000 busy children starve the acceptor

  hs::RunAcceptLoop(server.listener, [&](hs::Fd client) {
    children.Fork("process_server", [&] {  // the child: serve this one connection, then leave
      server.listener.reset();             // accepting is the parent's job
      hs::ServeConnection(std::move(client), server.options, server.root);
    });
    // The parent's copy of `client` closes here; the child's stays open until it is done.
  });
  children.StopAll();
  return 0;
}
