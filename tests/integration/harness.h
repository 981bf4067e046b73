// Test harness for the integration tests: start a server binary as a child process, find its
// port from its "listening on port N" line, and talk HTTP to it over real sockets.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/socket.h"

namespace hs::testing {

// True in the sanitizer builds (make asan, make tsan), where the servers run several times
// slower and allocate more: long loops shrink there, and memory budgets do not apply.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// Directory of the built server binaries (HS_BIN_DIR env var, else the compiled-in bin/).
std::string BinDir();
std::string SourceDir();

// A temporary directory removed (recursively) at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `contents` to path()/relative, creating parent directories.
  void Write(const std::string& relative, const std::string& contents) const;

 private:
  std::string path_;
};

// A document root holding index.html and page.html (kPage: 1,500 bytes, about one TCP segment).
inline const std::string kPage(1500, 'p');
class PageSite {
 public:
  PageSite() {
    dir_.Write("index.html", "<p>index</p>\n");
    dir_.Write("page.html", kPage);
  }
  const std::string& root() const { return dir_.path(); }
  void Write(const std::string& relative, const std::string& contents) const {
    dir_.Write(relative, contents);
  }

 private:
  TempDir dir_;
};

// `size` bytes from a fixed linear congruential sequence: a misplaced chunk cannot go unnoticed.
std::string PseudoRandomBytes(size_t size);

// A server binary running as a child process. Killed (SIGKILL) and reaped on destruction if it
// is still running.
class ServerProcess {
 public:
  // Starts bin/<binary> with `args` (plus "-p 0" unless args contain -p) and waits for its
  // "listening on port N, serving /folder" line. Fails the test (ADD_FAILURE) and leaves port() ==
  // 0 if it does not appear in time. `nofile`, when given, becomes the server's RLIMIT_NOFILE (set
  // in the child before exec), e.g. to see how a model copes with running out of descriptors.
  // `run_as`, when given, is the user id (and group id) the server runs as (set in the child
  // before exec, supplementary groups dropped): a test run as root uses it to see permissions.
  ServerProcess(const std::string& binary, std::vector<std::string> args,
                std::optional<rlimit> nofile = std::nullopt,
                std::optional<uid_t> run_as = std::nullopt);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // Waits for the process to exit; returns its wait status, or nullopt on timeout.
  std::optional<int> WaitExit(absl::Duration timeout);
  // Everything the server wrote to stderr so far.
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool reaped_ = false;
  Fd stderr_pipe_;
  std::thread reader_;
  mutable std::mutex mu_;
  std::string stderr_;
};

// Runs a command (argv) to completion; returns exit status (WEXITSTATUS, or 128+signal) and
// captured stdout+stderr.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration timeout);

struct HttpResponse {
  int status = 0;
  std::string status_line;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const;
};

// Connects to 127.0.0.1:port (blocking socket, 15 s receive timeout); a refused connection
// fails the test.
Fd Connect(int port);
// The same without failing the test when that is refused (an empty Fd; some tests expect
// trouble). `receive_buffer` > 0 shrinks the receive buffer before the handshake, so a response
// backs up in the server after a few KB.
Fd ConnectQuietly(int port, int receive_buffer = 0);
void SendRaw(int fd, const std::string& bytes);
// Reads one response (head + Content-Length body; no body for a 304 or when `head_only`).
// Returns nullopt when the connection closes before a full response arrives.
std::optional<HttpResponse> ReadResponse(int fd, bool head_only = false);
// True when the peer has closed the connection (reads EOF within `wait`).
bool PeerClosed(int fd, absl::Duration wait = absl::Seconds(2));
// One request on a fresh connection.
std::optional<HttpResponse> Fetch(int port, const std::string& request, bool head_only = false);
// One request on a fresh connection; nullopt (not a test failure) when the server drops it.
std::optional<HttpResponse> TryFetch(int port, const std::string& request);
// `n` clients on their own threads, each fetching /page.html on a fresh connection at once.
// `answer_time`: from its request sent to its response read -- what the server took, without
// the handshake, which a busy machine may delay by a SYN retransmission (a whole second).
struct ConcurrentFetch {
  std::optional<HttpResponse> response;  // nullopt: the server dropped it
  absl::Duration answer_time;
};
std::vector<ConcurrentFetch> FetchConcurrently(int port, int n);
// The same, expecting every client to get a 200; returns the slowest answer, timed from its
// request's sending (not from its connect, which a SYN retransmission can delay by a second).
absl::Duration FetchAllConcurrently(int port, int n);
// True when `fd` has something to read (or EOF) within `wait`.
bool Readable(int fd, absl::Duration wait);
// Reads until EOF, a reset or `timeout`; returns the byte count.
size_t ReadToEnd(int fd, absl::Duration timeout);
std::string Get(const std::string& path, bool close = true);  // "GET path HTTP/1.1\r\nHost..."

// Reads a file into a string.
std::string ReadFile(const std::string& path);
// Number of threads of a process (/proc/PID/task), and the pids of its children.
int ThreadCount(pid_t pid);
std::vector<pid_t> ChildPids(pid_t pid);
// The fields after the command name in /proc/PID/stat: state, ppid, ... (empty if gone).
std::vector<std::string> StatFields(pid_t pid);
// Children of `pid` that are running (not zombies waiting to be reaped).
std::vector<pid_t> LiveChildren(pid_t pid);
// Zombie children (state Z) of `pid`.
int ZombieChildren(pid_t pid);
// The server has not exited.
bool StillRunning(ServerProcess& server);
// The server exits within `within` with status 0 (its stderr is shown otherwise).
void ExpectExitZero(ServerProcess& server, absl::Duration within);
// Polls `condition` every 10 ms until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition, absl::Duration timeout);
// Bytes waiting in `fd`'s receive queue (-1: not a socket).
int Unread(int fd);
// Clients that stopped reading, each with a small receive buffer that the server's answer has
// filled: the server must drop them kSendTimeout after the last byte their kernels accepted, and
// notice within a stall check (kStallCheck). Polls `dropped` until then plus `slack`, watching
// the clients' receive queues: a kernel that makes room late (it may compact its queue) accepts
// a few more bytes, which the server rightly takes as progress that restarts its clock.
struct StallDrop {
  bool dropped = false;
  absl::Time last_progress;  // when a client's queue last grew (`start` if never)
};
StallDrop WaitForStallDrop(const std::vector<int>& stuck, absl::Time start, absl::Duration slack,
                           const std::function<bool()>& dropped);
// Descriptors the process holds open (/proc/PID/fd), except open regular files: the file cache
// (common/file_cache.h) keeps large files open on purpose, within its bound, so a test counting
// what a connection leaves behind counts sockets, pipes, epoll and event descriptors.
int OpenFds(pid_t pid);
// Threads a sanitizer runtime adds to a process: ThreadSanitizer runs a background thread.
int RuntimeThreads(pid_t pid);

}  // namespace hs::testing
