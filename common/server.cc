#include "common/server.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace hs {

Server StartServer(int argc, char** argv, const CommandLineSpec& spec, bool reuse_port) {
  ServerOptions options = ParseCommandLineOrExit(argc, argv, spec);
  SetVerbose(options.verbose);
  IgnoreSigpipe();
  InstallShutdownHandlers();
  absl::StatusOr<DocumentRoot> root = DocumentRoot::Open(options.folder);
  if (!root.ok()) {
    LogInfo(absl::StrCat(options.program, ": error: ", root.status().message()));
    std::exit(2);
  }
  absl::StatusOr<Fd> listener = ListenTcp(options.port, reuse_port);
  if (!listener.ok()) {
    LogInfo(absl::StrCat(options.program, ": error: ", listener.status().message()));
    std::exit(1);
  }
  LogInfo(absl::StrCat("listening on port ", LocalPort(listener->get())));
  return Server{std::move(options), *std::move(root), *std::move(listener)};
}

}  // namespace hs
