#include "common/children.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace hs {
namespace {

struct Reaped {
  pid_t pid;
  int status;
};

int reaped_pipe[2] = {-1, -1};  // [0] read by Collect, [1] written by the handler

void OnChildExit(int) {
  const int saved_errno = errno;  // a handler must not change errno under the code it interrupts
  Reaped reaped;
  while ((reaped.pid = ::waitpid(-1, &reaped.status, WNOHANG)) > 0) {
    // Room for thousands of records; the parent collects before every fork and at every wake.
    ssize_t unused = ::write(reaped_pipe[1], &reaped, sizeof reaped);
    (void)unused;
  }
  errno = saved_errno;
}

}  // namespace

Children::Children(OnExit on_exit) : on_exit_(std::move(on_exit)) {
  if (::pipe2(reaped_pipe, O_CLOEXEC | O_NONBLOCK) != 0) std::abort();
  ::fcntl(reaped_pipe[1], F_SETPIPE_SZ, 1 << 20);  // the handler must never have to drop one
  struct sigaction on_child_exit {};
  on_child_exit.sa_handler = OnChildExit;
  on_child_exit.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  ::sigaction(SIGCHLD, &on_child_exit, nullptr);
}

Children::~Children() {
  ::signal(SIGCHLD, SIG_DFL);
  ::close(reaped_pipe[0]);
  ::close(reaped_pipe[1]);
}

pid_t Children::Fork(const char* program, const std::function<void()>& child) {
  Collect();  // a reaped pid must leave the set before fork() can hand it out again
  const pid_t pid = ForkServerChild();
  if (pid == 0) {
    InstallChildShutdownHandlers();
    child();
    ::_exit(0);  // never return into main: no exit handlers, no second flush of stdio buffers
  }
  if (pid < 0) LogInfo(absl::StrCat(program, ": fork: ", std::strerror(errno)));
  if (pid > 0) alive_.insert(pid);
  return pid;
}

int Children::reaped_fd() const { return reaped_pipe[0]; }

void Children::Collect() {
  Reaped reaped;
  while (::read(reaped_pipe[0], &reaped, sizeof reaped) == sizeof reaped) {
    alive_.erase(reaped.pid);
    if (on_exit_) on_exit_(reaped.pid, reaped.status);
  }
}

bool Children::Signal(pid_t pid, int signal) {
  sigset_t child_exit, old_mask;
  sigemptyset(&child_exit);
  sigaddset(&child_exit, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &child_exit, &old_mask);
  Collect();  // whatever was reaped before the block is known now; nothing more can be
  const bool alive = alive_.contains(pid);
  if (alive) ::kill(pid, signal);
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  return alive;
}

void Children::StopAll() {
  Collect();
  for (pid_t pid : alive_) ::kill(pid, SIGTERM);
  while (!alive_.empty()) {
    pollfd reaped{reaped_pipe[0], POLLIN, 0};
    ::poll(&reaped, 1, 100);  // EINTR or a timeout: just look again
    Collect();
  }
}

bool PreferTheAcceptor() {
  sched_param lowest{.sched_priority = sched_get_priority_min(SCHED_FIFO)};
  return ::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &lowest) == 0;
}

std::string DescribeExit(int wait_status) {
  return WIFSIGNALED(wait_status) ? absl::StrCat("killed by signal ", WTERMSIG(wait_status))
                                  : absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
}

}  // namespace hs
