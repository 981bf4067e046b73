// process_server -- a new process per connection: fork() after accept().
//
// The parent accepts; a forked child serves the connection and exits. Children share no
// writable memory (copy-on-write), so no locks, and a crash in one connection harms no other.
// Cost: a fork() per connection (page tables copied, ~0.1-1 ms) and one process per open
// keep-alive connection, held until the client leaves or the idle (5 s) / request (10 s)
// timeouts from common/ close it. What breaks it: many simultaneous clients exhaust the process
// limit or memory; unreaped children pile up as zombies (hence the SIGCHLD handler below).
// Use it when isolation matters more than speed (inetd, early Apache, the classic CGI server).
// Shutdown: RunAcceptLoop stops accepting and drains the kernel's queue (a child each); then the
// parent forwards SIGTERM so idle keep-alive children close, and waits for every child.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/connection.h"
#include "common/log.h"
#include "common/server.h"
#include "common/shutdown.h"

// Children forked and not yet reaped. The SIGCHLD handler reaps (waitpid is async-signal-safe),
// even while the acceptor sleeps in poll(), but it may not touch this std::set (no malloc in a
// signal handler), so it passes each reaped pid through a pipe and the main flow forgets them.
// Only unreaped pids are ever signalled: a reaped pid may already belong to another process.
std::set<pid_t> children;
int reaped_pipe[2];  // [0] read by main, [1] written by the handler; both non-blocking

void OnChildExit(int) {
  const int saved_errno = errno;  // a handler must not change errno under the code it interrupts
  pid_t pid;
  while ((pid = ::waitpid(-1, nullptr, WNOHANG)) > 0) {
    ssize_t unused = ::write(reaped_pipe[1], &pid, sizeof pid);
    (void)unused;  // room for 16k pids, and main empties the pipe at every accept
  }
  errno = saved_errno;
}

void ForgetReapedChildren() {
  pid_t pid;
  while (::read(reaped_pipe[0], &pid, sizeof pid) == sizeof pid) children.erase(pid);
}

int main(int argc, char** argv) {
  hs::Server server = hs::StartServer(
      argc, argv,
      {.program = "process_server", .description = "HTTP server, a process per connection"});
  if (::pipe2(reaped_pipe, O_CLOEXEC | O_NONBLOCK) != 0) std::abort();
  struct sigaction on_child_exit {};
  on_child_exit.sa_handler = OnChildExit;
  on_child_exit.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  ::sigaction(SIGCHLD, &on_child_exit, nullptr);

  hs::RunAcceptLoop(server.listener, [&](hs::Fd client) {
    ForgetReapedChildren();
    const pid_t pid = hs::ForkServerChild();
    if (pid == 0) {  // the child: serve this one connection, then leave
      hs::InstallChildShutdownHandlers();
      server.listener.reset();  // accepting is the parent's job
      hs::ServeConnection(std::move(client), server.options, server.root);
      ::_exit(0);  // never return into main: no exit handlers, no second flush of stdio buffers
    }
    if (pid < 0) hs::LogInfo(absl::StrCat("process_server: fork: ", std::strerror(errno)));
    if (pid > 0) children.insert(pid);
    // The parent's copy of `client` closes here; the child's stays open until it is done.
  });

  // Hold SIGCHLD so nothing is reaped behind our back, tell every unreaped child to stop (idle
  // keep-alive children close, busy ones finish their request), then wait for them all.
  sigset_t sigchld;
  sigemptyset(&sigchld);
  sigaddset(&sigchld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &sigchld, nullptr);
  ForgetReapedChildren();
  for (pid_t pid : children) ::kill(pid, SIGTERM);
  while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
  }
  return 0;
}
