import FuzzSupport

// SwiftPM gives every executable its own entry point, so libFuzzer is started from here;
// `LLVMFuzzerTestOneInput` is the test itself.
runFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
