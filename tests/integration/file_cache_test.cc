// The file cache (common/file_cache.h) under a running server, every model: a file changed in
// place, replaced by a rename, deleted, made unreadable, or reached through a directory swapped
// for a symlink leading out of the root is answered as it now is within a second. Each file is
// asked for over one keep-alive connection first, so the answer is in the serving thread's cache
// (and then in that of whichever thread or process answers next) before the change.
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/models.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace hs::testing {
namespace {

namespace fs = std::filesystem;
using Model = ModelInfo;

// kRevalidateAfter (1 s) plus scheduling slack on a busy 2-core machine.
constexpr absl::Duration kFreshWithin = absl::Milliseconds(2500);
// Bigger than kSmallFileBytes: kept as an open descriptor, not as bytes.
constexpr size_t kLarge = 64 * 1024;

std::string ModelName(const ::testing::TestParamInfo<Model>& info) { return info.param.binary; }

class FileCacheTest : public ::testing::TestWithParam<Model> {
 protected:
  FileCacheTest() {
    // Readable by the unprivileged user the server runs as here (see Start).
    fs::permissions(site_.root(), fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
    fs::permissions(outside_.path(), fs::status(site_.root()).permissions());
    site_.Write("small.txt", "small, version 1\n");
    site_.Write("large.bin", std::string(kLarge, '1'));
    site_.Write("dir/f.txt", "inside the root\n");
    outside_.Write("f.txt", "OUTSIDE THE ROOT\n");
  }

  // As root, the kernel lets every open succeed whatever the file's mode, so a file made
  // unreadable could not be told apart: a root test run starts the server as nobody.
  ServerProcess Start() {
    std::optional<uid_t> as;
    if (::geteuid() == 0) as = 65534;
    return ServerProcess(GetParam().binary, {"-f", site_.root()}, std::nullopt, as);
  }

  // One GET over the kept connection (reconnecting when the server has closed it, as
  // single_server does after each answer).
  std::optional<HttpResponse> Ask(int port, const std::string& path) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!conn_.valid()) conn_ = Connect(port);
      if (SendAll(conn_.get(), Get(path, /*close=*/false)).ok()) {
        std::optional<HttpResponse> r = ReadResponse(conn_.get());
        if (r.has_value()) {
          if (r->Header("connection") == "close") conn_.reset();
          return r;
        }
      }
      conn_.reset();
    }
    return std::nullopt;
  }

  // Asks until the answer is `status` with `body` (any body when nullopt); how long that took,
  // or nullopt when it did not happen within kFreshWithin.
  std::optional<absl::Duration> AnsweredAsNow(int port, const std::string& path, int status,
                                              std::optional<std::string> body) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < kFreshWithin) {
      std::optional<HttpResponse> r = Ask(port, path);
      if (r.has_value() && r->status == status && (!body || r->body == *body)) {
        return absl::Now() - start;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return std::nullopt;
  }

  void Warm(int port, const std::string& path, const std::string& body) {
    for (int i = 0; i < 3; ++i) {
      std::optional<HttpResponse> r = Ask(port, path);
      ASSERT_TRUE(r.has_value());
      ASSERT_EQ(r->status, 200);
      ASSERT_EQ(r->body, body);
    }
  }

  PageSite site_;
  TempDir outside_;
  Fd conn_;
};

TEST_P(FileCacheTest, AFileChangedInPlaceIsServedAnewWithinASecond) {
  ServerProcess server = Start();
  ASSERT_GT(server.port(), 0);
  Warm(server.port(), "/small.txt", "small, version 1\n");
  Warm(server.port(), "/large.bin", std::string(kLarge, '1'));
  // The same inode and the same size: only the contents (and the times) change.
  site_.Write("small.txt", "small, version 2\n");
  site_.Write("large.bin", std::string(kLarge, '2'));
  EXPECT_TRUE(AnsweredAsNow(server.port(), "/small.txt", 200, "small, version 2\n"));
  EXPECT_TRUE(AnsweredAsNow(server.port(), "/large.bin", 200, std::string(kLarge, '2')));
}

TEST_P(FileCacheTest, AFileReplacedByARenameIsServedAnewWithinASecond) {
  ServerProcess server = Start();
  ASSERT_GT(server.port(), 0);
  Warm(server.port(), "/small.txt", "small, version 1\n");
  Warm(server.port(), "/large.bin", std::string(kLarge, '1'));
  // How sites are deployed: write beside, rename over (atomic; the old inode lives on).
  site_.Write("small.new", "replaced, and longer than before\n");
  site_.Write("large.new", std::string(kLarge + 7, 'r'));
  fs::rename(site_.root() + "/small.new", site_.root() + "/small.txt");
  fs::rename(site_.root() + "/large.new", site_.root() + "/large.bin");
  EXPECT_TRUE(
      AnsweredAsNow(server.port(), "/small.txt", 200, "replaced, and longer than before\n"));
  EXPECT_TRUE(AnsweredAsNow(server.port(), "/large.bin", 200, std::string(kLarge + 7, 'r')));
}

TEST_P(FileCacheTest, ADeletedFileIsNotFoundWithinASecond) {
  ServerProcess server = Start();
  ASSERT_GT(server.port(), 0);
  Warm(server.port(), "/small.txt", "small, version 1\n");
  Warm(server.port(), "/large.bin", std::string(kLarge, '1'));
  fs::remove(site_.root() + "/small.txt");
  fs::remove(site_.root() + "/large.bin");
  EXPECT_TRUE(AnsweredAsNow(server.port(), "/small.txt", 404, std::nullopt));
  EXPECT_TRUE(AnsweredAsNow(server.port(), "/large.bin", 404, std::nullopt));
}

TEST_P(FileCacheTest, AFileMadeUnreadableIsForbiddenWithinASecond) {
  ServerProcess server = Start();
  ASSERT_GT(server.port(), 0);
  Warm(server.port(), "/small.txt", "small, version 1\n");
  Warm(server.port(), "/large.bin", std::string(kLarge, '1'));
  fs::permissions(site_.root() + "/small.txt", fs::perms::none);
  fs::permissions(site_.root() + "/large.bin", fs::perms::none);
  EXPECT_TRUE(AnsweredAsNow(server.port(), "/small.txt", 403, std::nullopt));
  EXPECT_TRUE(AnsweredAsNow(server.port(), "/large.bin", 403, std::nullopt));
}

TEST_P(FileCacheTest, ADirectorySwappedForASymlinkOutOfTheRootIsNotFoundWithinASecond) {
  ServerProcess server = Start();
  ASSERT_GT(server.port(), 0);
  Warm(server.port(), "/dir/f.txt", "inside the root\n");
  fs::rename(site_.root() + "/dir", site_.root() + "/dir.old");
  fs::create_directory_symlink(outside_.path(), site_.root() + "/dir");
  const absl::Time changed = absl::Now();
  // Never the file outside, at any moment; a thread whose entry is not yet due for its check
  // may still answer with the old file (now dir.old/f.txt, inside the root) for up to a second.
  bool seen_404 = false;
  while (absl::Now() - changed < kFreshWithin) {
    std::optional<HttpResponse> r = Ask(server.port(), "/dir/f.txt");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body.find("OUTSIDE"), std::string::npos) << "served from outside the root";
    seen_404 = seen_404 || r->status == 404;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(seen_404);
  // And after the second, every thread and process knows.
  for (int i = 0; i < 10; ++i) {
    std::optional<HttpResponse> r = Ask(server.port(), "/dir/f.txt");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 404);
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, FileCacheTest, ::testing::ValuesIn(Models()), ModelName);

}  // namespace
}  // namespace hs::testing
