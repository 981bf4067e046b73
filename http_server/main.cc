// http_server -- the lab's command line: `http_server -c MODEL [flags]`.
//
// It owns no model of its own. It checks the whole command line (so `-h` shows every option and
// a bad flag fails here, with the same message a server would give), checks the rest again as
// the chosen model will (so `-c single --workers 4` fails here too), then replaces itself with
// the chosen server binary from its own directory via execv(): same pid, so Ctrl-C and `kill`
// reach the server directly, and every other argument is passed on untouched. The model runs
// with our name as its argv[0], and a binary names itself after its argv[0] (hs::ProgramName):
// whatever it reports later, "port in use" included, names http_server, the program the user
// started.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/cli.h"

namespace {

// The directory holding this executable, from /proc/self/exe.
std::string OwnDirectory() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return ".";
  std::string exe(path, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

}  // namespace

int main(int argc, char** argv) {
  hs::ServerOptions options = hs::ParseCommandLineOrExit(
      argc, argv,
      {.program = "http_server",
       .description = "Concurrent HTTP server: runs the server binary of the chosen model",
       .accepts_workers = true,
       .accepts_pool_sizing = true,
       .accepts_concurrency = true,
       .workers_help = "workers for the pool and async models (default: per model)"});

  const hs::ModelInfo* model = hs::FindModel(options.concurrency);  // known: checked above
  std::string binary = OwnDirectory() + "/" + model->binary;
  std::vector<std::string> args = hs::WithoutConcurrency(argc, argv);
  std::vector<char*> exec_argv = {options.program.data()};
  for (std::string& arg : args) exec_argv.push_back(arg.data());
  hs::ParseCommandLineOrExit(static_cast<int>(exec_argv.size()), exec_argv.data(),
                             {.program = "http_server",
                              .accepts_workers = model->accepts_workers,
                              .accepts_pool_sizing = model->accepts_pool_sizing});
  exec_argv.push_back(nullptr);

  ::execv(binary.c_str(), exec_argv.data());
  std::fprintf(stderr, "%s: error: cannot run model '%s': %s: %s (is it built? try make)\n",
               options.program.c_str(), options.concurrency.c_str(), binary.c_str(),
               std::strerror(errno));
  return 2;
}
