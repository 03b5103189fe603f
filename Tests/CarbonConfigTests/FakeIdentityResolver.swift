import CarbonConfig

/// A name service in a dictionary, so grant matching is tested without /etc/passwd.
struct FakeIdentityResolver: IdentityResolver {
    var users: [UInt32: String] = [:]
    var groups: [String: UInt32] = [:]
    /// Supplementary groups by uid.
    var memberships: [UInt32: [UInt32]] = [:]

    func userName(uid: UInt32) -> String? { users[uid] }
    func groupID(name: String) -> UInt32? { groups[name] }
    func supplementaryGroups(uid: UInt32, primaryGID: UInt32) -> [UInt32] {
        [primaryGID] + (memberships[uid] ?? [])
    }
}
