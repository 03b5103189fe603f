// The declaration is all this module provides; the definition is in libclang_rt.fuzzer,
// linked by `-sanitize=fuzzer`.
#include "CLibFuzzer.h"
