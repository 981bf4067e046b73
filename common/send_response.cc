#include "common/send_response.h"

#include "absl/time/clock.h"
#include "common/conversation.h"
#include "common/log.h"
#include "common/socket.h"

namespace hs {

absl::Status SendResponse(int fd, const ResponsePlan& plan) {
  if (const int file = plan.SendfileFd(); file >= 0) {
    // MSG_MORE: the head waits in the kernel for the file, so a response starts as one segment.
    absl::Status status = SendAll(fd, plan.head, /*more=*/true, kSendTimeout);
    if (!status.ok()) return status;
    return SendFileAll(fd, file, static_cast<off_t>(plan.file_offset), plan.file_size,
                       kSendTimeout);
  }
  // The head and a body from memory in one sendmsg().
  return SendAll(fd, plan.head, plan.InMemoryBody(), /*more=*/false, kSendTimeout);
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
