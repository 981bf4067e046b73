#include "common/send_response.h"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "absl/time/clock.h"
#include "common/conversation.h"
#include "common/log.h"
#include "common/socket.h"

namespace hs {

PartialSend::Result PartialSend::Continue(const ResponsePlan& plan) {
  const std::string_view head = plan.head;
  const int file = plan.SendfileFd();
  const std::string_view body = file >= 0 ? std::string_view() : plan.InMemoryBody();
  const size_t total = head.size() + (file >= 0 ? plan.file_size : body.size());
  while (sent_ < total) {
    ssize_t n;
    if (file < 0 || sent_ < head.size()) {
      std::string_view first = head.substr(std::min(sent_, head.size()));
      std::string_view second = body.substr(sent_ - (head.size() - first.size()));
      // MSG_MORE before a sendfile() body: the head waits in the kernel for it, so a response
      // starts as one segment. Never without one: the head would wait for the 200 ms cork timer.
      n = SendSome(fd_, first, second, MSG_NOSIGNAL | (file >= 0 ? MSG_MORE : 0));
    } else {
      off_t offset = static_cast<off_t>(plan.file_offset + (sent_ - head.size()));
      n = ::sendfile(fd_, file, &offset, total - sent_);
      if (n == 0) {
        error_ = absl::DataLossError("sendfile: file shrank while sending");
        return Result::kFailed;
      }
    }
    if (n > 0) {
      sent_ += static_cast<size_t>(n);
      stall_.Sent(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      error_ = absl::ErrnoToStatus(errno, "send");
      return Result::kFailed;
    }
    if (stall_.Deadline() <= absl::Now()) {
      error_ = StalledError(kSendTimeout);
      return Result::kFailed;
    }
    return Result::kBlocked;
  }
  return Result::kDone;
}

absl::Time PartialSend::NextLook() {
  return std::min(stall_.Deadline(), absl::Now() + kStallCheck);
}

absl::Status SendResponse(int fd, const ResponsePlan& plan) {
  PartialSend send(fd);
  for (;;) {
    switch (send.Continue(plan)) {
      case PartialSend::Result::kDone:
        return absl::OkStatus();
      case PartialSend::Result::kFailed:
        return send.error();
      case PartialSend::Result::kBlocked:
        if (!WaitForRoom(fd, send.stall())) return StalledError(kSendTimeout);
        break;
    }
  }
}

void SendStep(int fd, const Step& step, Conversation& conversation) {
  if (absl::Status sent = SendResponse(fd, *step.response); sent.ok()) {
    conversation.Sent(absl::Now());
  } else {
    HS_VLOG(fd, "send failed: %s", sent.message());
    conversation.SendFailed();
  }
}

void CloseStep(Fd socket, const Step& step) {
  if (step.linger == Step::Linger::kYes ||
      (step.linger == Step::Linger::kIfUnreadInput && HasUnreadInput(socket.get()))) {
    LingeringClose(std::move(socket));
  }
}  // ~Fd closes it (if LingeringClose has not)

}  // namespace hs
