// Part of the command line (common/cli.h): the checks that name a user's mistake as typed.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/cli.h"

namespace hs {

// Seconds from 0 to 3600 written in decimal ("5", "0.25", ".5"; not "0x10", "1e3", "inf").
bool ParseDelay(absl::string_view text, absl::Duration& delay);

// Walks argv the way cxxopts does and reports, in the user's words, what cxxopts would report in
// its own terms or misread: `-d -3`, `-d5`, `--delay 2`, `-c -p 80`, an unknown option.
absl::Status CheckSpelling(int argc, const char* const* argv, const CommandLineSpec& spec);

}  // namespace hs
