#include "common/send_response.h"

#include "absl/time/clock.h"
#include "common/conversation.h"
#include "common/log.h"
#include "common/socket.h"

namespace hs {

absl::Status SendResponse(int fd, const ResponsePlan& plan) {
  const bool has_file = plan.file.valid() && plan.file_size > 0;
  const bool has_body = has_file || !plan.body.empty();
  // MSG_MORE: the head waits in the kernel for the body, so a small response is one segment.
  // Never without a body: the head would wait for the kernel's 200 ms cork timer.
  absl::Status status = SendAll(fd, plan.head, /*more=*/has_body, kSendTimeout);
  if (!status.ok()) return status;
  if (has_file) {
    return SendFileAll(fd, plan.file.get(), static_cast<off_t>(plan.file_offset), plan.file_size,
                       kSendTimeout);
  }
  return SendAll(fd, plan.body, /*more=*/false, kSendTimeout);
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
