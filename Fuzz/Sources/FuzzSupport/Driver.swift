import CLibFuzzer

#if canImport(Glibc)
import Glibc
#endif

/// Runs libFuzzer over `testOneInput` with the process's own arguments (`-max_total_time`,
/// corpus folders, ...) and exits with its status.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
