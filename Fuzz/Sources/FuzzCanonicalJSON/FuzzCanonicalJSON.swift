import CarbonModel
import FuzzSupport

/// Canonical JSON: what parses re-encodes to bytes that parse to the same value and
/// encode to the same bytes again; input already canonical encodes to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let canonicalInput = JSONValue.isCanonical(bytes)
    guard let value = try? JSONValue.parse(bytes) else {
        check(!canonicalInput, "isCanonical accepted what parse refuses")
        return 0
    }
    let canonical = value.canonicalBytes()
    guard let again = try? JSONValue.parse(canonical) else {
        check(false, "canonical output does not parse: \(value.canonicalString.debugDescription)")
        return 0
    }
    check(again == value, "canonical output parses to another value")
    check(again.canonicalBytes() == canonical, "canonical output is not stable")
    check(JSONValue.isCanonical(canonical), "canonical output is not canonical")
    check(canonicalInput == (canonical == bytes), "isCanonical disagrees with canonicalBytes()")
    return 0
}
