#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/conversation.h"
#include "gtest/gtest.h"

namespace hs::testing {

std::string BinDir() {
  const char* env = std::getenv("HS_BIN_DIR");
  return env != nullptr && *env != '\0' ? env : HS_BIN_DIR;
}

std::string SourceDir() { return HS_SOURCE_DIR; }

TempDir::TempDir() {
  char tmpl[] = "/tmp/hs-test-XXXXXX";
  char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) std::abort();
  path_ = dir;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::Write(const std::string& relative, const std::string& contents) const {
  std::filesystem::path full = std::filesystem::path(path_) / relative;
  std::filesystem::create_directories(full.parent_path());
  std::ofstream(full, std::ios::binary) << contents;
}

ServerProcess::ServerProcess(const std::string& binary, std::vector<std::string> args,
                             std::optional<rlimit> nofile, std::optional<uid_t> run_as) {
  bool has_port = false;
  for (const std::string& a : args) has_port = has_port || a == "-p" || a.starts_with("--port");
  if (!has_port) args.insert(args.begin(), {"-p", "0"});
  std::string path = BinDir() + "/" + binary;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) std::abort();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(pipe_fds[1], STDERR_FILENO);
    // The server gets its own process group, so a test's kill(-pgid) reaches it and its
    // children the way a terminal's Ctrl-C does, and nothing reaches the test runner.
    ::setpgid(0, 0);
    if (nofile.has_value() && ::setrlimit(RLIMIT_NOFILE, &*nofile) != 0) ::_exit(126);
    if (run_as.has_value() &&
        (::setgroups(0, nullptr) != 0 || ::setgid(*run_as) != 0 || ::setuid(*run_as) != 0)) {
      ::_exit(126);
    }
    std::vector<char*> argv = {path.data()};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  stderr_pipe_.reset(pipe_fds[0]);
  reader_ = std::thread([this] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(stderr_pipe_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      stderr_.append(buf, static_cast<size_t>(n));
    }
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    std::string err = Stderr();
    // "listening on port N, serving /folder"
    size_t at = err.find("listening on port ");
    size_t end = at == std::string::npos ? at : err.find_first_not_of("0123456789", at + 18);
    if (end != std::string::npos && err.find('\n', end) != std::string::npos) {
      std::string_view digits(err.data() + at + 18, end - at - 18);
      if (absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &port_)) return;
    }
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  ADD_FAILURE() << binary << " did not print its port; stderr:\n" << Stderr();
}

ServerProcess::~ServerProcess() {
  // The whole group: the server and any worker processes it left behind (which would also keep
  // the stderr pipe open and block the reader thread).
  if (pid_ > 0) ::kill(-pid_, SIGKILL);
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) {
    // Children that outlived the server may still hold the pipe open; closing our end would
    // not unblock read(), so kill the group first (done above) and then join.
    reader_.join();
  }
}

void ServerProcess::Signal(int sig) const { ::kill(pid_, sig); }

std::optional<int> ServerProcess::WaitExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return status;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return std::nullopt;
}

std::string ServerProcess::Stderr() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stderr_;
}

CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration timeout) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::setpgid(0, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  Fd out(pipe_fds[0]);
  CommandResult result;
  const absl::Time deadline = absl::Now() + timeout;
  char buf[4096];
  for (;;) {
    pollfd p{out.get(), POLLIN, 0};
    int left = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (left <= 0 || ::poll(&p, 1, left) <= 0) break;
    ssize_t n = ::read(out.get(), buf, sizeof buf);
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    // Still running after the timeout (or after closing stdout): give it a moment, then kill.
    absl::SleepFor(absl::Milliseconds(200));
    if (::waitpid(pid, &status, WNOHANG) == 0) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.exit_code = -1;
      return result;
    }
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string HttpResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

Fd Connect(int port) {
  Fd fd = ConnectQuietly(port);
  if (!fd) ADD_FAILURE() << "connect to port " << port << ": " << strerror(errno);
  return fd;
}

void SendRaw(int fd, const std::string& bytes) {
  ASSERT_TRUE(SendAll(fd, bytes).ok()) << "send failed";
}

namespace {
// Reads until `buffer` holds at least `size` bytes; false on EOF/error/timeout.
bool ReadAtLeast(int fd, std::string& buffer, size_t size) {
  char chunk[65536];
  while (buffer.size() < size) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// Bytes read past the end of one response, kept per socket for the next ReadResponse
// (pipelined responses can arrive in one segment).
thread_local std::map<int, std::string> leftovers;
}  // namespace

std::optional<HttpResponse> ReadResponse(int fd, bool head_only) {
  std::string buffer = std::move(leftovers[fd]);
  leftovers.erase(fd);
  size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadAtLeast(fd, buffer, buffer.size() + 1)) return std::nullopt;
  }
  HttpResponse response;
  std::vector<std::string> lines = absl::StrSplit(buffer.substr(0, end), "\r\n");
  response.status_line = lines[0];
  std::vector<std::string> parts = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &response.status)) return std::nullopt;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    response.headers[name] = std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  size_t length = 0;
  // A 304 never has a body (RFC 9112 6.3); its Content-Length is the one a 200 would have had.
  if (!head_only && response.status != 304) {
    absl::SimpleAtoi(response.Header("content-length"), &length);
  }
  const size_t total = end + 4 + length;
  if (!ReadAtLeast(fd, buffer, total)) return std::nullopt;
  response.body = buffer.substr(end + 4, length);
  if (buffer.size() > total) leftovers[fd] = buffer.substr(total);
  return response;
}

bool PeerClosed(int fd, absl::Duration wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait))) <= 0) return false;
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

std::optional<HttpResponse> Fetch(int port, const std::string& request, bool head_only) {
  Fd fd = Connect(port);
  if (!fd) return std::nullopt;
  SendRaw(fd.get(), request);
  return ReadResponse(fd.get(), head_only);
}

std::string Get(const std::string& path, bool close) {
  return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int ThreadCount(pid_t pid) {
  int count = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    struct stat st;  // stat() follows the /proc link to what is open
    if (::stat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) continue;
    ++count;
  }
  return count;
}

namespace {
// (pid, state) of every process whose parent is `parent`, from /proc/*/stat.
std::vector<std::pair<pid_t, char>> Children(pid_t parent) {
  std::vector<std::pair<pid_t, char>> children;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    pid_t pid;
    if (!absl::SimpleAtoi(it->path().filename().string(), &pid)) continue;
    std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 4 >= stat.size()) continue;
    char state = stat[paren + 2];
    std::vector<std::string> rest = absl::StrSplit(stat.substr(paren + 4), ' ');
    pid_t ppid;
    if (!rest.empty() && absl::SimpleAtoi(rest[0], &ppid) && ppid == parent) {
      children.emplace_back(pid, state);
    }
  }
  return children;
}
}  // namespace

std::vector<pid_t> ChildPids(pid_t pid) {
  std::vector<pid_t> pids;
  for (auto [child, state] : Children(pid)) pids.push_back(child);
  return pids;
}

int ZombieChildren(pid_t pid) {
  int zombies = 0;
  for (auto [child, state] : Children(pid)) zombies += state == 'Z';
  return zombies;
}

int OpenFds(pid_t pid) {
  int count = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    struct stat st;  // stat() follows the /proc link to what is open
    if (::stat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) continue;
    ++count;
  }
  return count;
}

int RuntimeThreads(pid_t pid) {
  std::string maps = ReadFile("/proc/" + std::to_string(pid) + "/maps");
  return maps.find("/libtsan.so") != std::string::npos ? 1 : 0;
}

bool Eventually(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

int Unread(int fd) {
  int n = 0;
  return ::ioctl(fd, FIONREAD, &n) == 0 ? n : -1;
}

StallDrop WaitForStallDrop(const std::vector<int>& stuck, absl::Time start, absl::Duration slack,
                           const std::function<bool()>& dropped) {
  StallDrop result{.last_progress = start};
  std::vector<int> seen(stuck.size());
  for (size_t i = 0; i < stuck.size(); ++i) seen[i] = Unread(stuck[i]);
  for (;;) {
    if (dropped()) {
      result.dropped = true;
      return result;
    }
    for (size_t i = 0; i < stuck.size(); ++i) {
      const int now = Unread(stuck[i]);
      if (now > seen[i]) result.last_progress = absl::Now();
      seen[i] = now;
    }
    if (absl::Now() > result.last_progress + hs::kSendTimeout + hs::kStallCheck + slack) {
      return result;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

Fd ConnectQuietly(int port, int receive_buffer) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (receive_buffer > 0) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return Fd();
  timeval tv{15, 0};  // beyond the servers' 10 s request timeout, so a 408 arrives first
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::optional<HttpResponse> TryFetch(int port, const std::string& request) {
  Fd fd = ConnectQuietly(port);
  if (!fd || !SendAll(fd.get(), request).ok()) return std::nullopt;
  return ReadResponse(fd.get());
}

std::vector<ConcurrentFetch> FetchConcurrently(int port, int n) {
  std::vector<ConcurrentFetch> fetches(static_cast<size_t>(n));
  std::vector<std::thread> clients;
  for (ConcurrentFetch& fetch : fetches) {
    clients.emplace_back([&fetch, port] {
      Fd fd = ConnectQuietly(port);
      if (!fd || !SendAll(fd.get(), Get("/page.html")).ok()) return;
      const absl::Time sent = absl::Now();
      fetch.response = ReadResponse(fd.get());
      fetch.answer_time = absl::Now() - sent;
    });
  }
  for (std::thread& client : clients) client.join();
  return fetches;
}

absl::Duration FetchAllConcurrently(int port, int n) {
  absl::Duration slowest;
  for (const ConcurrentFetch& fetch : FetchConcurrently(port, n)) {
    EXPECT_TRUE(fetch.response.has_value());
    if (!fetch.response.has_value()) continue;
    EXPECT_EQ(fetch.response->status, 200);
    slowest = std::max(slowest, fetch.answer_time);
  }
  return slowest;
}

bool Readable(int fd, absl::Duration wait) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait))) == 1;
}

size_t ReadToEnd(int fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char chunk[65536];
  size_t total = 0;
  while (absl::Now() < deadline && Readable(fd, deadline - absl::Now())) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  return total;
}

std::vector<std::string> StatFields(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return {};
  return absl::StrSplit(stat.substr(paren + 2), ' ');
}

std::vector<pid_t> LiveChildren(pid_t pid) {
  std::vector<pid_t> live;
  for (pid_t child : ChildPids(pid)) {
    std::vector<std::string> fields = StatFields(child);
    if (!fields.empty() && fields[0] != "Z") live.push_back(child);
  }
  return live;
}

std::string PseudoRandomBytes(size_t size) {
  std::string bytes(size, '\0');
  uint32_t x = 12345;
  for (char& c : bytes) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);
  }
  return bytes;
}

bool StillRunning(ServerProcess& server) {
  return !server.WaitExit(absl::Milliseconds(1)).has_value();
}

void ExpectExitZero(ServerProcess& server, absl::Duration within) {
  auto status = server.WaitExit(within);
  ASSERT_TRUE(status.has_value()) << "server did not exit";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << "wait status " << *status << "\n"
      << server.Stderr();  // (make asan files sanitizer reports in build/asan/reports)
}

}  // namespace hs::testing
