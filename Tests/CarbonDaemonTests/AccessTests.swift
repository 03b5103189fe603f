import CarbonClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Roles decided from real kernel credentials (interface.md section 1): every request
/// here comes from a process running as a throwaway system user (setpriv + curl),
/// and the daemon's grants never name root.
@Suite struct AccessTests {
    /// The role-matrix grants: each matcher kind (uid, user, group, gid) gives some role.
    static func matrixGrants(_ users: TestUsers) -> String {
        [
            grant("uid = \(users.utility.uid)", "utility", #"utility = "u1""#),
            grant(#"user = "\#(users.consumer.name)""#, "consumer", #"consumers = ["c1"]"#),
            grant(#"group = "\#(TestUsers.readersGroup)""#, "reader"),
            grant("gid = \(users.auditorsGID)", "auditor"),
            grant(#"user = "\#(users.planner.name)""#, "planner"),
            grant("uid = \(users.metrics.uid)", "metrics"),
            grant(#"user = "\#(users.admin.name)""#, "admin"),
        ].joined(separator: "\n")
    }

    /// A daemon with the matrix grants, set up by its admin user: consumers c1 (u1) and
    /// c9 (u2), and one reading of each.
    static func matrixDaemon() throws -> (DaemonProcess, TestUsers) {
        let users = try TestUsers.shared.get()
        let factors = DaemonProcess.repositoryRoot.appendingPathComponent("config/factors/cn-mee-annual.csv").path
        let daemon = try DaemonProcess(
            grants: matrixGrants(users), extraConfig: "factors = [\"\(factors)\"]\n\(AccountingTests.manualClose)")
        try daemon.start()
        let admin = users.peer(for: .admin)
        for probe in Probe.writes {
            let answer = try daemon.send(probe.method, probe.path, as: admin, contentType: probe.contentType, body: probe.body)
            try #require(answer.status == 200, "setup \(probe.name): \(answer.text)")
        }
        return (daemon, users)
    }

    /// The matrix daemon's application in this process: the same grants and setup, the
    /// throwaway users' credentials given to each request instead of their processes.
    static func matrixApplication() async throws -> (InProcessDaemon, TestUsers) {
        let users = try TestUsers.shared.get()
        let factors = DaemonProcess.repositoryRoot.appendingPathComponent("config/factors/cn-mee-annual.csv").path
        let daemon = try await InProcessDaemon(
            grants: matrixGrants(users), extraConfig: "factors = [\"\(factors)\"]\n\(AccountingTests.manualClose)")
        let admin = users.peer(for: .admin)
        for probe in Probe.writes {
            let answer = try await daemon.send(probe.method, probe.path, as: admin, contentType: probe.contentType, body: probe.body)
            try #require(answer.status == 200, "setup \(probe.name): \(answer.text)")
        }
        return (daemon, users)
    }

    @Test(arguments: GrantRole.allCases)
    func eachRoleMayDoExactlyWhatSection1Says(role: GrantRole) throws {
        let (daemon, users) = try Self.matrixDaemon()
        let peer = users.peer(for: role)
        for probe in Probe.all {
            let answer = try daemon.send(probe.method, probe.path, as: peer, contentType: probe.contentType, body: probe.body)
            if probe.allowed.contains(role) {
                #expect(answer.status == 200, "\(role) \(probe.name): \(answer.text)")
                if probe.method == "POST" && probe.body != nil {
                    // The setup stored these already: a repeat is a duplicate, nothing new.
                    let json = try answer.json()
                    #expect(json["accepted"] as? Int == 0, "\(role) \(probe.name): \(answer.text)")
                    #expect((json["duplicates"] as? Int ?? 0) >= 1, "\(role) \(probe.name): \(answer.text)")
                }
            } else {
                expectForbidden(answer, "\(role) \(probe.name)")
            }
        }
    }

    @Test(arguments: GrantRole.allCases)
    func whoamiReportsTheKernelCredentialsAndTheGrant(role: GrantRole) throws {
        let (daemon, users) = try Self.matrixDaemon()
        let peer = users.peer(for: role)
        let answer = try daemon.send("GET", "/v1/whoami", as: peer)
        guard role != .metrics else {
            expectForbidden(answer, "metrics whoami")
            return
        }
        let json = try answer.json()
        #expect(answer.status == 200, "\(answer.text)")
        #expect(json["uid"] as? Int == Int(peer.account.uid), "\(answer.text)")
        #expect(json["gid"] as? Int == Int(peer.gid), "\(answer.text)")
        #expect((json["pid"] as? Int ?? 0) > 0, "\(answer.text)")
        #expect(json["role"] as? String == role.rawValue, "\(answer.text)")
        #expect(json["grant"] as? Int == GrantRole.allCases.firstIndex(of: role), "\(answer.text)")
        #expect(json["utility"] as? String == (role == .utility ? "u1" : nil), "\(answer.text)")
        #expect(json["consumers"] as? [String] == (role == .consumer ? ["c1"] : nil), "\(answer.text)")
    }

    @Test func onlyTheAdminClosesAPeriod() throws {
        let (daemon, users) = try Self.matrixDaemon()
        for role in GrantRole.allCases where role != .admin {
            expectForbidden(
                try daemon.send("POST", "/v1/periods/\(Probe.period)/close", as: users.peer(for: role)), "\(role) close")
        }
        let closed = try daemon.send("POST", "/v1/periods/\(Probe.period)/close", as: users.peer(for: .admin))
        #expect(closed.status == 200, "\(closed.text)")
        #expect(try closed.json()["consumers"] as? Int == 2)
    }

    @Test func peersWithoutAGrantGet403OnEverythingRootIncluded() throws {
        let (daemon, users) = try Self.matrixDaemon()
        // A plain user, and root itself (the daemon runs as root; no grant names uid 0).
        for peer in [Peer.user(users.nogrant), .test] {
            for probe in Probe.all + [Probe.newReading] {
                let answer = try daemon.send(probe.method, probe.path, as: peer, contentType: probe.contentType, body: probe.body)
                expectForbidden(answer, "\(peer) \(probe.name)")
            }
        }
        // Nothing the refused writes carried was stored.
        let admin = users.peer(for: .admin)
        #expect(try daemon.send("GET", Probe.newReading.proofPath, as: admin).status == 404)
    }

    @Test func gidGrantMatchesTheProcessGroupAndGroupGrantTheMembership() throws {
        let (daemon, users) = try Self.matrixDaemon()
        // gid: the auditor matches only while its process runs with that group id.
        #expect(try daemon.role(of: .user(users.auditor, gid: users.auditorsGID)) == "auditor")
        expectForbidden(try daemon.send("GET", "/v1/whoami", as: .user(users.auditor)), "auditor with its own gid")
        // group: membership comes from the group database, whatever the process carries
        // (SO_PEERCRED has no supplementary groups), so both spellings match.
        #expect(try daemon.role(of: .user(users.reader, groups: .initGroups)) == "reader")
        #expect(try daemon.role(of: .user(users.reader, groups: .clear)) == "reader")
        // Primary group of the group grant's name counts too: a process running as gid(cltest-readers).
        #expect(try daemon.role(of: .user(users.nogrant, gid: users.readersGID)) == "reader")
    }

    /// Membership is the group database's answer when the peer connects
    /// (SystemIdentityResolver: "a user added to a group is recognised on their next
    /// connection without reloading the daemon"); a removal must take effect as soon.
    @Test func groupMembershipChangesTakeEffectOnTheNextConnection() throws {
        let users = try TestUsers.shared.get()
        let joiner = Peer.user(users.joiner)
        defer { try? users.setJoinerMembership(false) }
        // Joining, then leaving, each on a daemon that has seen the peer before the change.
        for initially in [false, true] {
            let daemon = try DaemonProcess(grants: grant(#"group = "\#(TestUsers.joinersGroup)""#, "reader"))
            try daemon.start()
            try users.setJoinerMembership(initially)
            #expect(try daemon.role(of: joiner) == (initially ? "reader" : nil), "member: \(initially)")
            try users.setJoinerMembership(!initially)
            #expect(try daemon.role(of: joiner) == (initially ? nil : "reader"),
                    "\(initially ? "removed from" : "added to") \(TestUsers.joinersGroup), the next connection")
        }
    }

    @Test func theFirstMatchingGrantWins() throws {
        let users = try TestUsers.shared.get()
        // cltest-both is in group cltest-readers and also has a uid grant of its own.
        let byGroup = grant(#"group = "\#(TestUsers.readersGroup)""#, "reader")
        let byUID = grant("uid = \(users.both.uid)", "admin")
        // (grants, role of cltest-both, its status on entries, the grant cltest-reader matches)
        for (grants, expected) in [([byGroup, byUID], ("reader", 403, 0)), ([byUID, byGroup], ("admin", 200, 1))] {
            let daemon = try DaemonProcess(grants: grants.joined(separator: "\n"))
            try daemon.start()
            let whoami = try daemon.send("GET", "/v1/whoami", as: .user(users.both)).json()
            #expect(whoami["role"] as? String == expected.0, "\(whoami)")
            #expect(whoami["grant"] as? Int == 0, "\(whoami)")
            // The role decides, not only whoami: entries are for auditors and admins.
            #expect(try daemon.send("GET", "/v1/ledger/entries", as: .user(users.both)).status == expected.1)
            // The other grant still serves the peers it matches.
            let reader = try daemon.send("GET", "/v1/whoami", as: .user(users.reader)).json()
            #expect(reader["role"] as? String == "reader" && reader["grant"] as? Int == expected.2, "\(reader)")
        }
    }

    @Test func socketModeAndGroupKeepNonMembersFromConnecting() throws {
        let users = try TestUsers.shared.get()
        let daemon = try DaemonProcess(grants: [
            grant(#"user = "\#(users.sockmember.name)""#, "reader"),
            grant(#"user = "\#(users.reader.name)""#, "reader"),
        ].joined(separator: "\n"))
        let config = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        let modeLine = #"socket_mode = "0666""#
        try #require(config.contains(modeLine))
        try config.replacingOccurrences(of: modeLine, with: "socket_mode = \"0660\"\nsocket_group = \"\(TestUsers.socketGroup)\"")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        try daemon.start()
        // The daemon sets mode and group once it listens: wait for that, not for a time.
        let applied = waitUntil {
            var info = stat()
            return stat(daemon.socket, &info) == 0 && info.st_mode & 0o7777 == 0o660 && info.st_gid == users.socketGID
        }
        try #require(applied, "the socket never got mode 0660 and group \(TestUsers.socketGroup)")

        // A member of the socket group (in its process groups) connects and is served.
        #expect(try daemon.role(of: .user(users.sockmember, groups: .initGroups)) == "reader")
        // Without the group in the process, the kernel refuses the connection: curl exit 7.
        for peer in [Peer.user(users.reader, groups: .initGroups), .user(users.sockmember, groups: .clear)] {
            let failure = #expect(throws: CurlFailure.self, "\(peer) connected to a 0660 socket of another group") {
                try daemon.send("GET", "/v1/whoami", as: peer)
            }
            #expect(failure?.exitCode == 7, "\(String(describing: failure))")
        }
    }
}

// MARK: - Roles and probes

/// The roles of interface.md section 1, in the order of `AccessTests.matrixGrants`.
enum GrantRole: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case utility, consumer, reader, auditor, planner, metrics, admin

    var testDescription: String { rawValue }
}

/// One request of the role matrix and the roles that may make it.
struct Probe: Sendable {
    var name: String
    var method = "GET"
    var path: String
    var contentType: String? = nil
    var body: String? = nil
    var allowed: Set<GrantRole>

    static let everyone = Set(GrantRole.allCases)
    static let granted = everyone.subtracting([.metrics])
    /// Who may read consumer c1 of utility u1 (the consumer grant is bound to c1).
    static let readC1: Set<GrantRole> = [.utility, .consumer, .reader, .auditor, .admin]
    /// Who may read consumer c9 of utility u2.
    static let readC9: Set<GrantRole> = [.reader, .auditor, .admin]

    static let start = 1_790_000_000 / 3600 * 3600
    /// The month of `start` in the program time zone.
    static let period = "2026-09"

    static func readingLine(_ utility: String, _ meter: String, _ consumer: String, hour: Int = 0) -> String {
        #"{"utility":"\#(utility)","meter":"\#(meter)","consumer":"\#(consumer)","start":\#(start + hour * 3600),"duration_s":3600,"import_wh":100}"#
    }

    static func consumerLine(_ id: String, _ utility: String) -> String {
        #"{"consumer":"\#(id)","utility":"\#(utility)","zone":"CN-ZJ","class":"residential"}"#
    }

    static func post(_ name: String, _ path: String, _ body: String, _ allowed: Set<GrantRole>) -> Probe {
        Probe(name: name, method: "POST", path: path, contentType: "application/x-ndjson", body: body, allowed: allowed)
    }

    /// The writes of the setup; repeated by the matrix, they are duplicates.
    static let writes = [
        post("POST /v1/consumers (u1)", "/v1/consumers", consumerLine("c1", "u1"), [.utility, .admin]),
        post("POST /v1/consumers (u2)", "/v1/consumers", consumerLine("c9", "u2"), [.admin]),
        post("POST /v1/readings (u1)", "/v1/readings", readingLine("u1", "m1", "c1"), [.utility, .admin]),
        post("POST /v1/readings (u2)", "/v1/readings", readingLine("u2", "m9", "c9"), [.admin]),
    ]

    static let reads = [
        Probe(name: "backup", method: "POST", path: "/v1/admin/backup", allowed: [.admin]),
        Probe(name: "health", path: "/v1/health", allowed: everyone),
        Probe(name: "whoami", path: "/v1/whoami", allowed: granted),
        Probe(name: "consumer c1 (u1)", path: "/v1/consumers/c1", allowed: readC1),
        Probe(name: "consumer c9 (u2)", path: "/v1/consumers/c9", allowed: readC9),
        Probe(name: "reading proof (c1)", path: "/v1/readings/u1/m1/\(start)/proof", allowed: readC1),
        Probe(name: "reading proof (c9)", path: "/v1/readings/u2/m9/\(start)/proof", allowed: readC9),
        Probe(name: "checkpoint", path: "/v1/ledger/checkpoint", allowed: granted),
        Probe(name: "key", path: "/v1/ledger/key", allowed: granted),
        Probe(name: "inclusion proof", path: "/v1/ledger/proof/inclusion?index=0&size=2", allowed: granted),
        Probe(name: "consistency proof", path: "/v1/ledger/proof/consistency?from=1&to=2", allowed: granted),
        Probe(name: "entries", path: "/v1/ledger/entries?start=0&end=5", allowed: [.auditor, .admin]),
        Probe(name: "metrics", path: "/metrics", allowed: [.metrics, .admin]),
        Probe(name: "score c1 (u1)", path: "/v1/consumers/c1/score?period=\(period)", allowed: readC1),
        Probe(name: "score c9 (u2)", path: "/v1/consumers/c9/score?period=\(period)", allowed: readC9),
        Probe(name: "emissions c1 (u1)", path: "/v1/consumers/c1/emissions?from=\(period)&to=\(period)", allowed: readC1),
        Probe(name: "emissions c9 (u2)", path: "/v1/consumers/c9/emissions?from=\(period)&to=\(period)", allowed: readC9),
        Probe(name: "incentives", path: "/v1/incentives?period=\(period)", allowed: [.reader, .auditor, .admin]),
        Probe(name: "inventory", path: "/v1/zones/CN/inventory?from=\(period)", allowed: [.planner, .reader, .auditor, .admin]),
    ]

    static let all = reads + writes

    /// A reading nobody stored: refused writes of it must leave no proof.
    static let newReading = post("POST /v1/readings (new)", "/v1/readings", readingLine("u1", "m1", "c1", hour: 5), [.utility, .admin])
    var proofPath: String { "/v1/readings/u1/m1/\(Self.start + 5 * 3600)/proof" }
}

/// A `[[access.grant]]` table.
func grant(_ matcher: String, _ role: String, _ binding: String = "") -> String {
    """
    [[access.grant]]
    \(matcher)
    role = "\(role)"
    \(binding)
    """
}

/// A 403 answered as problem+json.
func expectForbidden(_ answer: HTTPResponse, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(answer.status == 403, "\(what): \(answer.status) \(answer.text)", sourceLocation: sourceLocation)
    #expect(answer.header("Content-Type")?.hasPrefix("application/problem+json") == true,
            "\(what): \(answer.headers)", sourceLocation: sourceLocation)
    let status = (try? answer.json())?["status"] as? Int
    #expect(status == 403, "\(what): \(answer.text)", sourceLocation: sourceLocation)
}

/// Polls `condition` until it holds (true) or 30 s pass (false).
func waitUntil(_ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}

// MARK: - Throwaway users

/// A system account.
struct Account: Sendable, CustomStringConvertible {
    var name: String
    var uid: UInt32
    var gid: UInt32

    var description: String { name }
}

/// The throwaway system users and groups of the access tests, created once per test
/// run (left in place for the next run; creation is skipped for those that exist).
struct TestUsers: Sendable {
    static let readersGroup = "cltest-readers"
    static let auditorsGroup = "cltest-auditors"
    static let socketGroup = "cltest-sock"
    /// Only `groupMembershipChangesTakeEffectOnTheNextConnection` changes who is in it.
    static let joinersGroup = "cltest-joiners"

    var utility, consumer, reader, auditor, planner, metrics, admin, nogrant, both, sockmember, joiner: Account
    var readersGID, auditorsGID, socketGID, joinersGID: UInt32

    /// Created on first use, once for all tests.
    static let shared = Result { try TestUsers() }

    private init() throws {
        readersGID = try Self.group(Self.readersGroup)
        auditorsGID = try Self.group(Self.auditorsGroup)
        socketGID = try Self.group(Self.socketGroup)
        joinersGID = try Self.group(Self.joinersGroup)
        utility = try Self.user("cltest-utility")
        consumer = try Self.user("cltest-consumer")
        reader = try Self.user("cltest-reader", groups: [Self.readersGroup])
        auditor = try Self.user("cltest-auditor")  // not a member of cltest-auditors
        planner = try Self.user("cltest-planner")
        metrics = try Self.user("cltest-metrics")
        admin = try Self.user("cltest-admin")
        nogrant = try Self.user("cltest-nogrant")
        both = try Self.user("cltest-both", groups: [Self.readersGroup])
        sockmember = try Self.user("cltest-sockmember", groups: [Self.socketGroup])
        joiner = try Self.user("cltest-joiner")
    }

    /// Adds the joiner to, or removes it from, cltest-joiners in the group database.
    func setJoinerMembership(_ member: Bool) throws {
        var listed: [String] = []
        var next = getgrnam(Self.joinersGroup)?.pointee.gr_mem
        while let name = next?.pointee {
            listed.append(String(cString: name))
            next = next?.advanced(by: 1)
        }
        guard listed.contains(joiner.name) != member else { return }
        try runProgram("/usr/sbin/usermod", (member ? ["-aG"] : ["-rG"]) + [Self.joinersGroup, joiner.name])
    }

    /// The peer of the matrix grants for `role` (the auditor runs as gid cltest-auditors).
    func peer(for role: GrantRole) -> Peer {
        switch role {
        case .utility: .user(utility)
        case .consumer: .user(consumer)
        case .reader: .user(reader)
        case .auditor: .user(auditor, gid: auditorsGID)
        case .planner: .user(planner)
        case .metrics: .user(metrics)
        case .admin: .user(admin)
        }
    }

    private static func group(_ name: String) throws -> UInt32 {
        if getgrnam(name) == nil { try runProgram("/usr/sbin/groupadd", ["--system", name]) }
        guard let entry = getgrnam(name) else { throw DaemonTestFailure("groupadd \(name) made no group") }
        return entry.pointee.gr_gid
    }

    private static func user(_ name: String, groups: [String] = []) throws -> Account {
        if getpwnam(name) == nil {
            let primary = getgrnam(name) == nil ? ["--user-group"] : ["--gid", name]
            try runProgram("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin"] + primary + [name])
        }
        if !groups.isEmpty { try runProgram("/usr/sbin/usermod", ["-aG", groups.joined(separator: ","), name]) }
        guard let entry = getpwnam(name) else { throw DaemonTestFailure("useradd \(name) made no user") }
        return Account(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }
}

/// Runs a program to its end; returns its exit status, standard output and error.
@discardableResult
func runProgram(_ program: String, _ arguments: [String], check: Bool = true) throws -> (status: Int32, out: Data, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if check && process.terminationStatus != 0 {
        throw DaemonTestFailure("\(program) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(error)")
    }
    return (process.terminationStatus, output, error)
}

// MARK: - Peers

/// Who sends a request: this test process (root), or a throwaway user through
/// `setpriv ... curl` so the daemon sees that user's uid and gid in SO_PEERCRED.
enum Peer: Sendable, CustomStringConvertible {
    /// How the user's process gets its supplementary groups.
    enum Groups: Sendable { case clear, initGroups }

    case test
    case user(Account, gid: UInt32? = nil, groups: Groups = .clear)

    var account: Account {
        switch self {
        case .test: Account(name: "root", uid: getuid(), gid: getgid())
        case .user(let account, _, _): account
        }
    }

    var gid: UInt32 {
        switch self {
        case .test: getgid()
        case .user(let account, let gid, _): gid ?? account.gid
        }
    }

    var description: String {
        switch self {
        case .test: "root (the test process)"
        case .user(let account, let gid, let groups): "\(account.name) (gid \(gid ?? account.gid), \(groups))"
        }
    }
}

/// curl could not make the request at all (for instance, exit 7: could not connect).
struct CurlFailure: Error, CustomStringConvertible {
    var exitCode: Int32
    var message: String
    var description: String { "curl exited \(exitCode): \(message)" }
}

extension DaemonProcess {
    /// One request to this daemon from `peer`.
    @discardableResult
    func send(
        _ method: String, _ path: String, as peer: Peer = .test, contentType: String? = nil, body: String? = nil,
        headers: [(String, String)] = []
    ) throws -> HTTPResponse {
        try send(method, path, as: peer, contentType: contentType, bytes: body.map { Array($0.utf8) }, headers: headers)
    }

    @discardableResult
    func send(
        _ method: String, _ path: String, as peer: Peer = .test, contentType: String? = nil, bytes: [UInt8]?,
        headers: [(String, String)] = []
    ) throws -> HTTPResponse {
        let allHeaders = (contentType.map { [("Content-Type", $0)] } ?? []) + headers
        switch peer {
        case .test:
            return try client().request(method, path, headers: allHeaders, body: bytes ?? [])
        case .user(let account, let gid, let groups):
            return try curl(method, path, uid: account.uid, gid: gid ?? account.gid, groups: groups,
                            headers: allHeaders, body: bytes)
        }
    }

    /// The role `peer` is given (`whoami`), or nil when it has none.
    func role(of peer: Peer) throws -> String? {
        let answer = try send("GET", "/v1/whoami", as: peer)
        return answer.status == 200 ? try answer.json()["role"] as? String : nil
    }

    private func curl(
        _ method: String, _ path: String, uid: UInt32, gid: UInt32, groups: Peer.Groups,
        headers: [(String, String)], body: [UInt8]?
    ) throws -> HTTPResponse {
        var arguments = ["--reuid=\(uid)", "--regid=\(gid)", groups == .clear ? "--clear-groups" : "--init-groups",
                         "curl", "-sS", "-i", "--unix-socket", socket, "-X", method, "-H", "Expect:"]
        arguments += headers.flatMap { ["-H", "\($0.0): \($0.1)"] }
        var bodyFile: String?
        if let body {
            let file = directory.appendingPathComponent("body-\(UUID().uuidString)").path
            guard FileManager.default.createFile(atPath: file, contents: Data(body), attributes: [.posixPermissions: 0o644]) else {
                throw DaemonTestFailure("cannot write \(file)")
            }
            bodyFile = file
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) { arguments += ["-H", "Content-Type:"] }
            arguments += ["--data-binary", "@" + file]
        }
        defer { bodyFile.map { try? FileManager.default.removeItem(atPath: $0) } }
        let (status, out, err) = try runProgram("/usr/bin/setpriv", arguments + ["http://localhost" + path], check: false)
        guard status == 0 else { throw CurlFailure(exitCode: status, message: err) }
        return try Self.parseCurlOutput(Array(out))
    }

    /// `curl -i` output: the status line and headers, a blank line, the body.
    private static func parseCurlOutput(_ bytes: [UInt8]) throws -> HTTPResponse {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw DaemonTestFailure("curl printed no HTTP head: \(String(decoding: bytes, as: UTF8.self))")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw DaemonTestFailure("not an HTTP status line: \(lines[0])")
        }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return HTTPResponse(status: status, headers: headers, body: Array(bytes[(end + 4)...]))
    }
}
