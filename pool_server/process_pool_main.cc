// process_pool_server -- pre-forked worker processes sharing one listening socket.
//
// The parent listens, forks N workers (--workers, default one per core) and then only
// supervises. Each worker runs the plain accept loop on the shared non-blocking listener; the
// kernel hands a new connection to one of them (the others get EAGAIN) -- Apache prefork, nginx.
// Cost: N processes up front, none per connection; nothing shared but the listener, no locks.
// What breaks it: a worker serves one connection at a time, so N slow or idle keep-alive clients
// fill the pool (the idle 5 s and request 10 s timeouts from common/ bound how long) and the rest
// wait in the kernel's queue (busy keep-alive clients yield: while a connection waits, each
// answer closes). A crashed worker loses only its connection; the parent replaces it.
// Shutdown: SIGINT/SIGTERM reach the workers (Ctrl-C signals the whole group; the parent also
// forwards SIGTERM); together they drain the accept queue, finish their clients and exit.
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/connection.h"
#include "common/log.h"
#include "common/server.h"
#include "common/shutdown.h"
#include "pool_server/scoreboard.h"

// The self-pipe trick, with an eventfd: the SIGCHLD handler only makes this readable, so the
// parent can sleep in poll() on it and the shutdown eventfd together; reaping and restarting
// happen in ordinary code, where they may allocate and log.
int child_exited_fd = -1;

void OnChildExit(int) {
  const int saved_errno = errno;  // a handler must not change errno under the code it interrupts
  const uint64_t one = 1;
  ssize_t unused = ::write(child_exited_fd, &one, sizeof one);
  (void)unused;
  errno = saved_errno;
}

// Forks a worker into scoreboard slot `me` that serves connections until shutdown; returns its
// pid (-1 if fork failed).
pid_t StartWorker(hs::Server& server, hs::Scoreboard& board, hs::WorkerSlot& me) {
  const pid_t pid = hs::ForkServerChild();
  if (pid == 0) {
    hs::InstallChildShutdownHandlers();
    const int listener = server.listener.get();
    auto serve = [&](hs::Fd client) {
      me.busy = true;
      hs::ServeConnection(std::move(client), server.options, server.root,
                          {.others_waiting = [&] { return hs::HasPendingConnection(listener); }});
      me.busy = false;
    };
    hs::RunAcceptLoop(server.listener, serve, [&] { return board.Busy() > 0; });
    ::_exit(0);  // never return into main: no exit handlers, no second flush of stdio buffers
  }
  if (pid < 0) hs::LogInfo(absl::StrCat("process_pool_server: fork: ", std::strerror(errno)));
  if (pid > 0) HS_VLOG(-1, "started worker %d", pid);
  if (pid > 0) me.pid = pid;
  return pid;
}

int main(int argc, char** argv) {
  hs::Server server =
      hs::StartServer(argc, argv,
                      {.program = "process_pool_server",
                       .description = "HTTP server with a pool of pre-forked worker processes",
                       .accepts_workers = true,
                       .workers_help = "worker processes (default: one per core)"});
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const size_t pool_size = server.options.workers > 0 ? server.options.workers : std::max(1, cores);
  child_exited_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (child_exited_fd < 0) std::abort();
  struct sigaction on_child_exit {};
  on_child_exit.sa_handler = OnChildExit;
  on_child_exit.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  ::sigaction(SIGCHLD, &on_child_exit, nullptr);

  // Supervise: keep the pool full until shutdown begins -- at start, and whenever a worker dies.
  hs::Scoreboard board(pool_size);  // a slot with a pid: forked and not yet reaped, safe to signal
  for (;;) {
    for (size_t i = 0; i < board.size() && !hs::ShutdownRequested(); ++i) {
      if (board[i].pid == 0 && StartWorker(server, board, board[i]) < 0) break;  // retry in 1 s
    }
    if (hs::ShutdownRequested()) break;
    pollfd wake[] = {{hs::ShutdownFd(), POLLIN, 0}, {child_exited_fd, POLLIN, 0}};
    ::poll(wake, 2, board.Live() < board.size() ? 1000 : -1);  // EINTR: just look again
    uint64_t exits;
    ssize_t unused = ::read(child_exited_fd, &exits, sizeof exits);
    (void)unused;
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      board.Release(pid);
      if (hs::ShutdownRequested()) continue;  // part of the shutdown, not a failure
      const std::string how = WIFSIGNALED(status)
                                  ? absl::StrCat("killed by signal ", WTERMSIG(status))
                                  : absl::StrCat("exited with status ", WEXITSTATUS(status));
      hs::LogInfo(
          absl::StrCat("process_pool_server: worker ", pid, " ", how, "; starting another"));
    }
  }

  // Shutdown. Close our copy of the listener at once: the workers serve what is queued, and the
  // socket closes with the last worker's copy (RunAcceptLoop explains when). A worker treats
  // every signal as graceful, so forwarding SIGTERM is harmless after a terminal's Ctrl-C (which
  // already reached the whole group) and needed after `kill PARENT`.
  server.listener.reset();
  for (size_t i = 0; i < board.size(); ++i) {
    if (board[i].pid != 0) ::kill(board[i].pid, SIGTERM);
  }
  pid_t pid;
  while ((pid = ::waitpid(-1, nullptr, 0)) > 0 || errno == EINTR) {
    if (pid > 0) board.Release(pid);  // a worker killed while busy must not hold the others back
  }
  return 0;
}
