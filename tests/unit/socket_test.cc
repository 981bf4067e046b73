// common/socket.h: what the servers rely on from their sockets.
#include "common/socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace hs {
namespace {

// A connected pair over loopback: the client end and the accepted server end.
struct Pair {
  Fd listener, client, server;
};

Pair Connected() {
  Pair p;
  absl::StatusOr<Fd> listener = ListenTcp(0);
  EXPECT_TRUE(listener.ok()) << listener.status();
  p.listener = *std::move(listener);
  p.client = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(LocalPort(p.listener.get())));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(p.client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  absl::StatusOr<Fd> server = AcceptClient(p.listener.get());
  EXPECT_TRUE(server.ok()) << server.status();
  p.server = *std::move(server);
  return p;
}

std::string ReadExactly(int fd, size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::read(fd, out.data() + done, n - done);
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  out.resize(done);
  return out;
}

TEST(SocketTest, AcceptedConnectionsHaveNagleOffWithoutASystemCallEach) {
  Pair p = Connected();
  int value = 0;
  socklen_t len = sizeof value;
  ASSERT_EQ(::getsockopt(p.server.get(), IPPROTO_TCP, TCP_NODELAY, &value, &len), 0);
  EXPECT_NE(value, 0) << "TCP_NODELAY is set on the listener and copied to what it accepts";
}

TEST(SocketTest, SendAllOfTwoPiecesSendsBothInOrder) {
  Pair p = Connected();
  ASSERT_TRUE(SendAll(p.server.get(), "head\r\n\r\n", "body", false, absl::Seconds(5)).ok());
  EXPECT_EQ(ReadExactly(p.client.get(), 12), "head\r\n\r\nbody");
  ASSERT_TRUE(SendAll(p.server.get(), "", "only the body", false, absl::Seconds(5)).ok());
  EXPECT_EQ(ReadExactly(p.client.get(), 13), "only the body");
}

TEST(SocketTest, SendAllOfTwoPiecesSurvivesShortWrites) {
  Pair p = Connected();
  const int small = 4096;  // a small send buffer: many partial sendmsg() calls
  ::setsockopt(p.server.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  const std::string head(3000, 'h'), body(2'000'000, 'b');
  std::string received;
  std::thread reader([&] { received = ReadExactly(p.client.get(), head.size() + body.size()); });
  EXPECT_TRUE(SendAll(p.server.get(), head, body, false, absl::Seconds(10)).ok());
  reader.join();
  EXPECT_TRUE(received == head + body) << "the bytes differ";
}

TEST(SocketTest, SendSomeAdvancesBothPiecesPastWhatItWrote) {
  Pair p = Connected();
  std::string_view first = "abc", second = "defgh";
  const ssize_t n = SendSome(p.server.get(), first, second, MSG_NOSIGNAL);
  ASSERT_EQ(n, 8);
  EXPECT_TRUE(first.empty());
  EXPECT_TRUE(second.empty());
  EXPECT_EQ(ReadExactly(p.client.get(), 8), "abcdefgh");
}

}  // namespace
}  // namespace hs
