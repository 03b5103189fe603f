#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, for programs that have their own `main` (llvm.org/docs/LibFuzzer.html,
/// "Using libFuzzer as a library"). SwiftPM links every executable with its own entry
/// point, so libFuzzer's `main` is never used and the targets call this instead.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
