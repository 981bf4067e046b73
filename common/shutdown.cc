#include "common/shutdown.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace hs {
namespace {

// Both are written before any thread starts and only read (or written with an atomic store) by
// the signal handler, which is why a plain int and a lock-free atomic are enough.
int stop_fd = -1;
std::atomic<bool> requested{false};
std::atomic<int> signals_seen{0};
// Nanoseconds since the Unix epoch when shutdown began; 0 before. Written in the signal handler
// (clock_gettime is async-signal-safe), so a plain lock-free integer rather than an absl::Time.
std::atomic<int64_t> started_at_ns{0};
bool force_quit_on_second_signal = true;

void OnStopSignal(int) {
  // Only async-signal-safe calls here: an atomic increment, write(2) and exit_group(2).
  const int saved_errno = errno;  // a failed write() must not change it under interrupted code
  int seen = signals_seen.fetch_add(1) + 1;
  // The system call _exit() makes, issued directly: ThreadSanitizer intercepts _exit() to run
  // its exit-time checks, which would report the threads this deliberately abandons as leaked.
  if (seen >= 2 && force_quit_on_second_signal) ::syscall(SYS_exit_group, 130);
  RequestShutdown();
  errno = saved_errno;
}

void Install(bool force_quit) {
  if (stop_fd >= 0) ::close(stop_fd);
  stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) std::abort();
  requested.store(false);
  started_at_ns.store(0);
  signals_seen.store(0);
  force_quit_on_second_signal = force_quit;
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR and re-checks the eventfd
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void InstallShutdownHandlers() { Install(/*force_quit=*/true); }

void InstallChildShutdownHandlers() {
  Install(/*force_quit=*/false);
  const sigset_t stop = StopSignals();
  ::sigprocmask(SIG_UNBLOCK, &stop, nullptr);  // held back by ForkServerChild() until now
}

pid_t ForkServerChild() {
  const sigset_t stop = StopSignals();
  sigset_t old_mask;
  ::sigprocmask(SIG_BLOCK, &stop, &old_mask);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) {
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);  // the parent, or fork failed
    return pid;
  }
  // The child dies with its parent, however the parent goes: a forced exit on a second Ctrl-C,
  // SIGKILL, a crash. Left behind, it would keep serving and keep the port. If the parent died
  // before prctl() ran, the death signal never comes, but getppid() no longer names it.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
  return 0;
}

int ShutdownFd() { return stop_fd; }

bool ShutdownRequested() { return requested.load(std::memory_order_relaxed); }

absl::Time ShutdownStartedAt() {
  const int64_t ns = started_at_ns.load();
  return ns == 0 ? absl::InfinitePast() : absl::FromUnixNanos(ns);
}

void RequestShutdown() {
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t expected = 0;  // only the first request sets the time
  started_at_ns.compare_exchange_strong(expected, now.tv_sec * int64_t{1000000000} + now.tv_nsec);
  requested.store(true);
  uint64_t one = 1;
  ssize_t unused = ::write(stop_fd, &one, sizeof one);
  (void)unused;
}

}  // namespace hs
