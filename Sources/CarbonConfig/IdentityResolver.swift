#if canImport(Glibc)
import Glibc
#endif

/// Looks up users and groups by the system's name service (or a fake in tests).
public protocol IdentityResolver: Sendable {
    /// The login name of `uid`, or `nil` when no user has it.
    func userName(uid: UInt32) -> String?
    /// The gid of the group called `name`, or `nil` when there is none.
    func groupID(name: String) -> UInt32?
    /// The supplementary groups of the user `uid` whose primary group is `primaryGID`.
    func supplementaryGroups(uid: UInt32, primaryGID: UInt32) -> [UInt32]
}

/// `IdentityResolver` over the C library: `getpwuid_r`, `getgrnam_r`, `getgrouplist`.
///
/// Every call asks the name service again, so a user added to a group is
/// recognised on their next connection without reloading the daemon.
public struct SystemIdentityResolver: IdentityResolver {
    /// The resolver over this system's name service.
    public init() {}

    public func userName(uid: UInt32) -> String? {
        withGrowingBuffer(initial: sysconf(Int32(_SC_GETPW_R_SIZE_MAX))) { buffer in
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            let status = getpwuid_r(uid, &entry, buffer.baseAddress!, buffer.count, &result)
            guard status == 0 else { return .failed(status) }
            return .done(result.map { String(cString: $0.pointee.pw_name) })
        }
    }

    public func groupID(name: String) -> UInt32? {
        withGrowingBuffer(initial: sysconf(Int32(_SC_GETGR_R_SIZE_MAX))) { buffer in
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            let status = getgrnam_r(name, &entry, buffer.baseAddress!, buffer.count, &result)
            guard status == 0 else { return .failed(status) }
            return .done(result.map { $0.pointee.gr_gid })
        }
    }

    public func supplementaryGroups(uid: UInt32, primaryGID: UInt32) -> [UInt32] {
        guard let name = userName(uid: uid) else { return [] }
        var capacity: Int32 = 64
        while capacity <= 65_536 {
            var groups = [gid_t](repeating: 0, count: Int(capacity))
            var count = capacity
            if getgrouplist(name, primaryGID, &groups, &count) >= 0 {
                return Array(groups.prefix(Int(count)))
            }
            // Too small: glibc set `count` to the number needed.
            capacity = max(count, capacity * 2)
        }
        return []
    }
}

private enum LookupStep<Value> {
    case done(Value?)
    case failed(Int32)
}

/// Runs a `*_r` lookup with a scratch buffer, doubling it while the call says ERANGE.
private func withGrowingBuffer<Value>(
    initial: Int, _ lookup: (UnsafeMutableBufferPointer<CChar>) -> LookupStep<Value>
) -> Value? {
    var size = initial > 0 ? initial : 1024
    while size <= 1 << 20 {
        let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: size)
        defer { buffer.deallocate() }
        switch lookup(buffer) {
        case .done(let value): return value
        case .failed(ERANGE): size *= 2
        case .failed: return nil
        }
    }
    return nil
}
