#include "common/server.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/mime.h"
#include "common/shutdown.h"

namespace hs {

Server StartServer(int argc, char** argv, const CommandLineSpec& spec) {
  ServerOptions options = ParseCommandLineOrExit(argc, argv, spec);
  SetVerbose(options.verbose);
  IgnoreSigpipe();
  InstallShutdownHandlers();
  const std::string mime_source = LoadMimeTypes();  // before any thread or worker exists
  absl::StatusOr<DocumentRoot> root = DocumentRoot::Open(options.folder);
  if (!root.ok()) {
    LogInfo(absl::StrCat(options.program, ": error: ", root.status().message()));
    std::exit(2);
  }
  absl::StatusOr<Fd> listener = ListenTcp(options.port);
  if (!listener.ok()) {
    LogInfo(absl::StrCat(options.program, ": error: ", listener.status().message()));
    std::exit(1);
  }
  // Started from the repository with the default -f ., a server would answer / with 403 and
  // serve the Makefile: say which folder it is, and when / has nothing to show.
  std::error_code error;
  std::string folder = std::filesystem::canonical(options.folder, error).string();
  if (error) folder = options.folder;  // opened a moment ago: never expected
  LogInfo(absl::StrCat("listening on port ", LocalPort(listener->get()), ", serving ", folder));
  HS_VLOG(-1, "%s", mime_source);
  struct stat index;  // after the port line, which scripts may read as the first line
  if (::fstatat(root->fd(), "index.html", &index, 0) != 0 || !S_ISREG(index.st_mode)) {
    LogInfo(absl::StrCat(options.program, ": warning: ", folder,
                         " has no index.html; / will answer 403"));
  }
  return Server{std::move(options), *std::move(root), *std::move(listener)};
}

}  // namespace hs
