// Start-up every server shares: parse the command line, install the shutdown handlers, open the
// document root, listen, and print "listening on port N, serving /absolute/folder" (always, so
// scripts and tests can find the port when they passed -p 0, and the user sees which folder is
// served: -f defaults to the current one). A folder without index.html gets a warning after it.
#pragma once

#include "common/cli.h"
#include "common/file_responder.h"
#include "common/socket.h"

namespace hs {

struct Server {
  ServerOptions options;
  DocumentRoot root;
  Fd listener;  // non-blocking; wait for it with poll/epoll
};

// Exits 2 on a bad command line, 1 when the port cannot be bound (naming the port).
Server StartServer(int argc, char** argv, const CommandLineSpec& spec);

}  // namespace hs
