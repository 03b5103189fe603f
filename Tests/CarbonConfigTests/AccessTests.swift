import CarbonConfig
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// uid 1000 alice (primary group 1000, also in ops 2000), uid 1001 bob (primary 1001),
/// uid 0 root; the daemon runs as uid 990.
private let resolver = FakeIdentityResolver(
    users: [0: "root", 990: "carbonledger", 1000: "alice", 1001: "bob", 1002: "carol"],
    groups: ["root": 0, "ops": 2000, "auditors": 2001, "carbonledger-admin": 2002],
    memberships: [1000: [2000], 1002: [2001]]
)
private let daemonUID: UInt32 = 990

private func peer(_ uid: UInt32, _ gid: UInt32) -> PeerCredentials {
    PeerCredentials(uid: uid, gid: gid, pid: 4242)
}

private func access(_ toml: String) throws -> Access {
    Access(grants: try parse(toml).grants, daemonUID: daemonUID, resolver: resolver)
}

@Suite("Access")
struct AccessTests {
    @Test func noGrantsMeansNobody() {
        let access = Access(grants: [], daemonUID: daemonUID, resolver: resolver)
        #expect(access.authorize(peer(1000, 1000)) == nil)
        #expect(access.authorize(peer(daemonUID, daemonUID)) == nil)
    }

    @Test func rootWithoutAGrantGetsNothing() throws {
        let access = try access("""
            [[access.grant]]
            user = "alice"
            role = "admin"
            [[access.grant]]
            group = "ops"
            role = "reader"
            """)
        #expect(access.authorize(peer(0, 0)) == nil)
    }

    @Test func rootWithAGrantIsWhatItSays() throws {
        let access = try access("[[access.grant]]\nuid = 0\nrole = \"auditor\"")
        #expect(access.authorize(peer(0, 0))?.role == .auditor)
    }

    @Test func uidMatcher() throws {
        let access = try access("[[access.grant]]\nuid = 1001\nrole = \"utility\"\nutility = \"zj-grid\"")
        #expect(access.authorize(peer(1001, 1001)) == Authorization(role: .utility, utility: "zj-grid", consumers: [], grantIndex: 0))
        #expect(access.authorize(peer(1000, 1001)) == nil)  // a gid equal to the uid is not the uid
    }

    @Test func gidMatcherTakesPrimaryAndSupplementaryGroups() throws {
        let access = try access("[[access.grant]]\ngid = 2000\nrole = \"planner\"")
        #expect(access.authorize(peer(1001, 2000))?.role == .planner)  // process gid
        #expect(access.authorize(peer(1000, 1000))?.role == .planner)  // alice is in 2000
        #expect(access.authorize(peer(1001, 1001)) == nil)
    }

    @Test func userMatcher() throws {
        let access = try access("[[access.grant]]\nuser = \"bob\"\nrole = \"metrics\"")
        #expect(access.authorize(peer(1001, 1001))?.role == .metrics)
        #expect(access.authorize(peer(1000, 1000)) == nil)
        #expect(access.authorize(peer(4321, 4321)) == nil)  // a uid with no name
    }

    @Test func groupMatcherTakesPrimaryAndSupplementaryGroups() throws {
        let access = try access("[[access.grant]]\ngroup = \"ops\"\nrole = \"reader\"")
        #expect(access.authorize(peer(1000, 1000))?.role == .reader)  // supplementary
        #expect(access.authorize(peer(1001, 2000))?.role == .reader)  // primary
        #expect(access.authorize(peer(1001, 1001)) == nil)
    }

    @Test func groupThatDoesNotExistMatchesNobody() throws {
        let access = try access("[[access.grant]]\ngroup = \"no-such-group\"\nrole = \"admin\"")
        #expect(access.authorize(peer(1000, 1000)) == nil)
        #expect(access.authorize(peer(0, 0)) == nil)
    }

    @Test func selfMatchesTheDaemonsUser() throws {
        let access = try access("[[access.grant]]\nself = true\nrole = \"admin\"")
        #expect(access.authorize(peer(daemonUID, 5))?.role == .admin)
        #expect(access.authorize(peer(1000, daemonUID)) == nil)  // the daemon's uid, not its gid
        #expect(access.authorize(peer(0, 0)) == nil)
    }

    @Test func firstMatchingGrantWins() throws {
        let access = try access("""
            [[access.grant]]
            uid = 1002
            role = "consumer"
            consumers = ["c-1", "c-2", "c-1"]
            [[access.grant]]
            group = "ops"
            role = "reader"
            [[access.grant]]
            user = "alice"
            role = "admin"
            [[access.grant]]
            gid = 2001
            role = "auditor"
            """)
        // alice matches grants 1 (ops) and 2 (user): the earlier one decides.
        #expect(access.authorize(peer(1000, 1000)) == Authorization(role: .reader, utility: nil, consumers: [], grantIndex: 1))
        // carol matches grants 0 (uid) and 3 (supplementary gid 2001).
        #expect(access.authorize(peer(1002, 1002)) == Authorization(role: .consumer, utility: nil, consumers: ["c-1", "c-2"], grantIndex: 0))
        // carol's group-mates who are not carol get the auditor grant.
        #expect(access.authorize(peer(1001, 2001))?.grantIndex == 3)
        #expect(access.authorize(peer(1001, 1001)) == nil)
    }

    @Test func theSystemConfigGrantsTheAdminGroup() throws {
        let config = try Config.load(path: repositoryRoot + "/config/carbonledger.system.toml", baseDirectory: "/")
        let access = Access(grants: config.grants, daemonUID: daemonUID, resolver: resolver)
        #expect(access.authorize(peer(1001, 2002))?.role == .admin)
        #expect(access.authorize(peer(daemonUID, daemonUID)) == nil)
        #expect(access.authorize(peer(0, 0)) == nil)
    }

    @Test func systemResolverReadsTheNameService() {
        let system = SystemIdentityResolver()
        #expect(system.userName(uid: 0) == "root")
        #expect(system.groupID(name: "root") == 0)
        #expect(system.groupID(name: "no-such-group-carbonledger") == nil)
        #expect(system.supplementaryGroups(uid: 0, primaryGID: 0).contains(0))
        let me = getuid()
        if let name = system.userName(uid: me) {
            let access = Access(grants: [Grant(matcher: .user(name), role: .admin)], daemonUID: 1, resolver: system)
            #expect(access.authorize(PeerCredentials(uid: me, gid: getgid(), pid: getpid()))?.role == .admin)
        }
    }
}
